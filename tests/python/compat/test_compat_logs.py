"""Logs as 0.3 wrote them: JSON lines with a ``run_id``, to the log file or
stderr, never stdout; ``--log-level``/``--log-file`` and their variables."""

from __future__ import annotations

import json
from pathlib import Path

from compat_support import clean_env, differs, run, run_cli, run_code, write

PROGRAM = "def work():\n    return 1\nwork()\nprint('ok')\n"


def _lines(path: Path) -> list[dict]:
    return [json.loads(line) for line in path.read_text().splitlines()]


def test_debug_flags_write_json_lines_with_one_run_id_to_the_log_file(tmp_path):
    program = write(tmp_path, PROGRAM)
    log = tmp_path / "recorder.log"
    result = run_cli(["--trace-dir", str(tmp_path / "out"), "--log-level", "debug", "--log-file", str(log), str(program)])
    assert (result.returncode, result.stdout) == (0, "ok\n"), result.describe()
    lines = _lines(log)
    assert lines, "a debug run writes log lines"
    assert all({"level", "message", "run_id"} <= set(line) for line in lines), lines
    assert len({line["run_id"] for line in lines}) == 1
    assert "DEBUG" in {line["level"] for line in lines}


def test_the_log_variables_send_json_lines_to_the_file_and_nothing_to_stderr(tmp_path):
    log = tmp_path / "recorder.log"
    result = run_code(f"""
        import codetracer_python_recorder as r
        with r.trace({str(tmp_path / 'out')!r}, format="json"):
            print("ok")
    """, CODETRACER_LOG_LEVEL="debug", CODETRACER_LOG_FILE=str(log))
    assert (result.returncode, result.stdout, result.stderr) == (0, "ok\n", ""), result.describe()
    lines = _lines(log)
    assert lines and all(isinstance(line.get("run_id"), str) and line["run_id"] for line in lines)


def test_a_clean_run_at_the_default_level_writes_nothing_on_stderr(tmp_path):
    program = write(tmp_path, PROGRAM)
    result = run_cli(["--trace-dir", str(tmp_path / "out"), str(program)])
    assert (result.returncode, result.stdout, result.stderr) == (0, "ok\n", ""), result.describe()
    assert run([str(program)]).stdout == result.stdout


def _info_lines(tmp_path) -> list[dict]:
    program = write(tmp_path, PROGRAM)
    result = run_cli(["--trace-dir", str(tmp_path / "out"), "--format", "json", str(program)],
                     env=clean_env(CODETRACER_LOG_LEVEL="info"))
    assert (result.returncode, result.stdout) == (0, "ok\n"), result.describe()
    return [json.loads(line) for line in result.stderr.splitlines()]


@differs("run-logs")
def test_at_info_a_run_logs_its_start_and_its_end(tmp_path):
    lines = _info_lines(tmp_path)
    assert [line["message"].split(":")[0] for line in lines] == ["recording started", "recording finished"]
    started, finished = (line["message"] for line in lines)
    assert f"dir={tmp_path / 'out'}" in started and "format=json" in started and "filters=" in started
    assert "policy=" in started
    for field in ("events=", "bytes=", "duration_ms=", "outcome=complete"):
        assert field in finished


@differs("run-logs")
def test_at_debug_start_activation_and_finish_are_logged_with_the_run_id(tmp_path):
    program = write(tmp_path, PROGRAM)
    log = tmp_path / "recorder.log"
    result = run_cli(["--trace-dir", str(tmp_path / "out"), "--log-level", "debug", "--log-file", str(log), str(program)])
    assert result.returncode == 0, result.describe()
    lines = _lines(log)
    messages = [line["message"] for line in lines]
    steps = ["recording started:", "activation: recording starts", "recording finished:"]
    found = [next((i for i, message in enumerate(messages) if message.startswith(step)), None) for step in steps]
    assert None not in found and found == sorted(found), messages
    assert len({line["run_id"] for line in lines}) == 1


@differs("log-fields")
def test_every_log_line_has_the_same_fields_with_an_iso_timestamp(tmp_path):
    program = write(tmp_path, PROGRAM)
    log = tmp_path / "recorder.log"
    result = run_cli(["--trace-dir", str(tmp_path / "out"), "--log-level", "debug", "--log-file", str(log), str(program)])
    assert result.returncode == 0, result.describe()
    lines = _lines(log)
    assert lines and all(
        set(line) == {"ts", "level", "message", "run_id", "trace_id", "error_code", "target"} for line in lines
    ), lines[:3]
    assert all(line["ts"].endswith("Z") for line in lines)


@differs("trailer-python-errors")
def test_a_bad_format_writes_one_json_trailer(tmp_path):
    result = run_code(f"""
        import codetracer_python_recorder as r
        r.configure_policy(json_errors=True)
        try:
            r.start({str(tmp_path / 'out')!r}, format="xml")
        except ValueError:
            print("raised")
    """)
    assert result.stdout == "raised\n", result.describe()
    trailers = [json.loads(line) for line in result.stderr.splitlines() if line.startswith("{") and "error_kind" in line]
    assert [(line["error_code"], line["error_kind"]) for line in trailers] == [("ERR_UNSUPPORTED_FORMAT", "Usage")]
