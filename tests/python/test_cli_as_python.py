"""The CLI runs the program exactly as ``python script.py`` / ``python -m module``:
same stdout, stderr and exit status, same ``__file__``, ``sys.argv``,
``sys.path[0]``, tracebacks, and at most two extra stack frames. Plain python
is the oracle of every test."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import uuid

import pytest

from conftest import clean_env, is_complete, run


def write_script(directory, source: str, name: str = "program.py"):
    """Writes a dedented script, creating its directory."""
    import textwrap

    directory.mkdir(parents=True, exist_ok=True)
    path = directory / name
    path.write_text(textwrap.dedent(source))
    return path


def both(tmp_path, target: list[str], *, cwd=None, python_args: list[str] = (), cli_args: list[str] = ()):
    """(plain, traced): ``python [python_args] target`` and the same under the CLI."""
    plain = run([*python_args, *target], cwd=cwd)
    out = tmp_path / f"trace-{uuid.uuid4().hex}"
    traced = run([*python_args, "-m", "codetracer_python_recorder", "--out-dir", str(out), *cli_args, *target], cwd=cwd)
    return plain, traced


def assert_same(plain, traced):
    assert (traced.returncode, traced.stdout, traced.stderr) == (plain.returncode, plain.stdout, plain.stderr), (
        f"--- python\n{plain.describe()}\n--- recorder\n{traced.describe()}"
    )


VIEW = """
import json, os, sys
print(json.dumps({"file": __file__, "argv": sys.argv, "path0": sys.path[0], "name": __name__,
                  "spec": None if __spec__ is None else [__spec__.name, __spec__.origin], "package": __package__, "loader": type(__loader__).__name__,
                  "cached": __cached__, "main_is_module": sys.modules["__main__"].__dict__ is globals()}))
"""


@pytest.mark.parametrize("cwd_is_script_dir", [True, False])
def test_the_program_sees_what_python_shows_it(tmp_path, cwd_is_script_dir):
    script = write_script(tmp_path / "app", VIEW)
    cwd = tmp_path / "app" if cwd_is_script_dir else tmp_path
    target = os.path.relpath(script, cwd)
    plain, traced = both(tmp_path, [target, "a", "--flag", "-m", "x"], cwd=cwd)
    assert_same(plain, traced)
    assert json.loads(traced.stdout)["file"] == str(script)  # absolute, as python sets it


def test_a_script_that_chdirs_after_reading_dirname_of_file(tmp_path):
    script = write_script(tmp_path / "app", """
        import os
        here = os.path.dirname(__file__)
        os.chdir("/")
        print(open(os.path.join(here, "data.txt")).read())
    """)
    (tmp_path / "app" / "data.txt").write_text("found it")
    plain, traced = both(tmp_path, ["app/program.py"], cwd=tmp_path)
    assert_same(plain, traced)
    assert traced.stdout == "found it\n"


def test_sys_path0_resolves_a_symlinked_directory_as_python_does(tmp_path):
    write_script(tmp_path / "real", "import sys\nprint(sys.path[0])\n")
    (tmp_path / "link").symlink_to(tmp_path / "real")
    plain, traced = both(tmp_path, ["link/program.py"], cwd=tmp_path)
    assert_same(plain, traced)
    assert traced.stdout.strip() == str((tmp_path / "real").resolve())


def test_safe_path_leaves_sys_path_alone(tmp_path):
    write_script(tmp_path / "app", "import sys\nprint(sys.path[0] != sys.argv[0].rsplit('/', 1)[0])\n")
    plain, traced = both(tmp_path, ["app/program.py"], cwd=tmp_path, python_args=["-P"])
    assert_same(plain, traced)


@pytest.mark.parametrize(
    "body",
    [
        "def f():\n    raise ValueError('boom')\nf()",
        "raise KeyError('k') from OSError('cause')",
        "try:\n    1 / 0\nexcept ZeroDivisionError:\n    raise RuntimeError('during handling')",
        "import sys\nsys.exit('fatal: bad input')",
        "import sys\nsys.exit(4)",
        "import sys\nsys.exit()",
        "def (\n",
        "print('out')\nraise SystemExit(300)",
    ],
)
def test_endings_print_and_exit_exactly_as_python(tmp_path, body):
    script = write_script(tmp_path, body + "\n")
    assert_same(*both(tmp_path, [str(script)]))


def test_keyboard_interrupt_traceback_and_signal_death_as_python(tmp_path):
    script = write_script(tmp_path, """
        import atexit
        atexit.register(print, "atexit ran", flush=True)
        def deep():
            raise KeyboardInterrupt
        deep()
    """)
    plain, traced = both(tmp_path, [str(script)])
    assert_same(plain, traced)
    assert traced.returncode < 0 and "atexit ran" in traced.stdout


def test_the_programs_own_excepthook_receives_the_uncaught_exception(tmp_path):
    script = write_script(tmp_path, """
        import sys, traceback
        def hook(kind, value, tb):
            frames = [frame.name for frame in traceback.extract_tb(tb)]
            print("hook", kind.__name__, frames, sys.last_value is value)
        sys.excepthook = hook
        def fail():
            raise LookupError("x")
        fail()
    """)
    plain, traced = both(tmp_path, [str(script)])
    assert_same(plain, traced)
    assert traced.stdout == "hook LookupError ['<module>', 'fail'] True\n"


RECURSION = """
import sys
def r(n):
    return r(n - 1) if n else 0
