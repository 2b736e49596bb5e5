"""The command line: every 0.3 flag, exit statuses, and the program's view of
its process, with plain ``python`` as the oracle."""

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
    run_cli,
    run_code,
    trace_files,
    write,
)

PROGRAM = """
import sys
def greet(name):
    return "hello " + name
print(greet("world"))
print("args", sys.argv[1:])
"""

FILTER = """
[meta]
name = "skip-greet"
version = 1

[scope]
default_exec = "trace"
default_value_action = "allow"

[[scope.rules]]
selector = "obj:*.greet"
exec = "skip"
"""


@pytest.fixture
def program(tmp_path):
    return write(tmp_path, PROGRAM)


def test_defaults_record_into_trace_out_in_the_binary_format(tmp_path, program):
    result = run_cli([str(program)], cwd=tmp_path)
    assert result.returncode == 0, result.describe()
    assert result.stdout == run([str(program)]).stdout
    assert complete(tmp_path / "trace-out", "trace.bin")


@pytest.mark.parametrize(
    "flags",
    [
        ["--format", "json"],
        ["--format", "JSON"],
        ["--activation-path", "{program}"],
        ["--trace-filter", "{filter}"],
        ["--trace-filter", "{filter}::{filter}"],
        ["--on-recorder-error", "disable"],
        ["--on-recorder-error", "abort"],
        ["--require-trace"],
        ["--keep-partial-trace"],
        ["--log-level", "debug"],
        ["--log-file", "{tmp}/recorder.log"],
        ["--json-errors"],
        ["--io-capture", "off"],
        ["--io-capture", "proxies"],
        pytest.param(["--io-capture", "proxies+fd"], marks=differs("io-capture-fd")),
        ["--module-name-from-globals"],
        ["--no-module-name-from-globals"],
        ["--propagate-script-exit"],
        ["--no-propagate-script-exit"],
    ],
)
def test_every_03_flag_is_accepted_and_the_program_runs_unchanged(tmp_path, program, flags):
    filter_file = write(tmp_path, FILTER, "filter.toml")
    flags = [flag.format(program=program, filter=filter_file, tmp=tmp_path) for flag in flags]
    out = tmp_path / "out"
    args = ["--trace-dir", str(out), *flags] if "--format" in flags else ["--trace-dir", str(out), "--format", "json", *flags]
    result = run_cli([*args, str(program), "a"])
    plain = run([str(program), "a"])
    assert result.returncode == plain.returncode == 0, result.describe()
    assert result.stdout == plain.stdout
    assert complete(out, "trace.json"), trace_files(out)


@pytest.mark.parametrize(
    "flags", [["--format", "xml"], ["--on-recorder-error", "explode"], ["--io-capture", "bogus"], ["--bogus-flag"]]
)
def test_bad_flags_exit_2_before_the_program_runs(tmp_path, program, flags):
    result = run_cli(["--trace-dir", str(tmp_path / "out"), *flags, str(program)])
    assert result.returncode == 2, result.describe()
    assert result.stdout == ""
    assert not (tmp_path / "out").exists()


def test_a_missing_script_exits_2(tmp_path):
    result = run_cli(["--trace-dir", str(tmp_path / "out"), str(tmp_path / "missing.py")])
    assert result.returncode == 2, result.describe()
    assert result.stdout == ""


@differs("propagate-default")
def test_the_program_exit_status_is_the_cli_status_by_default(tmp_path):
    script = write(tmp_path, "import sys\nsys.exit(3)\n")
    assert run_cli(["--trace-dir", str(tmp_path / "out"), str(script)]).returncode == 3


def test_propagate_script_exit_flags(tmp_path):
    script = write(tmp_path, "import sys\nprint('ran')\nsys.exit(3)\n")
    mirrored = run_cli(["--trace-dir", str(tmp_path / "a"), "--propagate-script-exit", str(script)])
    assert (mirrored.returncode, mirrored.stdout) == (3, "ran\n"), mirrored.describe()
    zeroed = run_cli(["--trace-dir", str(tmp_path / "b"), "--no-propagate-script-exit", str(script)])
    assert (zeroed.returncode, zeroed.stdout) == (0, "ran\n"), zeroed.describe()
    assert "3" in zeroed.stderr
    from_env = run_cli(["--trace-dir", str(tmp_path / "c"), str(script)],
                       env=clean_env(CODETRACER_PROPAGATE_SCRIPT_EXIT="false"))
    assert from_env.returncode == 0, from_env.describe()


