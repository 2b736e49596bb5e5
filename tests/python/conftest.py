"""Shared helpers for the Python suite: every run is a real subprocess."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import textwrap
from dataclasses import dataclass
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[2]
EXAMPLES = REPO / "examples"
TIMEOUT = 120

#: Files a trace directory holds when complete (json format).
TRACE_FILES = {"trace.json", "trace_metadata.json", "trace_paths.json"}
#: The same for the binary format (the default, as in 0.3).
BINARY_TRACE_FILES = {"trace.bin", "trace_metadata.json", "trace_paths.json"}


def clean_env(**extra: str) -> dict[str, str]:
    """The test process's environment without recorder or fault variables, plus ``extra``."""
    env = {
        key: value
        for key, value in os.environ.items()
        if not key.startswith("CODETRACER_") and key != "FAILPOINTS"
    }
    env["PYTHONDONTWRITEBYTECODE"] = "1"
    env.update(extra)
    return env


@dataclass
class Run:
    """A finished subprocess."""

    returncode: int
    stdout: str
    stderr: str

    def json_lines(self) -> list[dict]:
        """Every stderr line that is a JSON object."""
        found = []
        for line in self.stderr.splitlines():
            line = line.strip()
            if line.startswith("{"):
                try:
                    value = json.loads(line)
                except ValueError:
                    continue
                if isinstance(value, dict):
                    found.append(value)
        return found

    def trailers(self) -> list[dict]:
        """The JSON error trailers on stderr."""
        return [line for line in self.json_lines() if "error_kind" in line]

    def logs(self) -> list[dict]:
        """The structured log lines on stderr."""
        return [line for line in self.json_lines() if "level" in line and "ts" in line]

    def describe(self) -> str:
        return f"exit {self.returncode}\n--- stdout\n{self.stdout}\n--- stderr\n{self.stderr}"


def run(args: list[str], *, python: str | None = None, env: dict[str, str] | None = None,
        cwd: Path | str | None = None, input: str | None = None) -> Run:
    """Runs ``python args...`` and captures everything."""
    completed = subprocess.run(
        [python or sys.executable, *args],
        capture_output=True,
        text=True,
        env=clean_env() if env is None else env,
        cwd=cwd,
        timeout=TIMEOUT,
        input=input,
    )
    return Run(completed.returncode, completed.stdout, completed.stderr)


def run_cli(args: list[str], **kwargs) -> Run:
    """Runs ``python -m codetracer_python_recorder args...``."""
    return run(["-m", "codetracer_python_recorder", *args], **kwargs)


def write_script(directory: Path, source: str, name: str = "program.py") -> Path:
    """Writes a dedented Python script and returns its path."""
    path = directory / name
    path.write_text(textwrap.dedent(source))
    return path


def record_events(tmp_path: Path, source: str) -> list[dict]:
    """Records ``source`` through the CLI and returns the events of trace.json."""
    script = write_script(tmp_path, source)
    out = tmp_path / "trace"
    result = run_cli(["--out-dir", str(out), "--format", "json", str(script)])
    assert result.returncode == 0, result.describe()
    return json.loads((out / "trace.json").read_text())


def payloads(events: list[dict], key: str) -> list:
    """The payloads of the events of one kind (``"Call"``, ``"Step"``, ...), in order."""
    return [event[key] for event in events if key in event]


def trace_events(directory: Path) -> list[dict]:
    """The events of a JSON trace directory's ``trace.json``."""
    return json.loads((directory / "trace.json").read_text())


def balanced(directory: Path) -> bool:
    """Whether every ``Call`` of a JSON trace has its ``Return``, in order."""
    depth = 0
    for event in trace_events(directory):
        depth += "Call" in event
        depth -= "Return" in event
        if depth < 0:
            return False
    return depth == 0


def recorder_entries(directory: Path) -> set[str]:
    """What the recorder left in ``directory`` (names; staging dirs included)."""
    if not directory.exists():
        return set()
    return {entry.name for entry in directory.iterdir()}


def is_complete(directory: Path) -> bool:
    """Every trace file present (either format), no partial marker, no staging directory."""
    entries = recorder_entries(directory)
    return (
        (TRACE_FILES <= entries or BINARY_TRACE_FILES <= entries)
        and "trace_partial.json" not in entries
        and not any(name.startswith(".codetracer-staging") for name in entries)
    )


def is_absent(directory: Path) -> bool:
    """No recorder file and no staging directory (the directory itself may be gone)."""
    entries = recorder_entries(directory)
    return not (entries & (TRACE_FILES | {"trace.bin", "trace_partial.json"})) and not any(
        name.startswith(".codetracer-staging") for name in entries
    )


def is_partial(directory: Path) -> bool:
    """Marked partial with a reason code, no staging directory left."""
    marker = directory / "trace_partial.json"
    if not marker.exists():
        return False
    data = json.loads(marker.read_text())
    entries = recorder_entries(directory)
    return data.get("partial") is True and str(data.get("reason", "")).startswith("ERR_") and not any(
        name.startswith(".codetracer-staging") for name in entries
    )


@pytest.fixture
def fixtures_python() -> str:
    """The interpreter of the ``failure-fixtures`` build (fail points, fault plans)."""
    python = os.environ.get("CODETRACER_FIXTURES_PYTHON")
    if not python:
        pytest.skip(
            "needs the failure-fixtures build: set CODETRACER_FIXTURES_PYTHON to "
            ".venv-fixtures/bin/python (./dev build --fixtures)"
        )
    return python