print(r(sys.getrecursionlimit() - 4))
"""

HEADROOM = """
import sys
sys.setrecursionlimit(200)
def r(n):
    return r(n - 1) if n else 0
deepest = 0
for n in range(300):
    try:
        r(n)
    except RecursionError:
        break
    deepest = n
print(deepest)
"""


def test_deep_recursion_that_python_survives_survives_the_cli(tmp_path):
    script = write_script(tmp_path, RECURSION)
    assert_same(*both(tmp_path, [str(script)]))


@pytest.mark.parametrize("launch", ["script", "module"])
def test_the_cli_costs_at_most_two_frames_of_headroom(tmp_path, launch):
    write_script(tmp_path, HEADROOM, "headroom.py")
    target = [str(tmp_path / "headroom.py")] if launch == "script" else ["-m", "headroom"]
    plain, traced = both(tmp_path, target, cwd=tmp_path)
    assert plain.returncode == traced.returncode == 0, traced.describe()
    cost = int(plain.stdout) - int(traced.stdout)
    assert 0 <= cost <= 2, f"python reaches depth {plain.stdout.strip()}, the CLI {traced.stdout.strip()}"


def test_console_script_costs_at_most_two_frames_too(tmp_path):
    script = write_script(tmp_path, HEADROOM, "headroom.py")
    console = os.path.join(os.path.dirname(sys.executable), "codetracer-python-recorder")
    plain = run([str(script)])
    traced = run([console, "--out-dir", str(tmp_path / "trace"), str(script)], python="/usr/bin/env")
    assert traced.returncode == 0, traced.describe()
    assert 0 <= int(plain.stdout) - int(traced.stdout) <= 2


def test_dash_m_module_as_python_dash_m(tmp_path):
    write_script(tmp_path / "pkg", "", "__init__.py")
    write_script(tmp_path / "pkg", VIEW + "import pkg.helper\n", "tool.py")
    write_script(tmp_path / "pkg", "def fail():\n    raise ValueError('in module')\n", "helper.py")
    assert_same(*both(tmp_path, ["-m", "pkg.tool", "a", "b"], cwd=tmp_path))
    write_script(tmp_path / "pkg", "from pkg.helper import fail\nfail()\n", "__main__.py")
    plain, traced = both(tmp_path, ["-m", "pkg"], cwd=tmp_path)
    assert_same(plain, traced)
    assert "<frozen runpy>" in traced.stderr  # python -m shows runpy's frames too, and only those
    assert_same(*both(tmp_path, ["-m", "no_such_module_here"], cwd=tmp_path))


def test_dash_m_runs_the_parent_package_once_and_reports_its_failure_as_python(tmp_path):
    write_script(tmp_path / "loud", "print('package init ran')\n", "__init__.py")
    write_script(tmp_path / "loud", "print('tool ran')\n", "tool.py")
    assert_same(*both(tmp_path, ["-m", "loud.tool"], cwd=tmp_path))
    write_script(tmp_path / "broken", "raise RuntimeError('init failed')\n", "__init__.py")
    write_script(tmp_path / "broken", "print('never')\n", "tool.py")
    plain, traced = both(tmp_path, ["-m", "broken.tool"], cwd=tmp_path)
    assert_same(plain, traced)
    assert "RuntimeError: init failed" in traced.stderr


def test_a_directory_with_main_runs_as_python_runs_it(tmp_path):
    write_script(tmp_path / "appdir", VIEW, "__main__.py")
    assert_same(*both(tmp_path, ["appdir", "x"], cwd=tmp_path))


def test_interpreter_options_and_pid_are_kept(tmp_path):
    script = write_script(tmp_path, """
        import os, sys
        print(sys.flags.utf8_mode, sys.flags.dont_write_bytecode, sys.orig_argv[1:4], os.getpid())
    """)
    process = subprocess.Popen(
        [sys.executable, "-X", "utf8", "-B", "-m", "codetracer_python_recorder", "--out-dir", str(tmp_path / "t"),
         str(script)],
        stdout=subprocess.PIPE, text=True, env=clean_env(),
    )
    out, _ = process.communicate(timeout=60)
    assert process.returncode == 0
    assert out.split() == ["1", "1", "['-X',", "'utf8',", "'-B']", str(process.pid)]
    assert is_complete(tmp_path / "t")


def test_the_program_reads_stdin_as_under_python(tmp_path):
    script = write_script(tmp_path, "import sys\nprint(sys.stdin.read().upper())\n")
    traced = run(["-m", "codetracer_python_recorder", "--out-dir", str(tmp_path / "t"), str(script)], input="piped\n")
    assert (traced.returncode, traced.stdout) == (0, "PIPED\n\n"), traced.describe()
    assert is_complete(tmp_path / "t")


def test_in_process_main_puts_the_interpreter_state_back(tmp_path):
    script = write_script(tmp_path, "import sys\nprint('program', sys.argv[1:])\n")
    result = run(["-c", f"""
import sys
from codetracer_python_recorder.cli import main
before = (list(sys.argv), sys.path[0], sys.modules["__main__"])
status = main(["--out-dir", {str(tmp_path / 't')!r}, {str(script)!r}, "x"])
print(status, (list(sys.argv), sys.path[0], sys.modules["__main__"]) == before)
"""], env=clean_env())
    assert result.stdout == "program ['x']\n0 True\n", result.describe()