@differs("sys-exit-status")
@pytest.mark.parametrize("body", ["sys.exit()", "sys.exit(None)", "raise SystemExit"])
def test_sys_exit_without_a_status_is_0_as_under_python(tmp_path, body):
    script = write(tmp_path, f"import sys\n{body}\n")
    assert run([str(script)]).returncode == 0
    result = run_cli(["--trace-dir", str(tmp_path / "out"), "--propagate-script-exit", str(script)])
    assert result.returncode == 0, result.describe()


@differs("sys-exit-status")
def test_sys_exit_with_a_message_prints_it_as_python_does(tmp_path):
    script = write(tmp_path, "import sys\nsys.exit('fatal: bad input')\n")
    plain = run([str(script)])
    result = run_cli(["--trace-dir", str(tmp_path / "out"), "--propagate-script-exit", str(script)])
    assert (result.returncode, result.stderr) == (plain.returncode, plain.stderr) == (1, "fatal: bad input\n")


@differs("tracebacks")
def test_an_uncaught_exception_prints_pythons_traceback_exactly(tmp_path):
    script = write(tmp_path, "def f():\n    raise ValueError('boom')\nf()\n")
    plain = run([str(script)])
    result = run_cli(["--trace-dir", str(tmp_path / "out"), "--propagate-script-exit", str(script)])
    assert (result.returncode, result.stdout, result.stderr) == (plain.returncode, plain.stdout, plain.stderr)


VIEW = """
import json, os, sys
print(json.dumps({"name": __name__, "file": __file__, "args": sys.argv[1:], "argv0": sys.argv[0],
                  "path0": sys.path[0], "spec": repr(__spec__), "package": __package__,
                  "loader": type(__loader__).__name__ if "__loader__" in globals() else None,
                  "cwd_file": os.path.isabs(__file__)}))
"""


def _views(tmp_path, cwd):
    script = write(tmp_path / "app", VIEW)
    relative = script.relative_to(cwd) if script.is_relative_to(cwd) else script
    plain = last_json(run([str(relative), "x", "--flag"], cwd=cwd))
    traced = last_json(run_cli(["--trace-dir", str(tmp_path / "out"), str(relative), "x", "--flag"], cwd=cwd))
    return plain, traced


def test_name_file_and_arguments_are_pythons(tmp_path):
    plain, traced = _views(tmp_path, tmp_path)
    for key in ("name", "file", "args", "cwd_file"):
        assert traced[key] == plain[key], key


@differs("argv0")
def test_argv0_is_the_script_as_given(tmp_path):
    plain, traced = _views(tmp_path, tmp_path)
    assert traced["argv0"] == plain["argv0"] == "app/program.py"


@differs("sys-path0")
def test_sys_path0_is_the_scripts_directory(tmp_path):
    plain, traced = _views(tmp_path, tmp_path)
    assert traced["path0"] == plain["path0"] == str((tmp_path / "app").resolve())


@differs("main-globals")
def test_main_module_globals_are_pythons(tmp_path):
    plain, traced = _views(tmp_path, tmp_path)
    assert [traced[key] for key in ("spec", "package", "loader")] == [plain[key] for key in ("spec", "package", "loader")]


def test_a_double_dash_after_the_script_is_a_separator(tmp_path, program):
    result = run_cli(["--trace-dir", str(tmp_path / "out"), str(program), "--", "--format", "json"])
    assert result.returncode == 0, result.describe()
    assert "args ['--format', 'json']" in result.stdout


@differs("args-after-script")
def test_options_after_the_script_belong_to_the_program(tmp_path, program):
    out = tmp_path / "out"
    result = run_cli(["--trace-dir", str(out), str(program), "--format", "json"])
    assert result.returncode == 0, result.describe()
    assert "args ['--format', 'json']" in result.stdout
    assert complete(out, "trace.bin")


