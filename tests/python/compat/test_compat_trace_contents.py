"""What a JSON trace holds for a 0.3-style program: calls, returns, threads
and exceptions, event by event."""

from __future__ import annotations

from compat_support import called_functions, differs, events, run, run_cli, write

PROGRAM = """
def fails():
    raise ValueError("bad")
def main():
    try:
        fails()
    except ValueError:
        return 1
main()
"""


def _events(tmp_path) -> list[dict]:
    script = write(tmp_path, PROGRAM)
    out = tmp_path / "out"
    result = run_cli(["--trace-dir", str(out), "--format", "json", str(script)])
    assert result.returncode == 0, result.describe()
    return events(out)


def _returns(found: list[dict]) -> list[dict]:
    return [event["Return"]["return_value"] for event in found if "Return" in event]


def test_calls_and_returns_balance_and_a_function_returns_its_value(tmp_path):
    found = _events(tmp_path)
    assert sum("Call" in event for event in found) == sum("Return" in event for event in found)
    assert {"kind": "Int", "i": 1} in [{"kind": value["kind"], "i": value.get("i")} for value in _returns(found)]


@differs("exception-events")
def test_a_raised_and_handled_exception_is_recorded_as_events(tmp_path):
    found = _events(tmp_path)
    logged = [(event["Event"]["metadata"], event["Event"]["content"]) for event in found if "Event" in event]
    assert ("raise", "ValueError: bad") in logged and ("exception_handled", "ValueError: bad") in logged
    assert _returns(found)[0]["kind"] == "Error"


@differs("thread-start")
def test_the_main_threads_events_open_with_thread_start(tmp_path):
    assert any("ThreadStart" in event for event in _events(tmp_path))


def test_the_toplevel_call_returns_the_exit_status(tmp_path):
    last = _returns(_events(tmp_path))[-1]
    assert (last["kind"], last.get("i")) == ("Int", 0)


VALUES = """
class Point:
    def __init__(self):
        self.x = 1
def f():
    i = 1
    s = "hi"
    b = True
    n = None
    l = [1, 2]
    t = (1, "a")
    fl = 2.5
    o = Point()
    return 0
f()
"""


def _last_values(tmp_path) -> dict[str, tuple[dict, str]]:
    """Each variable's last value (without type ids) and its type's name."""
    script = write(tmp_path, VALUES)
    out = tmp_path / "out"
    result = run_cli(["--trace-dir", str(out), "--format", "json", str(script)])
    assert result.returncode == 0, result.describe()
    found = events(out)
    names = [event["VariableName"] for event in found if "VariableName" in event]
    types = [event["Type"]["lang_type"] for event in found if "Type" in event]

    def plain(value):
        if isinstance(value, dict):
            return {key: plain(item) for key, item in value.items() if key != "type_id"}
        if isinstance(value, list):
            return [plain(item) for item in value]
        return value

    last = {}
    for event in found:
        if "Value" in event:
            value = event["Value"]["value"]
            last[names[event["Value"]["variable_id"]]] = (plain(value), types[value["type_id"]])
    return last


def test_ints_strings_bools_none_lists_and_tuples_are_encoded_as_in_03(tmp_path):
    values = {name: value for name, (value, _) in _last_values(tmp_path).items()}
    assert values["i"] == {"kind": "Int", "i": 1}
    assert values["s"] == {"kind": "String", "text": "hi"}
    assert values["b"] == {"kind": "Bool", "b": True}
    assert values["n"] == {"kind": "None"}
    assert values["l"] == {"kind": "Sequence", "elements": [{"kind": "Int", "i": 1}, {"kind": "Int", "i": 2}],
                           "is_slice": False}
    assert values["t"] == {"kind": "Tuple", "elements": [{"kind": "Int", "i": 1}, {"kind": "String", "text": "a"}]}


@differs("value-encoding")
def test_floats_objects_and_type_names_are_pythons(tmp_path):
    values = _last_values(tmp_path)
    assert values["fl"] == ({"kind": "Float", "f": 2.5}, "float")
    assert values["o"] == ({"kind": "Struct", "field_values": [{"kind": "Int", "i": 1}]}, "__main__.Point")
    assert [values[name][1] for name in ("i", "s", "l")] == ["int", "str", "list"]


@differs("value-encoding")
def test_recording_an_object_never_runs_its_repr(tmp_path):
    script = write(tmp_path, """
        class Loud:
            def __repr__(self):
                print("repr called")
                return "Loud"
        def f():
            value = Loud()
            return 1
        f()
        print("done")
    """)
    result = run_cli(["--trace-dir", str(tmp_path / "out"), "--format", "json", str(script)])
    assert (result.returncode, result.stdout) == (0, run([str(script)]).stdout), result.describe()


def test_steps_and_call_arguments_are_recorded_as_in_03(tmp_path):
    script = write(tmp_path, """
        LIMIT = 3
        def add(a, b):
            c = a + b
            return c
        print(add(1, 2))
    """)
    out = tmp_path / "out"
    assert run_cli(["--trace-dir", str(out), "--format", "json", str(script)]).returncode == 0
    found = events(out)
    assert [event["Step"]["line"] for event in found if "Step" in event] == [1, 2, 3, 6, 3, 4, 5]
    names = [event["VariableName"] for event in found if "VariableName" in event]
    calls = [event["Call"]["args"] for event in found if "Call" in event]
    assert [(names[arg["variable_id"]], arg["value"]["i"]) for arg in calls[-1]] == [("a", 1), ("b", 2)]


def test_a_worker_threads_calls_are_recorded(tmp_path):
    script = write(tmp_path, """
        import threading
        def work(n):
            return n * 2
        worker = threading.Thread(target=work, args=(3,))
        worker.start()
        worker.join()
        print("ok")
    """)
    out = tmp_path / "out"
    result = run_cli(["--trace-dir", str(out), "--format", "json", str(script)])
    assert (result.returncode, result.stdout) == (0, "ok\n"), result.describe()
    assert "work" in called_functions(out)


def _binary_header(tmp_path) -> bytes:
    script = write(tmp_path, "print('ok')\n")
    out = tmp_path / "out"
    assert run_cli(["--trace-dir", str(out), str(script)]).returncode == 0
    return (out / "trace.bin").read_bytes()[:8]


def test_the_binary_trace_carries_runtime_tracings_magic(tmp_path):
    assert _binary_header(tmp_path)[:5] == bytes([0xC0, 0xDE, 0x72, 0xAC, 0xE2])


@differs("binary-format")
def test_the_binary_trace_is_cbor_and_zstd(tmp_path):
    header = _binary_header(tmp_path)
    assert header[5] == 0x01 and header[:8] != bytes([0xC0, 0xDE, 0x72, 0xAC, 0xE2, 0, 0, 0])
