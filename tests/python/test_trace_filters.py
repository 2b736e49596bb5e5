"""Trace filters from the Python side: every way to name them (CLI flag,
variable, ``start(trace_filter=)``, the auto-start hook, the project filter),
the metadata they leave, and the usage error a bad one is under both policies."""

import json
import textwrap

import pytest

from conftest import clean_env, payloads, run, run_cli, write_script

SKIP_HELPER = """
[meta]
name = "skip-helper"
version = 1

[scope]
default_exec = "trace"
default_value_action = "allow"

[[scope.rules]]
selector = "obj:*.helper"
exec = "skip"
"""

REDACT_NOTE = """
[meta]
name = "redact-note"
version = 1

[scope]
default_exec = "inherit"
default_value_action = "inherit"

[[scope.rules]]
selector = "file:**"

[[scope.rules.value_patterns]]
selector = "local:literal:note"
action = "redact"
"""

MALFORMED = """
[meta]
name = "malformed"
version = 1

[scope]
default_exec = "trace"
default_value_action = "allow"

[[scope.rules]]
selector = "module:app"
exec = "skip"
"""

PROGRAM = """
def helper():
    return 1

def kept():
    note = "private"
    return helper() + 1

print(kept())
"""


def write(directory, text, name):
    path = directory / name
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(textwrap.dedent(text))
    return path


def trace_of(out):
    events = json.loads((out / "trace.json").read_text())
    functions = [f["name"] for f in payloads(events, "Function")]
    called = [functions[call["function_id"]] for call in payloads(events, "Call")]
    metadata = json.loads((out / "trace_metadata.json").read_text())
    return events, called, metadata


def test_flag_and_variable_chain_in_order_and_the_metadata_lists_them(tmp_path):
    skip = write(tmp_path, SKIP_HELPER, "filters/skip.toml")
    note = write(tmp_path, REDACT_NOTE, "filters/note.toml")
    script = write_script(tmp_path, PROGRAM)
    out = tmp_path / "out"
    result = run_cli(["--out-dir", str(out), "--format", "json", "--trace-filter", str(note), str(script)],
                     env=clean_env(CODETRACER_TRACE_FILTER=str(skip)))
    assert result.returncode == 0 and result.stdout == "2\n", result.describe()
    events, called, metadata = trace_of(out)
    assert called == ["<toplevel>", "<__main__>", "kept"]
    assert "private" not in (out / "trace.json").read_text()
    filters = metadata["trace_filter"]["filters"]
    assert [f["name"] for f in filters] == ["builtin-default", "skip-helper", "redact-note"]
    assert [f["path"] for f in filters[1:]] == [str(skip), str(note)]
    assert all(len(f["sha256"]) == 64 for f in filters)
    assert metadata["trace_filter"]["stats"]["value_redactions"]["local"] >= 1
    assert metadata["process_exit_status"] == {"code": 0, "label": None}


def test_the_project_filter_is_found_above_the_script(tmp_path):
    write(tmp_path, SKIP_HELPER, ".codetracer/trace-filter.toml")
    script = write(tmp_path, PROGRAM, "app/tools/run.py")
    out = tmp_path / "out"
    result = run_cli(["--out-dir", str(out), "--format", "json", str(script)])
    assert result.returncode == 0, result.describe()
    _, called, metadata = trace_of(out)
    assert "helper" not in called and "kept" in called
    assert metadata["trace_filter"]["filters"][1]["path"] == str(tmp_path / ".codetracer" / "trace-filter.toml")


def test_the_auto_start_hook_reads_the_variable(tmp_path):
    skip = write(tmp_path, SKIP_HELPER, "skip.toml")
    script = write_script(tmp_path, "import codetracer_python_recorder\n" + PROGRAM)
    out = tmp_path / "auto"
    result = run([str(script)], env=clean_env(CODETRACER_TRACE=str(out), CODETRACER_FORMAT="json",
                                              CODETRACER_TRACE_FILTER=str(skip)))
    assert result.returncode == 0, result.describe()
    _, called, metadata = trace_of(out)
    assert "kept" in called and "helper" not in called
    assert [f["name"] for f in metadata["trace_filter"]["filters"]] == ["builtin-default", "skip-helper"]


@pytest.mark.parametrize("policy", ["abort", "disable"])
def test_a_malformed_filter_stops_the_cli_before_the_program_runs(tmp_path, policy):
    bad = write(tmp_path, MALFORMED, "bad.toml")
    script = write_script(tmp_path, PROGRAM)
    out = tmp_path / "out"
    result = run_cli(["--out-dir", str(out), "--format", "json", "--trace-filter", str(bad),
                      "--codetracer-json-errors", f"--codetracer-on-recorder-error={policy}", str(script)])
    assert result.returncode == 2, result.describe()
    assert result.stdout == ""
    assert not out.exists()
    [trailer] = result.trailers()
    assert trailer["error_code"] == "ERR_INVALID_TRACE_FILTER"
    assert trailer["context"]["path"] == str(bad)
    assert trailer["context"]["key"] == "scope.rules[0].selector"
    assert trailer["context"]["line"] == "11"
    assert 'unknown selector kind "module"' in trailer["message"]


@pytest.mark.parametrize("policy", ["abort", "disable"])
def test_start_raises_for_a_malformed_filter_under_both_policies(tmp_path, policy):
    bad = write(tmp_path, MALFORMED, "bad.toml")
    code = f"""
        import codetracer_python_recorder as r
        try:
            r.start({str(tmp_path / 'out')!r}, trace_filter={str(bad)!r}, policy={{"on_recorder_error": {policy!r}}})
        except r.UsageError as error:
            print(error.code, error.context["key"], r.is_tracing())
    """
    result = run(["-c", textwrap.dedent(code)])
    assert result.stdout.split() == ["ERR_INVALID_TRACE_FILTER", "scope.rules[0].selector", "False"], result.describe()
    assert not (tmp_path / "out").exists()


def test_module_code_is_named_after_its_module_unless_the_policy_says_no(tmp_path):
    write(tmp_path, "def f():\n    return 1\n", "pkg/mod.py")
    script = write_script(tmp_path, "import pkg.mod\npkg.mod.f()\n")
    named, plain = tmp_path / "named", tmp_path / "plain"
    assert run_cli(["--out-dir", str(named), "--format", "json", str(script)]).returncode == 0
    assert run_cli(["--out-dir", str(plain), "--format", "json", "--no-module-name-from-globals",
                    str(script)]).returncode == 0
    assert trace_of(named)[1] == ["<toplevel>", "<__main__>", "<pkg.mod>", "f"]
    assert trace_of(plain)[1] == ["<toplevel>", "<module>", "<module>", "f"]
