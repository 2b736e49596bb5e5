"""0.3's ``ERR_*`` codes for the situations 0.3 gave them, through the API,
the native path and the CLI's JSON trailer; and the ``sys.monitoring`` tool
the recorder holds."""

from __future__ import annotations

import json

from compat_support import Run, clean_env, differs, last_json, run_cli, run_code, trace_files, write

TRAILER_FIELDS = {"run_id", "trace_id", "error_code", "error_kind", "message", "context"}


def _trailers(result: Run) -> list[dict]:
    """The JSON error trailers on stderr (log lines have no ``error_kind``)."""
    lines = [json.loads(line) for line in result.stderr.splitlines() if line.startswith("{")]
    return [line for line in lines if "error_kind" in line]


def test_a_trace_directory_that_cannot_be_created_is_err_trace_dir_create_failed(tmp_path):
    (tmp_path / "file").write_text("x")
    target = tmp_path / "file" / "trace"
    found = last_json(run_code(f"""
        import json, codetracer_python_recorder as r
        try:
            r.start({str(target)!r})
        except r.EnvironmentError as error:
            print(json.dumps([error.code, error.kind, error.context.get("path"), isinstance(error, r.RecorderError),
                              r.is_tracing()]))
    """))
    assert found == ["ERR_TRACE_DIR_CREATE_FAILED", "Environment", str(target), True, False]


def test_the_cli_json_trailer_names_the_start_failure_with_03s_fields(tmp_path):
    (tmp_path / "file").write_text("x")
    program = write(tmp_path, "print('ran')\n")
    result = run_cli(["--json-errors", "--trace-dir", str(tmp_path / "file" / "trace"), str(program)])
    assert result.returncode != 0, result.describe()
    assert result.stdout == ""
    trailers = _trailers(result)
    assert len(trailers) == 1, result.stderr
    assert set(trailers[0]) == TRAILER_FIELDS
    assert (trailers[0]["error_code"], trailers[0]["error_kind"]) == ("ERR_TRACE_DIR_CREATE_FAILED", "Environment")


def test_codetracer_json_errors_turns_the_trailer_on_for_the_cli(tmp_path):
    (tmp_path / "file").write_text("x")
    program = write(tmp_path, "print('ran')\n")
    args = ["--trace-dir", str(tmp_path / "file" / "trace"), str(program)]
    quiet = run_cli(args)
    loud = run_cli(args, env=clean_env(CODETRACER_JSON_ERRORS="true"))
    assert _trailers(quiet) == [], quiet.describe()
    assert [line["error_code"] for line in _trailers(loud)] == ["ERR_TRACE_DIR_CREATE_FAILED"], loud.describe()


def _require_trace_without_events(tmp_path) -> list:
    write(tmp_path, "VALUE = 1\n", "gate.py")
    out = tmp_path / "out"
    found = last_json(run_code(f"""
        import json, codetracer_python_recorder as r
        r.start({str(out)!r}, format="json", start_on_enter={str(tmp_path / 'gate.py')!r},
                policy={{"require_trace": True}})
        try:
            r.stop()
        except r.RecorderError as error:
            print(json.dumps([error.code, error.kind, r.is_tracing()]))
        else:
            print(json.dumps(None))
    """))
    assert trace_files(out) == set()
    return found


def test_require_trace_with_nothing_recorded_is_err_trace_missing(tmp_path):
    assert _require_trace_without_events(tmp_path)[0] == "ERR_TRACE_MISSING"


@differs("trace-missing")
def test_a_missing_trace_is_an_environment_error_and_ends_the_recording(tmp_path):
    assert _require_trace_without_events(tmp_path)[1:] == ["Environment", False]


def test_the_recorder_holds_a_monitoring_tool_named_codetracer_while_recording(tmp_path):
    found = last_json(run_code(f"""
        import json, sys, codetracer_python_recorder as r
        tools = lambda: [sys.monitoring.get_tool(i) for i in range(6)]
        before = tools()
        r.start({str(tmp_path / 'out')!r})
        during = tools()
        r.stop()
        print(json.dumps([before, during, tools()]))
    """))
    before, during, after = found
    assert before == after == [None] * 6
    assert during.count("codetracer") == 1 and during.count(None) == 5


@differs("tool-id")
def test_a_tool_holding_the_optimizer_id_does_not_stop_recording(tmp_path):
    out = tmp_path / "out"
    found = last_json(run_code(f"""
        import json, sys, codetracer_python_recorder as r
        sys.monitoring.use_tool_id(sys.monitoring.OPTIMIZER_ID, "other tool")
        r.start({str(out)!r}, format="json")
        tracing = r.is_tracing()
        r.stop()
        print(json.dumps(tracing))
    """))
    assert found is True
    assert "trace.json" in trace_files(out)


@differs("tool-id")
def test_no_free_tool_id_is_err_tracer_install_conflict(tmp_path):
    found = last_json(run_code(f"""
        import json, sys, codetracer_python_recorder as r
        for tool in range(6):
            sys.monitoring.use_tool_id(tool, "other tool")
        try:
            r.start({str(tmp_path / 'out')!r})
        except r.EnvironmentError as error:
            print(json.dumps([error.code, r.is_tracing()]))
    """))
    assert found == ["ERR_TRACER_INSTALL_CONFLICT", False]


def _start_into_a_blocked_directory(tmp_path, **env: str):
    (tmp_path / "file").write_text("x")
    return run_code(f"""
        import json, codetracer_python_recorder as r
        try:
            r.start({str(tmp_path / 'file' / 'trace')!r})
        except r.RecorderError as error:
            print(json.dumps(["raised", error.code]))
        else:
            print(json.dumps(["returned", r.is_tracing()]))
    """, **env)


def test_a_start_failure_raises_under_the_default_policy(tmp_path):
    assert last_json(_start_into_a_blocked_directory(tmp_path)) == ["raised", "ERR_TRACE_DIR_CREATE_FAILED"]


@differs("raised-errors-not-logged")
def test_a_raised_error_writes_nothing_on_stderr(tmp_path):
    result = _start_into_a_blocked_directory(tmp_path)
    assert result.stderr == "", result.describe()


@differs("disable-at-start")
def test_under_disable_a_start_failure_leaves_the_program_running_untraced(tmp_path):
    result = _start_into_a_blocked_directory(tmp_path, CODETRACER_ON_RECORDER_ERROR="disable")
    assert last_json(result) == ["returned", False]
    warnings = [json.loads(line) for line in result.stderr.splitlines() if line.startswith("{")]
    assert [line["error_code"] for line in warnings] == ["ERR_TRACE_DIR_CREATE_FAILED"], result.stderr


@differs("disable-at-start")
def test_under_disable_the_cli_runs_the_program_when_the_recording_cannot_start(tmp_path):
    (tmp_path / "file").write_text("x")
    program = write(tmp_path, "print('ran')\n")
    result = run_cli(["--on-recorder-error", "disable", "--trace-dir", str(tmp_path / "file" / "trace"), str(program)])
    assert (result.returncode, result.stdout) == (0, "ran\n"), result.describe()


def test_codetracer_require_trace_makes_a_recording_without_events_an_error(tmp_path):
    write(tmp_path, "VALUE = 1\n", "gate.py")
    found = last_json(run_code(f"""
        import json, codetracer_python_recorder as r
        r.start({str(tmp_path / 'out')!r}, start_on_enter={str(tmp_path / 'gate.py')!r})
        try:
            r.stop()
        except r.RecorderError as error:
            print(json.dumps(error.code))
    """, CODETRACER_REQUIRE_TRACE="true"))
    assert found == "ERR_TRACE_MISSING"
