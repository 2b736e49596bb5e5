"""What a JSON trace holds for a 0.3-style program: calls, returns, threads
and exceptions, event by event."""

from __future__ import annotations

from compat_support import differs, events, pending, run_cli, write

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


@pending("toplevel-return", "the native writer closes <toplevel> with None")
def test_the_toplevel_call_returns_the_exit_status(tmp_path):
    last = _returns(_events(tmp_path))[-1]
    assert (last["kind"], last.get("i")) == ("Int", 0)