@differs("stack-depth")
def test_the_cli_adds_at_most_two_frames_below_the_program(tmp_path):
    script = write(tmp_path, """
        import sys
        def r(n):
            return r(n - 1) if n else 0
        print(r(sys.getrecursionlimit() - 4))
    """)
    assert run([str(script)]).stdout == "0\n"
    result = run_cli(["--trace-dir", str(tmp_path / "out"), str(script)])
    assert (result.returncode, result.stdout) == (0, "0\n"), result.describe()


@differs("dash-m")
def test_dash_m_runs_a_module(tmp_path):
    write(tmp_path / "pkg", "", "__init__.py")
    write(tmp_path / "pkg", "import sys\nprint('tool', __name__, sys.argv[1:])\n", "tool.py")
    result = run_cli(["--trace-dir", str(tmp_path / "out"), "-m", "pkg.tool", "a"], cwd=tmp_path)
    assert (result.returncode, result.stdout) == (0, "tool __main__ ['a']\n"), result.describe()


@differs("cli-exit-codes")
def test_a_recorder_start_failure_exits_with_the_usage_code(tmp_path, program):
    blocker = tmp_path / "file"
    blocker.write_text("x")
    result = run_cli(["--trace-dir", str(blocker), str(program)])
    assert result.returncode == 2, result.describe()


def test_a_recorder_start_failure_does_not_run_the_program(tmp_path, program):
    blocker = tmp_path / "file"
    blocker.write_text("x")
    result = run_cli(["--trace-dir", str(blocker), str(program)])
    assert result.returncode != 0
    assert result.stdout == ""


def test_main_runs_in_process_and_returns_the_status(tmp_path, program):
    out = tmp_path / "out"
    found = last_json(run_code(f"""
        import json, sys
        from codetracer_python_recorder.cli import main
        before = list(sys.argv)
        status = main(["--trace-dir", {str(out)!r}, "--format", "json", {str(program)!r}, "a"])
        print(json.dumps([status, sys.argv == before]))
    """))
    assert found == [0, True]
    assert complete(out, "trace.json")


def test_trace_filter_flag_and_variable_skip_the_selected_function(tmp_path, program):
    filter_file = write(tmp_path, FILTER, "filter.toml")
    out_flag, out_env = tmp_path / "flag", tmp_path / "env"
    assert run_cli(["--trace-dir", str(out_flag), "--format", "json", "--trace-filter", str(filter_file),
                    str(program)]).returncode == 0
    assert run_cli(["--trace-dir", str(out_env), "--format", "json", str(program)],
                   env=clean_env(CODETRACER_TRACE_FILTER=str(filter_file))).returncode == 0
    assert "greet" not in called_functions(out_flag)
    assert "greet" not in called_functions(out_env)


def test_the_recorded_program_calls_are_in_the_trace(tmp_path, program):
    out = tmp_path / "out"
    assert run_cli(["--trace-dir", str(out), "--format", "json", str(program)]).returncode == 0
    assert "greet" in called_functions(out)
    metadata = json.loads((out / "trace_metadata.json").read_text())
    assert metadata["program"] == str(program)


@differs("filter-semantics")
def test_a_catch_all_project_rule_keeps_secrets_out_of_the_trace(tmp_path):
    project = tmp_path / "project"
    (project / ".codetracer").mkdir(parents=True)
    write(project / ".codetracer", """
        [meta]
        name = "trace-everything"
        version = 1

        [scope]
        default_exec = "trace"
        default_value_action = "allow"

        [[scope.rules]]
        selector = "pkg:glob:*"
        exec = "trace"
    """, "trace-filter.toml")
    script = write(project, """
        def login(user):
            password = "hunter2"
            span = "kept"
            return user
        print(login("ada"))
    """, "app.py")
    out = tmp_path / "out"
    result = run_cli(["--trace-dir", str(out), "--format", "json", str(script)])
    assert result.stdout == "ada\n", result.describe()
    text = (out / "trace.json").read_text()
    assert "login" in called_functions(out)
    assert "hunter2" not in text
    assert '"kept"' in text
