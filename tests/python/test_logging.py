"""Structured logs, JSON error trailers and metrics, seen from a real process."""

import json

import pytest

from conftest import clean_env, run, run_cli, write_script

LOG_FIELDS = {"ts", "level", "message", "run_id", "trace_id", "error_code", "target"}
TRAILER_FIELDS = {"run_id", "trace_id", "error_code", "error_kind", "message", "context"}

LOG_THREE = """
import codetracer_python_recorder as r
from codetracer_python_recorder import _native
_native.log_message("warn", "first warning")
_native.log_message("info", "some info")
_native.log_message("error", "an error", error_code="ERR_DISK_FULL")
print(_native.run_id())
"""


def test_log_lines_are_json_objects_with_every_field_and_a_stable_run_id():
    result = run(["-c", LOG_THREE], env=clean_env(CODETRACER_LOG_LEVEL="info"))
    assert result.returncode == 0, result.describe()
    run_id = result.stdout.strip()
    logs = result.logs()
    assert [line["message"] for line in logs] == ["first warning", "some info", "an error"]
    for line in logs:
        assert LOG_FIELDS <= set(line), line
        assert line["run_id"] == run_id
        assert line["ts"].endswith("Z") and "T" in line["ts"]
        assert line["trace_id"] is None
    assert [line["level"] for line in logs] == ["WARN", "INFO", "ERROR"]
    assert [line["error_code"] for line in logs] == [None, None, "ERR_DISK_FULL"]
    # every non-JSON stderr line would be a stray diagnostic
    assert all(line.startswith("{") for line in result.stderr.splitlines()), result.stderr


def test_the_run_id_differs_between_processes():
    first = run(["-c", LOG_THREE]).stdout
    second = run(["-c", LOG_THREE]).stdout
    assert first != second


@pytest.mark.parametrize(
    ("spec", "expected"),
    [
        ("error", ["an error"]),
        ("warn", ["first warning", "an error"]),
        ("TRACE", ["first warning", "some info", "an error"]),
        ("off", []),
        ("warn,python=off", []),
        ("error,codetracer_python_recorder::python=info", ["first warning", "some info", "an error"]),
    ],
)
def test_log_level_filters_by_level_and_module(spec, expected):
    result = run(["-c", LOG_THREE], env=clean_env(CODETRACER_LOG_LEVEL=spec))
    assert result.returncode == 0, result.describe()
    assert [line["message"] for line in result.logs()] == expected


def test_log_file_receives_the_lines_appended_and_stderr_stays_quiet(tmp_path):
    log = tmp_path / "recorder.log"
    log.write_text('{"earlier": true}\n')
    result = run(["-c", LOG_THREE], env=clean_env(CODETRACER_LOG_FILE=str(log)))
    assert result.returncode == 0, result.describe()
    assert result.stderr == ""
    lines = [json.loads(line) for line in log.read_text().splitlines()]
    assert lines[0] == {"earlier": True}
    assert [line["message"] for line in lines[1:]] == ["first warning", "an error"]


def test_log_file_set_through_the_api_takes_effect_at_once(tmp_path):
    log = tmp_path / "api.log"
    code = f"""
import codetracer_python_recorder as r
from codetracer_python_recorder import _native
_native.log_message("warn", "to stderr")
r.configure_policy(log_file={str(log)!r})
_native.log_message("warn", "to the file")
"""
    result = run(["-c", code])
    assert [line["message"] for line in result.logs()] == ["to stderr"]
    assert [json.loads(line)["message"] for line in log.read_text().splitlines()] == ["to the file"]


def test_an_unopenable_log_file_falls_back_to_stderr_and_says_so_once(tmp_path):
    code = """
import codetracer_python_recorder as r
from codetracer_python_recorder import _native
_native.log_message("warn", "one")
r.configure_policy(log_level="warn")
r.configure_policy_from_env()
_native.log_message("warn", "two")
"""
    # a directory cannot be opened for appending
    result = run(["-c", code], env=clean_env(CODETRACER_LOG_FILE=str(tmp_path)))
    assert result.returncode == 0, result.describe()
    assert result.stdout == ""
    messages = [line["message"] for line in result.logs()]
    notices = [m for m in messages if "cannot open log file" in m]
    assert len(notices) == 1, messages
    assert str(tmp_path) in notices[0]
    assert [m for m in messages if m in ("one", "two")] == ["one", "two"]


