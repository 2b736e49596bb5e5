"""start/stop/flush, TraceSession, trace(), CODETRACER_TRACE auto-start, lifecycle."""

import json

from conftest import clean_env, is_absent, is_complete, run, write_script


def run_api(code: str, **env: str):
    return run(["-c", code], env=clean_env(**env))


def test_start_stop_is_tracing_and_flush(tmp_path):
    out = tmp_path / "out"
    result = run_api(f"""
import codetracer_python_recorder as r
def work(n):
    return n * 2
print(r.is_tracing())
r.start({str(out)!r}, format="json")
print(r.is_tracing())
work(21)
r.flush()
r.stop()
print(r.is_tracing())
r.stop()  # a second stop is a no-op
""")
    assert result.returncode == 0, result.describe()
    assert result.stdout.split() == ["False", "True", "False"]
    assert is_complete(out)


def test_trace_context_manager_and_trace_session(tmp_path):
    result = run_api(f"""
import codetracer_python_recorder as r
with r.trace({str(tmp_path / 'ctx')!r}) as session:
    print(type(session).__name__, r.is_tracing())
print(r.is_tracing())
session = r.TraceSession({str(tmp_path / 'explicit')!r})
session.start()
print(session.is_tracing)
session.stop()
with r.TraceSession({str(tmp_path / 'with')!r}):
    pass
""")
    assert result.returncode == 0, result.describe()
    assert result.stdout.split() == ["TraceSession", "True", "False", "True"]
    for name in ("ctx", "explicit", "with"):
        assert is_complete(tmp_path / name), name


def test_the_context_manager_stops_when_the_body_raises(tmp_path):
    result = run_api(f"""
import codetracer_python_recorder as r
try:
    with r.trace({str(tmp_path / 'out')!r}):
        raise ValueError("body failed")
except ValueError as error:
    print("caught", error, r.is_tracing())
""")
    assert result.stdout == "caught body failed False\n", result.describe()
    assert is_complete(tmp_path / "out")


def test_start_while_tracing_is_a_usage_error(tmp_path):
    result = run_api(f"""
import codetracer_python_recorder as r
r.start({str(tmp_path / 'one')!r})
try:
    r.start({str(tmp_path / 'two')!r})
except r.UsageError as error:
    print(error.code)
r.stop()
""")
    assert result.stdout.strip() == "ERR_ALREADY_TRACING", result.describe()
    assert is_complete(tmp_path / "one")


def test_start_works_after_a_failed_stop(tmp_path):
    first, second = tmp_path / "first", tmp_path / "second"
    result = run_api(f"""
import shutil, codetracer_python_recorder as r
r.start({str(first)!r})
shutil.rmtree({str(first)!r})  # the output vanishes under the recorder
try:
    r.stop()
except r.RecorderError as error:
    print("stop failed", error.kind)
print(r.is_tracing())
r.start({str(second)!r})
print(r.is_tracing())
r.stop()
""")
    assert result.returncode == 0, result.describe()
    assert result.stdout.split() == ["stop", "failed", "Environment", "False", "True"]
    assert is_complete(second)
    assert is_absent(first)


def test_codetracer_trace_starts_on_import_and_finishes_at_exit(tmp_path):
    out = tmp_path / "auto"
    script = write_script(tmp_path, """
        import codetracer_python_recorder as r
        def work():
            return sum(range(10))
        print(r.is_tracing(), work())
    """)
    result = run([str(script)], env=clean_env(CODETRACER_TRACE=str(out)))
    assert result.returncode == 0, result.describe()
    assert result.stdout == "True 45\n"
    assert is_complete(out)


def test_codetracer_format_binary_with_auto_start(tmp_path):
    out = tmp_path / "auto"
    result = run(["-c", "import codetracer_python_recorder"], env=clean_env(CODETRACER_TRACE=str(out), CODETRACER_FORMAT="binary"))
    assert result.returncode == 0, result.describe()
    assert (out / "trace.bin").exists()


def test_auto_start_failure_never_raises_on_import(tmp_path):
    blocker = tmp_path / "file"
    blocker.write_text("x")
    script = "import codetracer_python_recorder as r; print('program ran', r.is_tracing())"
    aborting = run(["-c", script], env=clean_env(CODETRACER_TRACE=str(blocker)))
    assert aborting.stdout == "program ran False\n", aborting.describe()
    assert aborting.returncode == 2  # abort: the error's exit code, at exit
    assert "ERR_TRACE_DIR_CONFLICT" in aborting.stderr
    disabled = run(["-c", script], env=clean_env(CODETRACER_TRACE=str(blocker), CODETRACER_ON_RECORDER_ERROR="disable"))
    assert disabled.stdout == "program ran False\n", disabled.describe()
    assert disabled.returncode == 0
    assert any(line["error_code"] == "ERR_TRACE_DIR_CONFLICT" for line in disabled.logs())


def test_the_cli_ignores_codetracer_trace(tmp_path):
    script = write_script(tmp_path, "print('hi')\n")
    result = run(
        ["-m", "codetracer_python_recorder", "--out-dir", str(tmp_path / "cli"), str(script)],
        env=clean_env(CODETRACER_TRACE=str(tmp_path / "env")),
    )
    assert result.returncode == 0, result.describe()
    assert is_complete(tmp_path / "cli")
    assert not (tmp_path / "env").exists()


def test_metadata_records_the_policy_in_force(tmp_path):
    out = tmp_path / "out"
    result = run_api(
        f"import codetracer_python_recorder as r\nwith r.trace({str(out)!r}, policy={{\"keep_partial_trace\": True}}):\n    pass\n",
        CODETRACER_ON_RECORDER_ERROR="disable",
    )
    assert result.returncode == 0, result.describe()
    recorder = json.loads((out / "trace_metadata.json").read_text())["recorder"]
    assert recorder["policy"]["on_recorder_error"] == "disable"
    assert recorder["policy"]["keep_partial_trace"] is True
    assert recorder["partial"] is False
