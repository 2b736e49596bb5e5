"""The CLI: the program behaves as under plain python, the recorder stays on stderr."""

import json
import signal
import sys

import pytest

from conftest import EXAMPLES, is_complete, run, run_cli, write_script

EXAMPLE_NAMES = sorted(path.name for path in EXAMPLES.glob("*.py"))


@pytest.mark.parametrize("example", EXAMPLE_NAMES)
def test_every_example_records_a_complete_trace_with_identical_stdout(tmp_path, example):
    plain = run([str(EXAMPLES / example)])
    out = tmp_path / "trace"
    traced = run_cli(["--out-dir", str(out), "--format", "json", str(EXAMPLES / example)])
    assert traced.returncode == plain.returncode == 0, traced.describe()
    assert traced.stdout == plain.stdout
    assert is_complete(out), sorted(p.name for p in out.iterdir()) if out.exists() else "no trace dir"
    events = json.loads((out / "trace.json").read_text())
    assert isinstance(events, list) and events


@pytest.mark.parametrize(
    ("body", "expected_code", "stderr_has"),
    [
        ("print('x')", 0, None),
        ("import sys; print('x'); sys.exit()", 0, None),
        ("import sys; sys.exit(None)", 0, None),
        ("import sys; sys.exit(0)", 0, None),
        ("import sys; sys.exit(3)", 3, None),
        ("import sys; sys.exit(True)", 1, None),
        ("import sys; print('out'); sys.exit('fatal: bad input')", 1, "fatal: bad input"),
        ("raise SystemExit(7)", 7, None),
        ("def f():\n    raise ValueError('boom')\nf()", 1, "ValueError: boom"),
    ],
)
def test_exit_status_and_output_match_plain_python(tmp_path, body, expected_code, stderr_has):
    script = write_script(tmp_path, body + "\n")
    plain = run([str(script)])
    traced = run_cli(["--out-dir", str(tmp_path / "out"), str(script)])
    assert plain.returncode == expected_code
    assert traced.returncode == expected_code, traced.describe()
    assert traced.stdout == plain.stdout
    if stderr_has:
        assert stderr_has in traced.stderr
    if "ValueError" in body:
        assert "Traceback (most recent call last)" in traced.stderr
        assert "codetracer_python_recorder" not in traced.stderr.split("Traceback", 1)[1]


def test_keyboard_interrupt_ends_the_process_as_python_does(tmp_path):
    script = write_script(tmp_path, "print('before', flush=True)\nraise KeyboardInterrupt\n")
    plain = run([str(script)])
    traced = run_cli(["--out-dir", str(tmp_path / "out"), str(script)])
    assert plain.returncode == -signal.SIGINT
    assert traced.returncode == plain.returncode, traced.describe()
    assert traced.stdout == "before\n"
    assert "KeyboardInterrupt" in traced.stderr


def test_the_script_sees_main_argv_and_its_directory_on_sys_path(tmp_path):
    (tmp_path / "helper_mod.py").write_text("VALUE = 'helper'\n")
    script = write_script(
        tmp_path,
        """
        import json, os, sys
        import helper_mod
        print(json.dumps({"name": __name__, "argv": sys.argv, "path0": sys.path[0],
                          "file": os.path.basename(__file__), "helper": helper_mod.VALUE}))
        """,
    )
    result = run_cli(["--out-dir", str(tmp_path / "out"), str(script), "a", "--flag", "-m", "x"], cwd="/")
    assert result.returncode == 0, result.describe()
    seen = json.loads(result.stdout)
    assert seen == {
        "name": "__main__",
        "argv": [str(script), "a", "--flag", "-m", "x"],
        "path0": str(tmp_path.resolve()),
        "file": "program.py",
        "helper": "helper",
    }


def test_dash_m_runs_a_module_and_a_package_main(tmp_path):
    package = tmp_path / "pkg"
    package.mkdir()
    (package / "__init__.py").write_text("")
    (package / "tool.py").write_text("import sys\nprint('tool', __name__, sys.argv[1:])\n")
    (package / "__main__.py").write_text("print('package main', __name__)\n")
    tool = run_cli(["--out-dir", str(tmp_path / "o1"), "-m", "pkg.tool", "x", "y"], cwd=tmp_path)
    assert tool.returncode == 0, tool.describe()
    assert tool.stdout == "tool __main__ ['x', 'y']\n"
    assert is_complete(tmp_path / "o1")
    main = run_cli(["--trace-dir", str(tmp_path / "o2"), "-m", "pkg"], cwd=tmp_path)
    assert main.returncode == 0, main.describe()
    assert main.stdout == "package main __main__\n"
    missing = run_cli(["-m", "no_such_module_here"], cwd=tmp_path)
    assert missing.returncode == 1
    assert "no_such_module_here" in missing.stderr


def test_trace_dir_is_the_03_spelling_and_the_default_is_trace_out(tmp_path):
    script = write_script(tmp_path, "print('hi')\n")
    alias = run_cli(["--trace-dir", str(tmp_path / "alias"), str(script)])
    assert alias.returncode == 0, alias.describe()
    assert is_complete(tmp_path / "alias")
    default = run_cli([str(script)], cwd=tmp_path)
    assert default.returncode == 0, default.describe()
    assert is_complete(tmp_path / "trace-out")


def test_binary_format(tmp_path):
    script = write_script(tmp_path, "print('hi')\n")
    result = run_cli(["--format", "binary", "--out-dir", str(tmp_path / "out"), str(script)])
    assert result.returncode == 0, result.describe()
    assert (tmp_path / "out" / "trace.bin").exists()


@pytest.mark.parametrize(
    "args",
    [
        [],
        ["--out-dir"],
        ["--format", "xml", "x.py"],
        ["--no-such-option", "x.py"],
        ["--out-dir", "a", "--trace-dir", "b", "x.py"],
    ],
)
def test_usage_errors_exit_2_with_nothing_on_stdout(tmp_path, args):
    result = run_cli(args, cwd=tmp_path)
    assert result.returncode == 2, result.describe()
    assert result.stdout == ""
    assert "usage:" in result.stderr


def test_a_missing_script_exits_2(tmp_path):
    result = run_cli(["--out-dir", str(tmp_path / "out"), str(tmp_path / "nope.py")])
    assert result.returncode == 2
    assert "nope.py" in result.stderr
    assert not (tmp_path / "out").exists()


def test_recorder_diagnostics_never_reach_stdout(tmp_path):
    script = write_script(tmp_path, "import sys\nprint('only this')\nprint('err', file=sys.stderr)\n")
    result = run_cli(
        ["--codetracer-log-level", "trace", "--codetracer-json-errors", "--out-dir", str(tmp_path / "out"), str(script)]
    )
    assert result.returncode == 0, result.describe()
    assert result.stdout == "only this\n"


def test_console_script_is_installed():
    scripts = sys.executable.rsplit("/", 1)[0]
    result = run([f"{scripts}/codetracer-python-recorder", "--help"], python="/usr/bin/env")
    assert result.returncode == 0, result.describe()
    assert "--out-dir" in result.stdout
