"""0.3's import path of the native module: ``codetracer_python_recorder.codetracer_python_recorder``.

Code written for 0.3 imports the low-level functions and the exception
classes from here. Each name keeps 0.3's signature and goes through the same
path as the package's own API (the native module itself is ``_native``).
"""

from __future__ import annotations

import os
from collections.abc import Sequence

from . import _native
from .errors import EnvironmentError, InternalError, RecorderError, TargetError, UsageError, reports_errors
from .filter_paths import normalize_trace_filter
from .native_bridge import NativeStartRequest, start_native, stop_native
from .policy import configure_policy, configure_policy_from_env, policy_snapshot

__all__ = [
    "RecorderError",
    "UsageError",
    "EnvironmentError",
    "TargetError",
    "InternalError",
    "start_tracing",
    "stop_tracing",
    "is_tracing",
    "flush_tracing",
    "configure_policy",
    "configure_policy_from_env",
    "policy_snapshot",
]


@reports_errors
def start_tracing(
    path: str,
    format: str,  # noqa: A002 - 0.3's name
    activation_path: str | None = None,
    trace_filter: Sequence[str | os.PathLike[str]] | None = None,
) -> None:
    """Starts recording into ``path`` without refreshing the policy (0.3's native entry)."""
    filters = normalize_trace_filter(list(trace_filter) if trace_filter is not None else None)
    start_native(NativeStartRequest(os.fspath(path), format, activation_path, filters))


@reports_errors
def stop_tracing(exit_code: int | None = None) -> None:
    """Stops recording; ``exit_code`` is the program's exit status for the metadata."""
    stop_native(exit_code)


def is_tracing() -> bool:
    """Whether a recording is active."""
    return bool(_native.is_tracing())


@reports_errors
def flush_tracing() -> None:
    """Writes buffered events to disk."""
    _native.flush_tracing()
