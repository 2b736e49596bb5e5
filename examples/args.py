"""Every argument kind: positional-only, positional-or-keyword, *args,
keyword-only, **kwargs, defaults, and values of many types."""


def every_kind(a, b, /, c, d=4, *rest, e, f=6, **options):
    return a + b + c + d + len(rest) + e + f + len(options)


def values(none, flag, big, real, text, raw, items, pair, unique, frozen, mapping):
    return len(items) + len(mapping)


def only_varargs(*args, **kwargs):
    return args, kwargs


if __name__ == "__main__":
    print(every_kind(1, 2, 3, e=5))
    print(every_kind(1, 2, c=3, e=5))
    print(every_kind(1, 2, 3, 4, 5, 6, 7, e=8, f=9, g=10, h=11))
    print(values(None, True, 2**80, 1.5, "tëxt\n", b"\x00raw", [1, [2, 3]], (4, "five"), {6}, frozenset({7}), {"k": [8]}))
    print(only_varargs())
    print(only_varargs(1, "two", three=3))
