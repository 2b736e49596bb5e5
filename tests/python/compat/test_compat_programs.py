"""Programs written for 0.3, recorded end to end, and 0.3's ``trace_balance`` helpers."""

from __future__ import annotations

import json

import pytest

from compat_support import called_functions, clean_env, complete, differs, events, run, run_cli, run_file, write


def test_the_03_api_note_example(tmp_path):
    result = run_file(tmp_path, f"""
        import codetracer_python_recorder as codetracer
        from pathlib import Path

        def run_application():
            return sum(square(n) for n in range(4))

        def square(n):
            return n * n

        out_dir = Path({str(tmp_path / 'traces' / 'run-001')!r})
        with codetracer.trace(out_dir, format=codetracer.TRACE_JSON):
            print(run_application())
    """)
    assert (result.returncode, result.stdout) == (0, "14\n"), result.describe()
    called = called_functions(tmp_path / "traces" / "run-001")
    assert called.count("square") == 4 and "run_application" in called


def test_the_03_error_handling_example(tmp_path):
    result = run_file(tmp_path, f"""
        from codetracer_python_recorder import RecorderError, TargetError, start, stop

        def work():
            return 42

        try:
            session = start({str(tmp_path / 'trace')!r}, format="json")
        except RecorderError as err:
            print(f"Recorder failed: {{err.code}}")
        else:
            try:
                print(work())
            finally:
                session.flush()
                stop()
    """)
    assert (result.returncode, result.stdout) == (0, "42\n"), result.describe()
    assert "work" in called_functions(tmp_path / "trace")


def test_the_error_handling_example_reports_a_recorder_error_code(tmp_path):
    (tmp_path / "taken").write_text("a file where the trace should go")
    result = run_file(tmp_path, f"""
        import codetracer_python_recorder.codetracer_python_recorder as native
        from codetracer_python_recorder import RecorderError
        try:
            native.start_tracing({str(tmp_path / 'taken')!r}, "json")
        except RecorderError as err:
            print(f"Recorder failed: {{err.code}}")
    """)
    assert result.stdout == "Recorder failed: ERR_TRACE_DIR_CONFLICT\n", result.describe()


def test_policy_then_trace_as_a_03_integration_would(tmp_path):
    result = run_file(tmp_path, f"""
        import codetracer_python_recorder as r
        r.configure_policy(on_recorder_error="disable", keep_partial_trace=True, json_errors=True)
        def fib(n):
            return n if n < 2 else fib(n - 1) + fib(n - 2)
        with r.trace({str(tmp_path / 'out')!r}, format="json", policy={{"require_trace": True}}):
            print(fib(6))
        print(r.policy_snapshot()["require_trace"])
    """)
    assert (result.returncode, result.stdout) == (0, "8\nTrue\n"), result.describe()
    assert called_functions(tmp_path / "out").count("fib") == 25


def test_a_cli_recording_is_balanced_by_trace_balance(tmp_path):
    script = write(tmp_path, """
        def fib(n):
            return n if n < 2 else fib(n - 1) + fib(n - 2)
        class Box:
            def __init__(self, value):
                self.value = value
        print(fib(10), Box(3).value)
    """)
    out = tmp_path / "out"
    assert run_cli(["--trace-dir", str(out), "--format", "json", str(script)]).stdout == "55 3\n"
    result = run(["-c", f"""
import json
from pathlib import Path
from codetracer_python_recorder.trace_balance import load_trace_events, summarize_trace_balance
summary = summarize_trace_balance(load_trace_events(Path({str(out / 'trace.json')!r})))
print(json.dumps([summary.is_balanced, summary.delta, summary.call_count >= 177, summary.first_negative_index]))
"""])
    assert json.loads(result.stdout) == [True, 0, True, None], result.describe()


