"""Recovering a recording whose process died.

A process killed while recording (SIGKILL, ``os._exit``, a crash) leaves its
trace directory holding only a hidden ``.codetracer-staging-<pid>-...``
directory. ``recover`` turns it into a loadable trace marked partial with
reason ``ERR_PROCESS_DIED`` (``trace_partial.json``): every whole event the
process had written (events written before a ``flush()`` always are), closed
and balanced as the recorder closes a trace at stop, with rewritten
``trace_paths.json`` and ``trace_metadata.json``. It refuses a staging
directory whose process is still running.

Command line: ``python -m codetracer_python_recorder recover DIR`` (exit 0 on
success, else the error kind's exit code: 2 for a directory in use by a live
recording or holding several staging directories, 10 when there is nothing to
recover or the disk fails).
"""

from __future__ import annotations

import argparse
import os
import sys
from dataclasses import dataclass
from typing import Sequence

from . import _native
from .errors import RecorderError

__all__ = ["recover", "Recovery", "PROCESS_DIED", "main"]

#: The partial reason of a recovered trace.
PROCESS_DIED = "ERR_PROCESS_DIED"

PROG = "python -m codetracer_python_recorder recover"


@dataclass(frozen=True)
class Recovery:
    """What :func:`recover` did."""

    #: The trace directory now holding the partial trace.
    trace_dir: str
    #: The dead recording's staging directory (removed).
    staging: str
    #: The process that died.
    pid: int
    #: ``json`` or ``binary``.
    format: str
    #: Whole events kept.
    events: int
    #: Events added to balance them (returns of open calls, thread exits).
    closing: int
    #: Files of the dead recording that could not be removed.
    leftovers: tuple[str, ...]
    #: The partial reason: :data:`PROCESS_DIED`.
    reason: str


def recover(path: str | os.PathLike[str]) -> Recovery:
    """Turns the dead recording at ``path`` (a trace directory holding one
    staging directory, or that staging directory) into a partial trace.

    Raises :class:`~codetracer_python_recorder.UsageError` when the recording
    is still running (``ERR_TRACE_DIR_CONFLICT``) and
    :class:`~codetracer_python_recorder.EnvironmentError` when there is
    nothing to recover (``ERR_TRACE_MISSING``) or writing fails.
    """
    report = _native.recover_trace(os.fspath(path))
    return Recovery(
        trace_dir=os.fspath(report["trace_dir"]),
        staging=os.fspath(report["staging"]),
        pid=int(report["pid"]),
        format=str(report["format"]),
        events=int(report["events"]),
        closing=int(report["closing"]),
        leftovers=tuple(os.fspath(path) for path in report["leftovers"]),
        reason=str(report["reason"]),
    )


def _say(message: str) -> None:
    print(f"codetracer-python-recorder: {message}", file=sys.stderr, flush=True)


def main(argv: Sequence[str]) -> int:
    """``recover DIR``: recovers, reports on stderr, returns the exit status."""
    parser = argparse.ArgumentParser(
        prog=PROG,
        description="Turn the trace directory of a recording whose process died into a partial trace.",
        allow_abbrev=False,
    )
    parser.add_argument("directory", help="the trace directory (or its .codetracer-staging-* directory)")
    options = parser.parse_args(list(argv))
    try:
        recovery = recover(options.directory)
    except RecorderError as error:
        _say(f"recover failed: {error}")
        return error.exit_code
    _say(
        f"recovered {recovery.events} events of process {recovery.pid} into {recovery.trace_dir} "
        f"({recovery.format}, {recovery.closing} closing events added), marked partial: {recovery.reason}"
    )
    for leftover in recovery.leftovers:
        _say(f"warning: could not remove {leftover}")
    return 0
