"""Running one child process: output to a log file, a time limit, a clear account of how it ended."""

from __future__ import annotations

import os
import shlex
import shutil
import signal
import subprocess
import time
from dataclasses import dataclass
from pathlib import Path

#: The real `Popen` class: a stand-in (a test's fake process) is never sent a
#: process-group signal, since its pid belongs to no child of ours.
_REAL_POPEN = subprocess.Popen


@dataclass
class ChildResult:
    """How a child ended."""

    argv: list[str]
    #: Exit status; negative for death by signal; None when it never ran or timed out.
    returncode: int | None
    log: Path
    duration_s: float
    timed_out: bool = False
    #: Why it could not be started (missing program), else empty.
    not_started: str = ""

    @property
    def command(self) -> str:
        """The command line, shell-quoted."""
        return shlex.join(self.argv)

    def problem(self, timeout: float) -> str:
        """What went wrong with the process itself (not its results), or ''."""
        if self.not_started:
            return f"could not start: {self.not_started}"
        if self.timed_out:
            return f"timed out after {timeout:g} s (its process group was killed)"
        if self.returncode is not None and self.returncode < 0:
            return f"killed by {signal_name(-self.returncode)}"
        return ""

    def output_tail(self, lines: int = 15) -> str:
        """The last lines of the child's output."""
        try:
            text = self.log.read_text(errors="replace")
        except OSError:
            return ""
        return "\n".join(text.rstrip("\n").splitlines()[-lines:])


def signal_name(number: int) -> str:
    """`SIGSEGV` for 11; `signal 99` for an unknown number."""
    try:
        return signal.Signals(number).name
    except ValueError:
        return f"signal {number}"


def find_program(program: str, env: dict[str, str]) -> str | None:
    """The path `program` runs from (searched in the child's PATH), or None."""
    if os.sep in program:
        path = Path(program)
        return program if path.is_file() and os.access(path, os.X_OK) else None
    return shutil.which(program, path=env.get("PATH", os.defpath))


def run(
    argv: list[str],
    *,
    cwd: Path,
    env: dict[str, str],
    timeout: float,
    log: Path,
) -> ChildResult:
    """Runs `argv` with stdout and stderr into `log`, killing it after `timeout` seconds.

    The child leads its own process group, so a timeout kills everything it
    started (cargo's test binaries, the harness's Python children).
    """
    log.parent.mkdir(parents=True, exist_ok=True)
    started = time.monotonic()
    if find_program(argv[0], env) is None:
        log.write_text(f"$ {shlex.join(argv)}\nnot started: {argv[0]} not found\n")
        return ChildResult(argv, None, log, 0.0, not_started=f"{argv[0]} not found")
    with log.open("wb") as sink:
        sink.write(f"$ {shlex.join(argv)}\n".encode())
        sink.flush()
        try:
            process = subprocess.Popen(
                argv,
                cwd=cwd,
                env=env,
                stdin=subprocess.DEVNULL,
                stdout=sink,
                stderr=subprocess.STDOUT,
                start_new_session=True,
            )
        except OSError as error:
            return ChildResult(argv, None, log, 0.0, not_started=str(error))
        try:
            returncode = process.wait(timeout=timeout)
        except subprocess.TimeoutExpired:
            _kill_group(process)
            process.wait()
            return ChildResult(argv, None, log, time.monotonic() - started, timed_out=True)
    return ChildResult(argv, returncode, log, time.monotonic() - started)


def _kill_group(process: subprocess.Popen) -> None:
    """SIGKILL to the child's process group (the child alone for a stand-in)."""
    if isinstance(_REAL_POPEN, type) and isinstance(process, _REAL_POPEN):
        try:
            os.killpg(process.pid, signal.SIGKILL)
            return
        except (ProcessLookupError, PermissionError):
            pass
    process.kill()
