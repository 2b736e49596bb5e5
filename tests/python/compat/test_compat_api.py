"""start/stop/flush/is_tracing, trace(), TraceSession, the native path, and the
errors 0.3 raised for the same situations."""

from __future__ import annotations

import json

import pytest

from compat_support import (
    called_functions,
    clean_env,
    complete,
    differs,
    last_json,
    run,
    run_code,
    run_file,
    trace_files,
    write,
)



def test_start_returns_the_session_and_stop_finishes_a_binary_trace_by_default(tmp_path):
    out = tmp_path / "out"
    found = last_json(run_code(f"""
        import json, pathlib, codetracer_python_recorder as r
        session = r.start({str(out)!r})
        states = [r.is_tracing(), type(session).__name__, isinstance(session.path, pathlib.Path),
                  str(session.path), session.format]
        r.flush()
        session.flush()
        r.stop()
        r.stop()  # a second stop is a no-op
        print(json.dumps([*states, r.is_tracing()]))
    """))
    assert found == [True, "TraceSession", True, str(out), "binary", False]
    assert complete(out, "trace.bin")


def test_format_is_case_insensitive_and_json_records_the_calls(tmp_path):
    out = tmp_path / "out"
    result = run_file(tmp_path, f"""
        import codetracer_python_recorder as r
        def work(n):
            return n * 2
        session = r.start({str(out)!r}, format="JSON")
        work(21)
        session.stop()
        print(session.format)
    """)
    assert result.stdout == "json\n", result.describe()
    assert complete(out, "trace.json")
    assert "work" in called_functions(out)


def test_trace_context_manager_stops_even_when_the_body_raises(tmp_path):
    out = tmp_path / "out"
    found = last_json(run_code(f"""
        import json, codetracer_python_recorder as r
        try:
            with r.trace({str(out)!r}, format=r.TRACE_JSON) as session:
                inside = r.is_tracing()
                raise KeyError("body")
        except KeyError:
            pass
        print(json.dumps([type(session).__name__, inside, r.is_tracing()]))
    """))
    assert found == ["TraceSession", True, False]
    assert complete(out, "trace.json")


def test_the_session_returned_by_start_is_a_context_manager(tmp_path):
    out = tmp_path / "out"
    found = last_json(run_code(f"""
        import json, codetracer_python_recorder as r
        with r.start({str(out)!r}, format="json") as session:
            inside = r.is_tracing()
        print(json.dumps([inside, r.is_tracing()]))
    """))
    assert found == [True, False]
    assert complete(out, "trace.json")


@differs("session-context-manager")
def test_a_trace_session_built_directly_records_its_with_block(tmp_path):
    out = tmp_path / "out"
    found = last_json(run_code(f"""
        import json, codetracer_python_recorder as r
        with r.TraceSession({str(out)!r}, "json"):
            inside = r.is_tracing()
        print(json.dumps([inside, r.is_tracing()]))
    """))
    assert found == [True, False]
    assert complete(out, "trace.json")


def test_stopping_a_session_that_is_not_the_active_one_does_nothing(tmp_path):
    found = last_json(run_code(f"""
        import json, codetracer_python_recorder as r
        active = r.start({str(tmp_path / 'out')!r})
        r.TraceSession({str(tmp_path / 'other')!r}, "json").stop()
        still = r.is_tracing()
        active.stop(exit_code=0)
        print(json.dumps([still, r.is_tracing()]))
    """))
    assert found == [True, False]


def _gated_run(tmp_path) -> list[str]:
    write(tmp_path, "def inner():\n    return 1\ninner()\n", "gate.py")
    out = tmp_path / "out"
    result = run_file(tmp_path, f"""
        import codetracer_python_recorder as r
        def before():
            return 0
        def after():
            return 2
        r.start({str(out)!r}, format="json", start_on_enter={str(tmp_path / 'gate.py')!r})
        before()
        import gate
        after()
        r.stop()
    """)
    assert result.returncode == 0, result.describe()
    return called_functions(out)


def test_start_on_enter_records_nothing_before_the_file_runs(tmp_path):
    called = _gated_run(tmp_path)
    assert "inner" in called
    assert "before" not in called


@differs("activation-continues")
def test_recording_continues_after_the_activation_file_returns(tmp_path):
    assert "after" in _gated_run(tmp_path)


def test_module_level_code_is_named_after_its_module(tmp_path):
    assert "<gate>" in _gated_run(tmp_path)


