"""Recorder core: exact value encodings per argument kind (seed ISSUE-001/002/004/005),
balanced calls for generators and exceptions, no user code run while encoding, and
fail fast (ISSUE-007). Every program runs in a real subprocess through the CLI."""

from __future__ import annotations

from conftest import (
    clean_env,
    is_absent,
    payloads as names,
    record_events as record,
    run,
    write_script,
)


def call_args(events: list[dict], function: str) -> dict[str, dict]:
    """``{parameter: value record}`` of the first call of ``function``."""
    functions = [record["name"] for record in names(events, "Function")]
    variables = names(events, "VariableName")
    for call in names(events, "Call"):
        if functions[call["function_id"]] == function:
            return {variables[arg["variable_id"]]: arg["value"] for arg in call["args"]}
    raise AssertionError(f"no call of {function}")


def lang_type(events: list[dict], value: dict) -> str:
    return names(events, "Type")[value["type_id"]]["lang_type"]


def strip_types(value):
    """A value record without type ids, for exact comparisons."""
    if isinstance(value, dict):
        return {key: strip_types(item) for key, item in value.items() if key != "type_id"}
    if isinstance(value, list):
        return [strip_types(item) for item in value]
    return value


def assert_balanced(events: list[dict]) -> None:
    depth: dict[int, int] = {}
    thread = None
    for event in events:
        if "ThreadStart" in event or "ThreadSwitch" in event:
            thread = event.get("ThreadStart", event.get("ThreadSwitch"))
        elif "Call" in event:
            depth[thread] = depth.get(thread, 0) + 1
        elif "Return" in event:
            depth[thread] = depth.get(thread, 0) - 1
            assert depth[thread] >= 0, f"thread {thread} returns more than it calls"
    assert all(level == 0 for level in depth.values()), depth


def test_positional_arguments_are_recorded_with_their_values(tmp_path):
    events = record(tmp_path, "def f(a, b):\n    return a + b\nf(1, 2)\n")
    args = call_args(events, "f")
    assert strip_types(args) == {"a": {"kind": "Int", "i": 1}, "b": {"kind": "Int", "i": 2}}
    assert lang_type(events, args["a"]) == "int"


def test_every_argument_kind_has_an_exact_structured_encoding(tmp_path):
    events = record(
        tmp_path,
        "def f(p, /, q, *args, r, **kwargs):\n    return p\nf(1, 2, 3, 4, r=5, k='v')\n",
    )
    args = call_args(events, "f")
    assert list(args) == ["p", "q", "r", "args", "kwargs"]
    assert strip_types(args["p"]) == {"kind": "Int", "i": 1}
    assert strip_types(args["q"]) == {"kind": "Int", "i": 2}
    assert strip_types(args["r"]) == {"kind": "Int", "i": 5}
    assert strip_types(args["args"]) == {
        "kind": "Sequence",
        "elements": [{"kind": "Int", "i": 3}, {"kind": "Int", "i": 4}],
        "is_slice": False,
    }
    assert lang_type(events, args["args"]) == "tuple"
    assert strip_types(args["kwargs"]) == {
        "kind": "Sequence",
        "elements": [
            {"kind": "Tuple", "elements": [{"kind": "String", "text": "k"}, {"kind": "String", "text": "v"}]}
        ],
        "is_slice": False,
    }
    assert lang_type(events, args["kwargs"]) == "dict"


def test_str_is_always_an_exact_string(tmp_path):
    events = record(tmp_path, "def f(x, y):\n    return x\nf('x', 'multi\\nline \\u00e9')\n")
    args = call_args(events, "f")
    assert strip_types(args["x"]) == {"kind": "String", "text": "x"}
    assert strip_types(args["y"]) == {"kind": "String", "text": "multi\nline \u00e9"}
    assert lang_type(events, args["x"]) == "str"


def test_scalars_and_containers(tmp_path):
    events = record(
        tmp_path,
        "def f(n, t, b, fl, big, by, tup, s, none):\n    return n\n"
        "f(None, True, False, 1.5, -2**70, b'a\\x00', (1, 'a'), {7}, None)\n",
    )
    args = call_args(events, "f")
    assert strip_types(args["n"]) == {"kind": "None"}
    assert strip_types(args["t"]) == {"kind": "Bool", "b": True}
    assert strip_types(args["b"]) == {"kind": "Bool", "b": False}
    assert strip_types(args["fl"]) == {"kind": "Float", "f": 1.5}
    big = args["big"]
    assert big["kind"] == "BigInt" and big["negative"] is True
    assert strip_types(args["by"]) == {"kind": "Raw", "r": "b'a\\x00'"}
    assert lang_type(events, args["by"]) == "bytes"
    assert strip_types(args["tup"]) == {
        "kind": "Tuple",
        "elements": [{"kind": "Int", "i": 1}, {"kind": "String", "text": "a"}],
    }
    assert strip_types(args["s"]) == {"kind": "Sequence", "elements": [{"kind": "Int", "i": 7}], "is_slice": False}
    assert lang_type(events, args["s"]) == "set"


def test_objects_are_read_without_running_their_code(tmp_path):
    events = record(
        tmp_path,
        """
        class Trap:
            def __init__(self):
                self.x = 1
            def __repr__(self):
                raise RuntimeError("repr")
            def __getattr__(self, name):
                raise RuntimeError("getattr")
            @property
            def p(self):
                raise RuntimeError("property")

        def f(obj, loop):
            return obj

        loop = []
        loop.append(loop)
        f(Trap(), loop)
        """,
    )
    args = call_args(events, "f")
    assert strip_types(args["obj"]) == {"kind": "Struct", "field_values": [{"kind": "Int", "i": 1}]}
    assert lang_type(events, args["obj"]) == "__main__.Trap"
    assert strip_types(args["loop"]) == {
        "kind": "Sequence",
        "elements": [{"kind": "Raw", "r": "<recursion>"}],
        "is_slice": False,
    }


def test_generators_and_exceptions_stay_balanced(tmp_path):
    events = record(
        tmp_path,
        """
        def gen():
            yield 1
            yield 2

        def boom():
            raise KeyError("k")

        def outer():
            try:
                boom()
            except KeyError:
                pass
            g = gen()
            next(g)
            g.close()
            return sum(gen())

        outer()
        """,
    )
    assert_balanced(events)
    raised = [event["Event"] for event in events if "Event" in event]
    assert {"kind": 11, "metadata": "raise", "content": "KeyError: k"} in raised


def test_a_failing_callback_detaches_and_print_still_works(tmp_path, fixtures_python):
    """ISSUE-007: the first callback error switches every callback off at once;
    the program's own ``print(e)`` afterwards triggers no further recorder error."""
    out = tmp_path / "trace"
    script = write_script(
        tmp_path,
        f"""
        import codetracer_python_recorder as recorder

        def f(x):
            return x

        recorder.start({str(out)!r})
        for i in range(10):
            f(i)
        print("tracing:", recorder.is_tracing())
        try:
            recorder.stop()
        except recorder.RecorderError as e:
            print("caught", type(e).__name__, e.code)
            print(e)
        recorder.stop()
        print("done")
        """,
    )
    env = {"FAILPOINTS": "recorder::callback=3*off->return"}

    result = run([str(script)], python=fixtures_python, env=clean_env(**env))
    assert result.returncode == 0, result.describe()
    lines = result.stdout.splitlines()
    assert lines[0] == "tracing: False"
    assert lines[1] == "caught InternalError ERR_UNKNOWN"
    assert lines[-1] == "done"
    assert is_absent(out)
