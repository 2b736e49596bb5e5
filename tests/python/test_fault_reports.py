"""With the failure-fixtures build: what an error reports about the output
directory is what is on disk, a cleanup that panics never aborts the
interpreter, and bad fault variables are clear errors naming the bad part."""

import json
import os
import signal

import pytest

from conftest import TRACE_FILES, clean_env, is_complete, run, run_cli, write_script

PROGRAM = "def f(n):\n    return n + 1\nprint(sum(f(n) for n in range(100)))\n"


def recorder_paths(out):
    """Every path the recorder left under ``out`` (``out`` itself included)."""
    if not out.exists():
        return set()
    return {str(out)} | {str(path) for path in out.rglob("*")}


def trailer(result):
    lines = [line for line in result.json_lines() if "error_kind" in line]
    assert len(lines) == 1, result.describe()
    return lines[0]


def test_a_rollback_that_cannot_remove_reports_partial_leftovers_and_lists_them(tmp_path, fixtures_python):
    script = write_script(tmp_path, PROGRAM)
    out = tmp_path / "trace"
    env = clean_env(
        CODETRACER_FAULTFS_PLAN="fail=rename#3:EIO;deny=remove:**",
        CODETRACER_JSON_ERRORS="1",
    )
    result = run_cli(["--format", "json", "--out-dir", str(out), str(script)], python=fixtures_python, env=env)
    assert result.returncode == 10, result.describe()
    context = trailer(result)["context"]
    assert context["output"] == "partial-leftovers", context
    assert "Permission denied" in context["cleanup_error"]
    listed = set(context["leftovers"].split(", "))
    assert listed, context
    on_disk = recorder_paths(out)
    assert listed <= on_disk, "every listed path is really there"
    # Everything on disk is listed, or lies inside a listed directory.
    for path in on_disk:
        assert any(path == left or path.startswith(left + os.sep) for left in listed), path
    assert str(out / "trace.json") in listed


def test_a_removal_that_always_panics_never_aborts_and_the_complete_trace_stays(tmp_path, fixtures_python):
    script = write_script(tmp_path, PROGRAM)
    out = tmp_path / "trace"
    plain = run([str(script)])
    env = clean_env(FAILPOINTS="faultfs::remove=panic")
    result = run_cli(["--format", "json", "--out-dir", str(out), str(script)], python=fixtures_python, env=env)
    assert result.returncode == plain.returncode == 0, result.describe()
    assert result.returncode != -signal.SIGABRT
    assert result.stdout == plain.stdout
    assert "panic in a destructor" not in result.stderr
    names = {path.name for path in out.iterdir()}
    assert TRACE_FILES <= names
    staging = [path for path in out.iterdir() if path.name.startswith(".codetracer-staging-")]
    assert len(staging) == 1 and not any(staging[0].iterdir()), "only the empty staging directory stays"
    assert f"{staging[0]} could not be removed" in result.stderr, "and the warning says so"


@pytest.mark.parametrize(
    ("variable", "value", "named"),
    [
        ("FAILPOINTS", b"garbage", "garbage"),
        ("FAILPOINTS", b"recorder::finish=bogus(1)", "bogus"),
        ("CODETRACER_FAULTFS_PLAN", b"quota=10;deny=write:/t\xff/**", "not valid UTF-8"),
        ("CODETRACER_FAULTFS_PLAN", b"deny=write:**:ENOSPACE", "ENOSPACE"),
    ],
)
def test_a_bad_fault_variable_is_a_clear_error_naming_it(tmp_path, fixtures_python, variable, value, named):
    script = write_script(tmp_path, PROGRAM)
    out = tmp_path / "trace"
    env = {key.encode(): item.encode() for key, item in clean_env().items()}
    env[variable.encode()] = value
    result = run_cli(["--out-dir", str(out), str(script)], python=fixtures_python, env=env)
    assert result.returncode == 2, result.describe()
    assert "ERR_INVALID_FAULT_PLAN" in result.stderr
    assert named in result.stderr
    assert not out.exists()


def test_an_fsync_failure_names_fsync(tmp_path, fixtures_python):
    script = write_script(tmp_path, PROGRAM)
    env = clean_env(CODETRACER_FAULTFS_PLAN="fail=fsync#1:EIO", CODETRACER_JSON_ERRORS="1")
    result = run_cli(["--out-dir", str(tmp_path / "trace"), str(script)], python=fixtures_python, env=env)
    assert result.returncode == 10, result.describe()
    error = trailer(result)
    assert error["context"]["operation"] == "fsync", error
    assert error["message"].startswith("fsync "), error


def test_a_failed_staging_removal_after_commit_keeps_the_complete_trace(tmp_path, fixtures_python):
    script = write_script(tmp_path, PROGRAM)
    out = tmp_path / "trace"
    env = clean_env(CODETRACER_FAULTFS_PLAN="fail=remove#1:EIO")
    result = run_cli(["--out-dir", str(out), str(script)], python=fixtures_python, env=env)
    assert result.returncode == 0, result.describe()
    assert is_complete(out)
    assert json.loads((out / "trace_metadata.json").read_text())["recorder"]["partial"] is False
