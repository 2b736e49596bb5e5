"""``CODETRACER_TRACE``: recording a program that merely imports the package.

When ``CODETRACER_TRACE`` names a directory, importing the package starts
recording into it (format from ``CODETRACER_FORMAT``, default ``binary``;
filters from ``CODETRACER_TRACE_FILTER``, ``::``-joined) and an ``atexit``
handler finishes the trace when the interpreter exits. Nothing here raises: a
failure is reported on stderr (structured log line, plus the JSON trailer when
enabled). Under ``abort`` the process then exits at interpreter exit with the
error's exit code; under ``disable`` the program's own exit code stands. The
CLI ignores ``CODETRACER_TRACE``.

Child processes inherit the variable. ``{pid}`` in the value is replaced by
each process's id, so every process that imports the package records its own
trace (``CODETRACER_TRACE=traces/run-{pid}``). Without ``{pid}`` the process
that first acts on the value owns the directory: it adds the directory to
``CODETRACER_TRACE_CLAIMS`` in its environment (``os.pathsep``-separated
absolute paths), and a descendant whose ``CODETRACER_TRACE`` names a claimed
directory records nothing, runs unharmed, and says so once at ``debug``. The
CLI claims the directory too, so the children of a recorded script neither
fail on it nor write into it.
"""

from __future__ import annotations

import atexit
import os
import sys

from . import _native
from .errors import RecorderError
from .formats import DEFAULT_FORMAT
from .launcher import launched_by_cli
from .policy import current
from .session import is_tracing, start, stop

__all__ = [
    "ENV_TRACE_PATH",
    "ENV_TRACE_FORMAT",
    "ENV_TRACE_FILTER",
    "ENV_TRACE_CLAIMS",
    "PID_PLACEHOLDER",
    "auto_start_from_env",
    "trace_dir_from_env",
]

ENV_TRACE_PATH = "CODETRACER_TRACE"
ENV_TRACE_FORMAT = "CODETRACER_FORMAT"
ENV_TRACE_FILTER = "CODETRACER_TRACE_FILTER"
ENV_TRACE_CLAIMS = "CODETRACER_TRACE_CLAIMS"
#: Replaced by the process id in ``CODETRACER_TRACE``.
PID_PLACEHOLDER = "{pid}"

#: The error that should decide the exit code at interpreter exit (abort only).
_exit_error: RecorderError | None = None


def trace_dir_from_env(value: str) -> str:
    """The absolute trace directory a ``CODETRACER_TRACE`` value names in this process."""
    return os.path.abspath(os.path.expanduser(value.replace(PID_PLACEHOLDER, str(os.getpid()))))


def _claims() -> list[str]:
    return [entry for entry in os.environ.get(ENV_TRACE_CLAIMS, "").split(os.pathsep) if entry]


def _claim(directory: str) -> None:
    claims = _claims()
    if directory not in claims:
        os.environ[ENV_TRACE_CLAIMS] = os.pathsep.join([*claims, directory])


def _report(error: RecorderError, operation: str) -> None:
    global _exit_error
    _native.log_message("error", f"CODETRACER_TRACE: {operation} failed: {error}", error_code=error.code)
    if current("on_recorder_error") == "abort" or error.code == "ERR_TRACE_MISSING":
        _exit_error = error


def _finish() -> None:
    try:
        stop()
    except RecorderError as error:
        _report(error, "finishing the trace")
    if _exit_error is not None:
        for stream in (sys.stdout, sys.stderr):
            try:
                stream.flush()
            except (AttributeError, OSError, ValueError):
                pass
        os._exit(_exit_error.exit_code)


def auto_start_from_env() -> None:
    """Starts recording when ``CODETRACER_TRACE`` is set (never raises)."""
    value = os.environ.get(ENV_TRACE_PATH)
    if not value:
        return
    per_process = PID_PLACEHOLDER in value
    directory = trace_dir_from_env(value)
    if launched_by_cli():
        if not per_process:
            _claim(directory)
        return
    if is_tracing():
        _native.log_message("debug", "CODETRACER_TRACE: a recording is already active; not starting another")
        return
    if not per_process and directory in _claims():
        _native.log_message(
            "debug",
            f"CODETRACER_TRACE: {directory} belongs to a parent process's recording; "
            f"process {os.getpid()} records nothing (put {PID_PLACEHOLDER} in the value to record every process)",
        )
        return
    if not per_process:
        _claim(directory)
    try:
        start(
            directory,
            format=os.environ.get(ENV_TRACE_FORMAT) or DEFAULT_FORMAT,
            trace_filter=os.environ.get(ENV_TRACE_FILTER) or None,
        )
    except RecorderError as error:
        _report(error, "starting the trace")
    # Registered after start: atexit runs it before the native module's own
    # exit hook, so a failure to finish is seen here and decides the exit code.
    atexit.register(_finish)
