"""``CODETRACER_TRACE``: recording a program that merely imports the package.

When ``CODETRACER_TRACE`` names a directory, importing the package starts
recording into it (format from ``CODETRACER_FORMAT``, default ``json``) and
an ``atexit`` handler finishes the trace when the interpreter exits. Nothing
here raises: a failure is reported on stderr (structured log line, plus the
JSON trailer when enabled). Under ``abort`` the process then exits at
interpreter exit with the error's exit code; under ``disable`` the program's
own exit code stands. The CLI ignores ``CODETRACER_TRACE`` (it has its own
``--out-dir``).
"""

from __future__ import annotations

import atexit
import os
import sys

from . import _native
from .errors import RecorderError
from .policy import current
from .session import start, stop

__all__ = ["autostart_from_env"]

ENV_TRACE = "CODETRACER_TRACE"
ENV_FORMAT = "CODETRACER_FORMAT"

#: The error that should decide the exit code at interpreter exit (abort only).
_exit_error: RecorderError | None = None


def _launched_by_cli() -> bool:
    argv = getattr(sys, "orig_argv", [])
    for flag, value in zip(argv, argv[1:]):
        if flag == "-m" and value.split(".")[0] == __package__:
            return True
    return os.path.basename(sys.argv[0] if sys.argv else "") == "codetracer-python-recorder"


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


def autostart_from_env() -> None:
    """Starts recording when ``CODETRACER_TRACE`` is set (never raises)."""
    path = os.environ.get(ENV_TRACE)
    if not path or _launched_by_cli():
        return
    try:
        start(path, format=os.environ.get(ENV_FORMAT) or "json")
    except RecorderError as error:
        _report(error, "starting the trace")
    # Registered after start: atexit runs it before the native module's own
    # exit hook, so a failure to finish is seen here and decides the exit code.
    atexit.register(_finish)