SURFACE_TWO = """
import codetracer_python_recorder as r
for value in ("maybe", "perhaps"):
    try:
        r.configure_policy(require_trace=value)
    except r.UsageError as error:
        print(error.code)
"""


def test_trailer_once_per_surfaced_error_when_json_errors_is_on():
    result = run(["-c", SURFACE_TWO], env=clean_env(CODETRACER_JSON_ERRORS="1"))
    assert result.stdout.split() == ["ERR_INVALID_POLICY_VALUE"] * 2, result.describe()
    trailers = result.trailers()
    assert len(trailers) == 2, result.stderr
    for trailer, value in zip(trailers, ("maybe", "perhaps")):
        assert set(trailer) == TRAILER_FIELDS
        assert trailer["error_code"] == "ERR_INVALID_POLICY_VALUE"
        assert trailer["error_kind"] == "Usage"
        assert trailer["context"]["key"] == "require_trace"
        assert trailer["context"]["value"] == value
        assert value in trailer["message"]
    assert trailers[0]["run_id"] == trailers[1]["run_id"]


def test_no_trailer_when_json_errors_is_off():
    result = run(["-c", SURFACE_TWO], env=clean_env(CODETRACER_JSON_ERRORS="off"))
    assert result.stdout.split() == ["ERR_INVALID_POLICY_VALUE"] * 2
    assert result.trailers() == []
    assert result.stderr == ""


PYTHON_SURFACE_ERRORS = """
import codetracer_python_recorder as r
for call in (
    lambda: r.start(OUT, format="xml"),
    lambda: r.start(OUT, trace_filter=MISSING),
    lambda: r.configure_policy(propagate_script_exit="maybe"),
    lambda: r.configure_policy(no_such_key=True),
):
    try:
        call()
    except r.UsageError as error:
        print(error.code)
"""


def test_errors_of_the_python_surface_write_one_trailer_each(tmp_path):
    code = f"OUT = {str(tmp_path / 'out')!r}\nMISSING = {str(tmp_path / 'missing.toml')!r}\n" + PYTHON_SURFACE_ERRORS
    codes = ["ERR_UNSUPPORTED_FORMAT", "ERR_INVALID_TRACE_FILTER", "ERR_INVALID_POLICY_VALUE", "ERR_INVALID_POLICY_VALUE"]
    result = run(["-c", code], env=clean_env(CODETRACER_JSON_ERRORS="1"))
    assert result.stdout.split() == codes, result.describe()
    trailers = result.trailers()
    assert [t["error_code"] for t in trailers] == codes, result.stderr
    assert all(set(t) == TRAILER_FIELDS and t["error_kind"] == "Usage" for t in trailers)
    assert trailers[0]["context"]["format"] == "xml"
    assert trailers[1]["context"]["path"] == str(tmp_path / "missing.toml")
    assert trailers[2]["context"]["key"] == "propagate_script_exit"
    # The unknown key's message lists every key configure_policy accepts, those held in Python too.
    for key in ("on_recorder_error", "json_errors", "module_name_from_globals", "propagate_script_exit",
                "io_capture_line_proxies", "io_capture_fd_fallback"):
        assert key in trailers[3]["message"], trailers[3]
    quiet = run(["-c", code], env=clean_env())
    assert quiet.stdout.split() == codes and quiet.trailers() == [], quiet.describe()


def test_cli_trailer_for_a_start_failure_is_written_once(tmp_path):
    blocker = tmp_path / "a-file"
    blocker.write_text("not a directory")
    script = write_script(tmp_path, "print('ran')")
    result = run_cli(["--codetracer-json-errors", "--out-dir", str(blocker), str(script)])
    assert result.returncode == 2, result.describe()
    assert result.stdout == ""
    trailers = result.trailers()
    assert [t["error_code"] for t in trailers] == ["ERR_TRACE_DIR_CONFLICT"], result.stderr
    assert trailers[0]["error_kind"] == "Usage"
    without = run_cli(["--out-dir", str(blocker), str(script)])
    assert without.returncode == 2 and without.trailers() == []
    assert "ERR_TRACE_DIR_CONFLICT" in without.stderr


