"""Class instances, dicts, properties, a self-referencing list and a misbehaving __repr__."""


class Point:
    def __init__(self, x, y):
        self.x = x
        self.y = y

    @property
    def norm2(self):
        return self.x * self.x + self.y * self.y

    def moved(self, dx, dy=0):
        return Point(self.x + dx, self.y + dy)


class Slotted:
    __slots__ = ("name",)

    def __init__(self, name):
        self.name = name


class Hostile:
    def __repr__(self):
        raise RuntimeError("repr refuses")

    def __getattr__(self, name):
        raise RuntimeError(f"no {name}")


def inspect(point, registry, loop, hostile):
    return point.norm2 + len(registry) + len(loop)


def main():
    loop = []
    loop.append(loop)
    registry = {"origin": Point(0, 0), "names": ["a", "b"], 3: (1, 2)}
    point = Point(3, 4).moved(1, dy=2)
    print(inspect(point, registry, loop, Hostile()), Slotted("s").name)


if __name__ == "__main__":
    main()
