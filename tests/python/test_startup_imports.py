"""What the recorder imports before the program runs: the program sees the
``sys.modules`` of plain ``python`` (the oracle), plus under the command line
only what it cannot do without."""

from __future__ import annotations

from conftest import clean_env, run, run_cli, write_script

#: Standard-library modules that cost start-up time and that plain ``python`` does not import.
HEAVY = [
    "argparse", "ast", "collections", "contextlib", "copy", "dataclasses", "dis", "enum", "fnmatch", "functools",
    "gettext", "importlib.machinery", "importlib.util", "inspect", "json", "locale", "logging", "pathlib", "re",
    "runpy", "shutil", "signal", "struct", "subprocess", "tempfile", "textwrap", "threading", "tokenize", "types",
    "typing", "urllib", "urllib.parse", "warnings", "weakref", "zipfile",
]

#: Prints which of :data:`HEAVY` are loaded, on one line.
PROGRAM = f"import sys\nprint(' '.join(name for name in {HEAVY!r} if name in sys.modules))\n"

#: What ``python -m codetracer_python_recorder`` still imports before the program, done
#: by plain python: argparse parses the options (and imports re, enum, functools,
#: gettext, locale, shutil for the terminal width... which vary by Python version);
#: importlib.machinery and importlib.util give the script python's ``__loader__`` and
#: tell a compiled file by its magic number.
CLI_NEEDS = (
    "import argparse, importlib.machinery, importlib.util\n"
    "argparse.ArgumentParser().add_argument('--option')\n"
)


def loaded(output: str) -> set[str]:
    """The heavy modules a program reported loaded (its last stdout line)."""
    lines = output.splitlines()
    return set(lines[-1].split()) if lines else set()


def test_a_recorded_script_sees_the_modules_of_plain_python_plus_what_the_cli_needs(tmp_path):
    oracle = run([str(write_script(tmp_path, CLI_NEEDS + PROGRAM, "oracle.py"))])
    script = write_script(tmp_path, PROGRAM)
    plain = run([str(script)])
    recorded = run_cli(["--out-dir", str(tmp_path / "trace"), "--format", "json", str(script)])
    assert oracle.returncode == 0 and plain.returncode == 0 and recorded.returncode == 0, recorded.describe()
    assert loaded(recorded.stdout) == loaded(oracle.stdout)
    # What the command line adds is argparse's and importlib's, never more.
    assert loaded(recorded.stdout) - loaded(plain.stdout) <= {
        "argparse", "collections", "enum", "fnmatch", "functools", "gettext", "importlib.machinery",
        "importlib.util", "locale", "re", "shutil", "types", "warnings",
    }


def test_recording_through_the_api_imports_nothing_heavy(tmp_path):
    script = write_script(tmp_path, (
        "import os\n"
        "if os.environ.get('RECORD'):\n"
        "    import codetracer_python_recorder as recorder\n"
        f"    recorder.start({str(tmp_path / 'trace')!r}, format='json')\n"
        f"{PROGRAM}"
        "if os.environ.get('RECORD'):\n"
        "    recorder.stop()\n"
    ))
    plain = run([str(script)])
    recorded = run([str(script)], env=clean_env(RECORD="1"))
    assert plain.returncode == 0 and recorded.returncode == 0, recorded.describe()
    assert loaded(recorded.stdout) == loaded(plain.stdout)
    assert (tmp_path / "trace" / "trace.json").is_file()


def test_codetracer_trace_auto_start_imports_nothing_heavy(tmp_path):
    plain = run([str(write_script(tmp_path, PROGRAM, "plain.py"))])
    script = write_script(tmp_path, "import codetracer_python_recorder\n" + PROGRAM)
    recorded = run([str(script)], env=clean_env(CODETRACER_TRACE=str(tmp_path / "trace"), CODETRACER_FORMAT="json"))
    assert plain.returncode == 0 and recorded.returncode == 0, recorded.describe()
    assert loaded(recorded.stdout) == loaded(plain.stdout)
    assert (tmp_path / "trace" / "trace.json").is_file()


def test_the_dash_m_entry_loads_the_native_module_only_in_the_process_that_records(tmp_path):
    # `-X importtime` reports every import of both processes on stderr: the `-m`
    # process re-executes the interpreter after importing only the launcher.
    script = write_script(tmp_path, "print('ok')\n")
    result = run(["-X", "importtime", "-m", "codetracer_python_recorder", "--out-dir", str(tmp_path / "trace"),
                  str(script)])
    assert result.returncode == 0 and result.stdout == "ok\n", result.describe()
    imports = [line.rsplit("|", 1)[-1].strip() for line in result.stderr.splitlines() if line.startswith("import time:")]
    assert imports.count("codetracer_python_recorder._native") == 1
    assert imports.count("codetracer_python_recorder.launcher") == 2