@pytest.mark.parametrize(
    ("call", "builtin"),
    [
        ("r.start(OUT, format='xml')", "ValueError"),
        ("r.start(FILE)", "ValueError"),
        ("r.start(OUT, trace_filter=MISSING)", "FileNotFoundError"),
        ("r.start(OUT, trace_filter=DIRECTORY)", "ValueError"),
        ("r.start(OUT, trace_filter='')", "ValueError"),
        ("r.start(OUT, trace_filter=3)", "TypeError"),
    ],
)
def test_misuse_raises_the_builtin_0_3_raised_and_records_nothing(tmp_path, call, builtin):
    (tmp_path / "file").write_text("x")
    found = last_json(run_code(f"""
        import json, codetracer_python_recorder as r
        OUT, FILE = {str(tmp_path / 'out')!r}, {str(tmp_path / 'file')!r}
        MISSING, DIRECTORY = {str(tmp_path / 'missing.toml')!r}, {str(tmp_path)!r}
        try:
            {call}
        except {builtin} as error:
            print(json.dumps([type(error).__name__, r.is_tracing()]))
    """))
    assert found[1] is False
    assert not (tmp_path / "out").exists()


@differs("typed-usage-errors")
@pytest.mark.parametrize(
    ("call", "code"),
    [
        ("r.start(OUT, format='xml')", "ERR_UNSUPPORTED_FORMAT"),
        ("r.start(FILE)", "ERR_TRACE_DIR_CONFLICT"),
        ("r.start(OUT, trace_filter=MISSING)", "ERR_INVALID_TRACE_FILTER"),
    ],
)
def test_misuse_is_also_a_usage_error_with_a_stable_code(tmp_path, call, code):
    (tmp_path / "file").write_text("x")
    found = last_json(run_code(f"""
        import json, codetracer_python_recorder as r
        OUT, FILE = {str(tmp_path / 'out')!r}, {str(tmp_path / 'file')!r}
        MISSING = {str(tmp_path / 'missing.toml')!r}
        try:
            {call}
        except r.UsageError as error:
            print(json.dumps(error.code))
    """))
    assert found == code


def test_a_second_start_raises_runtime_error_and_leaves_the_first_recording(tmp_path):
    found = last_json(run_code(f"""
        import json, codetracer_python_recorder as r
        r.start({str(tmp_path / 'one')!r}, format="json")
        try:
            r.start({str(tmp_path / 'two')!r}, format="json", policy={{"on_recorder_error": "disable"}})
        except RuntimeError:
            raised = True
        state = [raised, r.is_tracing(), r.policy_snapshot()["on_recorder_error"]]
        r.stop()
        print(json.dumps(state))
    """))
    assert found == [True, True, "abort"]
    assert complete(tmp_path / "one", "trace.json")
    assert not (tmp_path / "two").exists()


@differs("already-tracing-code")
def test_a_second_start_is_a_usage_error_err_already_tracing(tmp_path):
    found = last_json(run_code(f"""
        import json, codetracer_python_recorder as r
        r.start({str(tmp_path / 'one')!r})
        try:
            r.start({str(tmp_path / 'two')!r})
        except r.UsageError as error:
            print(json.dumps([error.code, error.kind]))
        r.stop()
    """))
    assert found == ["ERR_ALREADY_TRACING", "Usage"]


@pytest.mark.parametrize(
    ("call", "code"),
    [
        ("n.start_tracing(FILE, 'json')", "ERR_TRACE_DIR_CONFLICT"),
        ("n.start_tracing(OUT, 'xml')", "ERR_UNSUPPORTED_FORMAT"),
        ("n.start_tracing(OUT, 'json'); n.start_tracing(OUT + '2', 'json')", "ERR_ALREADY_TRACING"),
    ],
)
def test_the_native_path_raises_03s_codes(tmp_path, call, code):
    (tmp_path / "file").write_text("x")
    found = last_json(run_code(f"""
        import json
        import codetracer_python_recorder.codetracer_python_recorder as n
        OUT, FILE = {str(tmp_path / 'out')!r}, {str(tmp_path / 'file')!r}
        try:
            {call}
        except n.UsageError as error:
            print(json.dumps([error.code, n.is_tracing()]))
        n.stop_tracing()
    """))
    assert found[0] == code


def test_the_native_path_records(tmp_path):
    out = tmp_path / "out"
    result = run_file(tmp_path, f"""
        import codetracer_python_recorder.codetracer_python_recorder as n
        def work():
            return 1
        n.start_tracing({str(out)!r}, "json")
        work()
        n.flush_tracing()
        n.stop_tracing(0)
        print(n.is_tracing())
    """)
    assert result.stdout == "False\n", result.describe()
    assert "work" in called_functions(out)