@pytest.mark.parametrize(
    ("content", "balanced", "first_negative"),
    [
        ('[{"Call": {}}, {"Return": {}}]', True, None),
        ('[{"Return": {}}, {"Call": {}}]', False, 0),
        ('[{"Call": {}}, {"Step": {}}]', False, None),
    ],
)
def test_trace_balance_summaries(tmp_path, content, balanced, first_negative):
    (tmp_path / "trace.json").write_text(content)
    result = run(["-c", f"""
import json
from pathlib import Path
from codetracer_python_recorder.trace_balance import load_trace_events, summarize_trace_balance
s = summarize_trace_balance(load_trace_events(Path({str(tmp_path / 'trace.json')!r})))
print(json.dumps([s.is_balanced, s.first_negative_index]))
"""])
    assert json.loads(result.stdout) == [balanced, first_negative], result.describe()


@pytest.mark.parametrize("content", ["not json", '{"Call": {}}', "[1, 2]", '[{"Call": {}, "Return": {}}]', None])
def test_trace_balance_rejects_what_is_not_a_trace(tmp_path, content):
    path = tmp_path / "trace.json"
    if content is not None:
        path.write_text(content)
    result = run(["-c", f"""
from pathlib import Path
from codetracer_python_recorder.trace_balance import TraceBalanceError, load_trace_events, summarize_trace_balance
try:
    summarize_trace_balance(load_trace_events(Path({str(path)!r})))
except TraceBalanceError as error:
    print("refused", isinstance(error, RuntimeError))
"""])
    assert result.stdout == "refused True\n", result.describe()


CHILD = """
import subprocess, sys
import codetracer_python_recorder as r
def parent_work():
    return 1
parent_work()
child = subprocess.run([sys.executable, "-c", "import codetracer_python_recorder as r; print('child ran')"])
print("child exit", child.returncode)
"""


def test_a_child_process_inheriting_codetracer_trace_runs_unharmed(tmp_path):
    result = run_file(tmp_path, CHILD, CODETRACER_TRACE=str(tmp_path / "trace"), CODETRACER_FORMAT="json")
    assert (result.returncode, result.stdout) == (0, "child ran\nchild exit 0\n"), result.describe()


@differs("codetracer-trace-at-exit")
def test_the_parent_trace_survives_a_child_process(tmp_path):
    result = run_file(tmp_path, CHILD, CODETRACER_TRACE=str(tmp_path / "trace"), CODETRACER_FORMAT="json")
    assert result.returncode == 0, result.describe()
    assert complete(tmp_path / "trace", "trace.json")
    assert "parent_work" in called_functions(tmp_path / "trace")


@differs("pid-placeholder")
def test_a_pid_placeholder_gives_every_process_its_own_trace(tmp_path):
    result = run_file(tmp_path, CHILD, CODETRACER_TRACE=str(tmp_path / "trace-{pid}"), CODETRACER_FORMAT="json")
    assert result.returncode == 0, result.describe()
    traces = sorted(path for path in tmp_path.iterdir() if path.name.startswith("trace-"))
    assert len(traces) == 2 and "{pid}" not in str(traces)
    assert all(complete(path, "trace.json") for path in traces)


def test_codetracer_format_and_variable_names_match(tmp_path):
    out = tmp_path / "auto"
    result = run(["-c", "import codetracer_python_recorder as r; print(r.is_tracing())"],
                 env=clean_env(CODETRACER_TRACE=str(out), CODETRACER_FORMAT="json"))
    assert result.stdout == "True\n", result.describe()


def test_what_the_program_prints_is_recorded(tmp_path):
    out = tmp_path / "out"
    result = run_file(tmp_path, f"""
        import codetracer_python_recorder as r
        with r.trace({str(out)!r}, format="json"):
            print("captured line")
    """)
    assert result.stdout == "captured line\n", result.describe()
    contents = [event["Event"].get("content") for event in events(out) if "Event" in event]
    assert any("captured line" in (content or "") for content in contents)