def test_the_trace_id_is_set_while_tracing_and_cleared_after(tmp_path):
    code = f"""
import codetracer_python_recorder as r
from codetracer_python_recorder import _native
r.start({str(tmp_path / 'out')!r})
_native.log_message("warn", "during")
r.stop()
_native.log_message("warn", "after")
"""
    result = run(["-c", code])
    assert result.returncode == 0, result.describe()
    logs = {line["message"]: line for line in result.logs()}
    assert isinstance(logs["during"]["trace_id"], str) and logs["during"]["trace_id"]
    assert logs["after"]["trace_id"] is None


def test_metrics_collectors_are_validated_and_counters_start_empty():
    code = """
import json, codetracer_python_recorder as r
print(json.dumps(r.metrics_snapshot()))
r.install_metrics(lambda metric, name: None)
class Partial:
    def record_detach(self, reason): pass
r.install_metrics(Partial())
r.install_metrics(None)
try:
    r.install_metrics(42)
except r.UsageError as error:
    print(error.code)
"""
    result = run(["-c", code])
    assert result.returncode == 0, result.describe()
    counters, code_ = result.stdout.splitlines()
    assert json.loads(counters) == {"dropped_events": {}, "detaches": {}, "panics": {}}
    assert code_ == "ERR_INVALID_POLICY_VALUE"


def test_cli_log_file_flag_receives_the_disable_warning(tmp_path):
    blocker = tmp_path / "blocker"
    blocker.write_text("x")
    log = tmp_path / "cli.log"
    script = write_script(tmp_path, "print('ran')\n")
    result = run_cli(
        [
            "--on-recorder-error=disable",
            "--codetracer-log-file", str(log),
            "--out-dir", str(blocker / "trace"),
            str(script),
        ]
    )
    assert result.returncode == 0, result.describe()
    assert result.stdout == "ran\n"
    assert result.logs() == []  # the warning went to the file
    lines = [json.loads(line) for line in log.read_text().splitlines()]
    assert [line["level"] for line in lines] == ["WARN"]
    assert lines[0]["error_code"].startswith("ERR_")


def test_a_debug_run_logs_start_activation_tool_detach_and_finish_as_json_with_the_run_id(tmp_path):
    script = write_script(tmp_path, "def f():\n    return 1\nf()\nprint('ok')\n")
    out = tmp_path / "trace"
    log = tmp_path / "recorder.log"
    result = run_cli(
        ["--out-dir", str(out), "--format", "json", str(script)],
        env=clean_env(CODETRACER_LOG_LEVEL="debug", CODETRACER_LOG_FILE=str(log)),
    )
    assert result.returncode == 0, result.describe()
    assert result.stdout == "ok\n"
    lines = [json.loads(line) for line in log.read_text().splitlines()]
    assert lines, "a debug run writes log lines"
    assert len({line["run_id"] for line in lines}) == 1
    for line in lines:
        assert LOG_FIELDS <= set(line), line
    messages = [line["message"] for line in lines]

    def first(prefix: str) -> dict:
        found = [line for line in lines if line["message"].startswith(prefix)]
        assert found, (prefix, messages)
        return found[0]

    started = first("recording started:")
    assert started["level"] == "INFO"
    assert f"dir={out}" in started["message"] and "format=json" in started["message"]
    assert '"on_recorder_error":"abort"' in started["message"] and "filters=" in started["message"]
    tool = first("monitoring tool id 3 taken")
    activation = first("activation: recording starts")
    assert str(script) in activation["message"]
    detached = first("detached: monitoring tool 3 freed")
    finished = first("recording finished:")
    assert finished["level"] == "INFO"
    assert "outcome=complete" in finished["message"]
    fields = dict(part.split("=", 1) for part in finished["message"].split()[2:])
    assert int(fields["events"]) > 5
    assert int(fields["bytes"]) == sum(p.stat().st_size for p in out.iterdir())
    assert int(fields["duration_ms"]) >= 0
    order = [messages.index(line["message"]) for line in (tool, started, activation, detached, finished)]
    assert order == sorted(order), messages


def test_at_info_a_clean_run_logs_exactly_the_start_and_the_finish(tmp_path):
    script = write_script(tmp_path, "print('ok')\n")
    out = tmp_path / "trace"
    result = run_cli(["--out-dir", str(out), str(script)], env=clean_env(CODETRACER_LOG_LEVEL="info"))
    assert result.returncode == 0, result.describe()
    assert result.stdout == "ok\n"
    messages = [line["message"].split(":")[0] for line in result.logs()]
    assert messages == ["recording started", "recording finished"], result.stderr