def test_policy_overrides_apply_and_apply_env_policy_false_skips_the_environment(tmp_path):
    found = last_json(run_code(f"""
        import json, os, codetracer_python_recorder as r
        os.environ["CODETRACER_KEEP_PARTIAL_TRACE"] = "true"
        r.start({str(tmp_path / 'a')!r}, policy={{"require_trace": True}}, apply_env_policy=False)
        first = r.policy_snapshot()
        r.stop()
        r.start({str(tmp_path / 'b')!r})
        second = r.policy_snapshot()
        r.stop()
        print(json.dumps([first["require_trace"], first["keep_partial_trace"], second["keep_partial_trace"]]))
    """))
    assert found == [True, False, True]


def test_stop_exit_code_is_the_metadata_process_exit_status(tmp_path):
    out = tmp_path / "out"
    result = run_code(f"""
        import codetracer_python_recorder as r
        r.start({str(out)!r}, format="json")
        r.stop(exit_code=7)
    """)
    assert result.returncode == 0, result.describe()
    metadata = json.loads((out / "trace_metadata.json").read_text())
    assert metadata["process_exit_status"]["code"] == 7


def _filtered_run(tmp_path, how: str, **env: str):
    filter_file = write(tmp_path, """
        [meta]
        name = "skip-helper"
        version = 1

        [scope]
        default_exec = "trace"
        default_value_action = "allow"

        [[scope.rules]]
        selector = "obj:*.helper"
        exec = "skip"
    """, "filter.toml")
    out = tmp_path / "out"
    result = run_file(tmp_path, f"""
        import codetracer_python_recorder as r
        def helper():
            return 1
        def kept():
            return helper()
        {how.format(out=str(out), filter=str(filter_file))}
        kept()
        r.stop()
    """, **{key: value.format(filter=str(filter_file)) for key, value in env.items()})
    assert result.returncode == 0, result.describe()
    return called_functions(out)


def test_trace_filter_on_start_skips_the_selected_function(tmp_path):
    called = _filtered_run(tmp_path, "r.start({out!r}, format='json', trace_filter={filter!r})")
    assert "kept" in called and "helper" not in called


def test_trace_filter_joined_with_double_colons_in_a_sequence(tmp_path):
    called = _filtered_run(tmp_path, "r.start({out!r}, format='json', trace_filter=[{filter!r} + '::' + {filter!r}])")
    assert "kept" in called and "helper" not in called


def test_a_valid_trace_filter_is_accepted_and_the_program_recorded(tmp_path):
    called = _filtered_run(tmp_path, "r.start({out!r}, format='json', trace_filter={filter!r})")
    assert "kept" in called


@differs("codetracer-trace-at-exit")
def test_codetracer_trace_records_the_program_until_it_exits(tmp_path):
    out = tmp_path / "auto"
    script = write(tmp_path, """
        import codetracer_python_recorder as r
        def work():
            return 2
        print(r.is_tracing(), work())
    """)
    result = run([str(script)], env=clean_env(CODETRACER_TRACE=str(out), CODETRACER_FORMAT="json"))
    assert result.stdout == "True 2\n", result.describe()
    assert complete(out, "trace.json")
    assert "work" in called_functions(out)


def test_codetracer_trace_starts_recording_on_import(tmp_path):
    found = last_json(run_code(
        "import json, codetracer_python_recorder as r\nprint(json.dumps(r.is_tracing()))",
        CODETRACER_TRACE=str(tmp_path / "auto"),
    ))
    assert found is True
    assert trace_files(tmp_path / "auto") <= {"trace.bin", "trace_metadata.json", "trace_paths.json"}


@differs("non-empty-dir")
def test_a_non_empty_trace_directory_is_refused(tmp_path):
    out = tmp_path / "out"
    out.mkdir()
    (out / "notes.txt").write_text("the user's file")
    found = last_json(run_code(f"""
        import json, codetracer_python_recorder as r
        try:
            r.start({str(out)!r})
        except r.UsageError as error:
            print(json.dumps([error.code, r.is_tracing()]))
        else:
            r.stop()
            print(json.dumps(None))
    """))
    assert found == ["ERR_TRACE_DIR_CONFLICT", False]
    assert trace_files(out) == {"notes.txt"}


@differs("exception-class-names")
def test_exception_classes_are_named_as_exported():
    found = last_json(run_code("""
        import json, codetracer_python_recorder as r
        print(json.dumps([getattr(r, name).__name__ for name in
                          ("RecorderError", "UsageError", "EnvironmentError", "TargetError", "InternalError")]))
    """))
    assert found == ["RecorderError", "UsageError", "EnvironmentError", "TargetError", "InternalError"]