@differs("import-never-raises")
@pytest.mark.parametrize(
    ("variable", "value", "code"),
    [("CODETRACER_FORMAT", "xml", "ERR_UNSUPPORTED_FORMAT"),
     ("CODETRACER_TRACE_FILTER", "{tmp}/missing.toml", "ERR_INVALID_TRACE_FILTER")],
)
def test_a_bad_auto_start_variable_never_breaks_the_import(tmp_path, variable, value, code):
    result = run(["-c", "import codetracer_python_recorder as r\nprint('imported', r.is_tracing())"],
                 env=clean_env(CODETRACER_TRACE=str(tmp_path / "auto"), **{variable: value.format(tmp=tmp_path)}))
    assert result.stdout == "imported False\n", result.describe()
    assert code in result.stderr


EXEC_PROGRAM = """
def run():
    namespace = {}
    exec("def made():\\n    return 7\\n", namespace)
    return namespace["made"]()
print(run())
"""


def _exec_calls(tmp_path) -> list[str]:
    script = write(tmp_path, EXEC_PROGRAM)
    out = tmp_path / "out"
    result = run_cli(["--trace-dir", str(out), "--format", "json", str(script)])
    assert (result.returncode, result.stdout) == (0, "7\n"), result.describe()
    return called_functions(out)


def test_a_program_that_runs_exec_code_is_recorded(tmp_path):
    assert "run" in _exec_calls(tmp_path)


@differs("string-code")
def test_code_the_program_runs_through_exec_is_recorded(tmp_path):
    called = _exec_calls(tmp_path)
    assert called.index("run") < called.index("made")


VARIABLES_PROGRAM = """
import os
LIMIT = 3
def add(a, b):
    c = a + b
    return c
print(add(1, 2))
"""


def _variable_names(tmp_path) -> set[str]:
    script = write(tmp_path, VARIABLES_PROGRAM)
    out = tmp_path / "out"
    result = run_cli(["--trace-dir", str(out), "--format", "json", str(script)])
    assert (result.returncode, result.stdout) == (0, "3\n"), result.describe()
    return {event["VariableName"] for event in events(out) if "VariableName" in event}


def test_a_functions_arguments_and_locals_are_recorded(tmp_path):
    assert {"a", "b", "c"} <= _variable_names(tmp_path)


@differs("module-variables")
def test_module_level_steps_record_no_module_namespace(tmp_path):
    assert _variable_names(tmp_path) == {"a", "b", "c"}


def test_a_forked_child_runs_unharmed_and_the_parents_trace_holds_the_parents_calls(tmp_path):
    script = write(tmp_path, """
        import os
        def child_work():
            return 1
        def parent_work():
            return 2
        pid = os.fork()
        if pid == 0:
            child_work()
            print("child done", flush=True)
            os._exit(0)
        os.waitpid(pid, 0)
        parent_work()
        print("parent done")
    """)
    out = tmp_path / "out"
    result = run_cli(["--trace-dir", str(out), "--format", "json", str(script)])
    assert (result.returncode, result.stdout) == (0, "child done\nparent done\n"), result.describe()
    called = called_functions(out)
    assert "parent_work" in called and "child_work" not in called


@differs("io-filter-table")
def test_a_project_filter_with_capture_false_records_no_io(tmp_path):
    out = tmp_path / "out"
    write(tmp_path / ".codetracer", """
        [meta]
        name = "quiet"
        version = 1

        [io]
        capture = false
        streams = ["stdout", "stderr"]

        [scope]
        default_exec = "trace"
        default_value_action = "allow"
    """, name="trace-filter.toml")
    result = run_file(tmp_path, f"""
        import codetracer_python_recorder as r
        with r.trace({str(out)!r}, format="json"):
            print("not captured")
    """)
    assert result.stdout == "not captured\n", result.describe()
    assert complete(out, "trace.json")
    assert not [event for event in events(out) if "Event" in event and "not captured" in event["Event"]["content"]]
