"""Helpers of the 0.3 compatibility suite. Self-contained (standard library and
pytest only) so the suite also runs against codetracer-python-recorder 0.3.0
installed from PyPI:

    python3.12 -m venv .venv-0.3
    .venv-0.3/bin/pip install codetracer-python-recorder==0.3.0 pytest
    .venv-0.3/bin/python -m pytest tests/python/compat

The package under test is the one the running interpreter imports. A test of
a behaviour this project deliberately changed carries ``differs("ID")`` with
the row of ``docs/compatibility.md`` that lists the change: against 0.3 it is
expected to fail (strictly: a listed difference that 0.3 does not show fails
the run), so a green run against 0.3 means the differences are exactly the
listed rows. ``pending("ID", reason)`` marks a 0.3 behaviour that waits for the
native core here (expected to fail here, to pass against 0.3).
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import textwrap
from dataclasses import dataclass
from importlib import metadata
from pathlib import Path

import pytest

PACKAGE = "codetracer_python_recorder"
DISTRIBUTION = "codetracer-python-recorder"
VERSION = metadata.version(DISTRIBUTION)
#: The suite runs against 0.3 itself.
UNDER_03 = VERSION.startswith("0.3.")
TABLE = Path(__file__).resolve().parents[3] / "docs" / "compatibility.md"
TIMEOUT = 120


def differs(row: str):
    """A behaviour listed as changed in row ``row`` of the compatibility table."""
    return pytest.mark.xfail(UNDER_03, strict=True, reason=f"compatibility table row {row}: changed on purpose")


def pending(row: str, reason: str):
    """A 0.3 behaviour (row ``row``) the native core here does not have yet; ``reason`` names the issue.

    Strict: once the core lands the test passes, the run fails, and the marker goes."""
    return pytest.mark.xfail(not UNDER_03, strict=True, reason=f"compatibility table row {row}: {reason}")


def clean_env(**extra: str) -> dict[str, str]:
    """The environment without recorder variables, plus ``extra``."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("CODETRACER_") and k != "FAILPOINTS"}
    env["PYTHONDONTWRITEBYTECODE"] = "1"
    env.update(extra)
    return env


@dataclass
class Run:
    """A finished subprocess."""

    returncode: int
    stdout: str
    stderr: str

    def describe(self) -> str:
        return f"exit {self.returncode}\n--- stdout\n{self.stdout}\n--- stderr\n{self.stderr}"


def run(args: list[str], *, env: dict[str, str] | None = None, cwd: Path | str | None = None) -> Run:
    """``python args...`` with the interpreter under test."""
    done = subprocess.run(
        [sys.executable, *args], capture_output=True, text=True, env=env or clean_env(), cwd=cwd, timeout=TIMEOUT
    )
    return Run(done.returncode, done.stdout, done.stderr)


def run_code(code: str, **env: str) -> Run:
    """``python -c code`` (dedented) with ``env`` added to a clean environment."""
    return run(["-c", textwrap.dedent(code)], env=clean_env(**env))


def run_file(directory: Path, source: str, **env: str) -> Run:
    """Writes ``source`` (dedented) to ``directory/program.py`` and runs it with ``env`` added."""
    return run([str(write(directory, source))], env=clean_env(**env))


def run_cli(args: list[str], *, env: dict[str, str] | None = None, cwd: Path | str | None = None) -> Run:
    """``python -m codetracer_python_recorder args...``."""
    return run(["-m", PACKAGE, *args], env=env, cwd=cwd)


def last_json(result: Run):
    """The last stdout line, parsed as JSON."""
    assert result.returncode == 0, result.describe()
    return json.loads(result.stdout.strip().splitlines()[-1])


def write(directory: Path, source: str, name: str = "program.py") -> Path:
    """Writes a dedented file and returns its path."""
    path = directory / name
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(textwrap.dedent(source))
    return path


def events(trace_dir: Path) -> list[dict]:
    """The events of a JSON trace."""
    return json.loads((trace_dir / "trace.json").read_text())


def called_functions(trace_dir: Path) -> list[str]:
    """The names of the functions called in a JSON trace, in call order."""
    found = events(trace_dir)
    functions = [event["Function"]["name"] for event in found if "Function" in event]
    return [functions[event["Call"]["function_id"]] for event in found if "Call" in event]


def trace_files(trace_dir: Path) -> set[str]:
    """The visible files of a trace directory (empty when it does not exist)."""
    if not trace_dir.is_dir():
        return set()
    return {entry.name for entry in trace_dir.iterdir() if not entry.name.startswith(".")}


def complete(trace_dir: Path, events_file: str) -> bool:
    """The directory holds a finished trace with this events file."""
    return {events_file, "trace_metadata.json", "trace_paths.json"} <= trace_files(trace_dir)
