"""Starting and stopping recording from Python: ``start``/``stop``/``flush``,
``TraceSession`` and the ``trace`` context manager.

How the policy shapes these calls:

* ``start()`` first re-reads the ``CODETRACER_*`` policy variables (a bad one
  raises ``UsageError``), then applies the session's explicit overrides.
* Under ``on_recorder_error="abort"`` (the default) a recorder failure is
  raised from ``start()``, ``flush()`` or ``stop()``; a failure inside a
  monitoring callback detaches the recorder at once, settles the output, and
  is raised from the next of these calls (never inside the program's own code).
* Under ``"disable"`` the same failures are logged as one structured warning
  and the program runs on untraced; a ``start()`` that cannot even start
  returns normally. Policy errors (``ERR_INVALID_POLICY_VALUE``), a second
  ``start()`` (``ERR_ALREADY_TRACING``) and a missing required trace
  (``ERR_TRACE_MISSING``) are raised under either policy.

The native module applies these rules; this module adds the policy refresh.
"""

from __future__ import annotations

import contextlib
import os
from typing import Any, Iterator

from . import _native
from .policy import configure_policy, configure_policy_from_env

__all__ = ["start", "stop", "flush", "is_tracing", "trace", "TraceSession"]

def start(path: str | os.PathLike[str], format: str = "json", activation_path: str | os.PathLike[str] | None = None) -> None:  # noqa: A002
    """Starts recording into the directory ``path`` (``format``: ``json`` or ``binary``).

    With ``activation_path``, recording waits until code from that file runs.
    """
    configure_policy_from_env()
    _native.start_tracing(
        os.fspath(path),
        format,
        None if activation_path is None else os.fspath(activation_path),
    )


def stop() -> None:
    """Stops recording and settles the trace directory (a no-op when not recording)."""
    _native.stop_tracing()


def flush() -> None:
    """Writes buffered events to disk without stopping."""
    _native.flush_tracing()


def is_tracing() -> bool:
    """Whether a recording session is active."""
    return bool(_native.is_tracing())


class TraceSession:
    """One recording: ``TraceSession(path, format="json", activation_path=None, **policy)``.

    ``policy`` holds explicit policy settings (``on_recorder_error``,
    ``require_trace``, ...) applied on :meth:`start` after re-reading the
    environment, so they win over it. Usable as a context manager.
    """

    def __init__(
        self,
        path: str | os.PathLike[str],
        format: str = "json",  # noqa: A002
        activation_path: str | os.PathLike[str] | None = None,
        **policy: Any,
    ) -> None:
        self.path = os.fspath(path)
        self.format = format
        self.activation_path = None if activation_path is None else os.fspath(activation_path)
        self.policy = dict(policy)

    def start(self) -> "TraceSession":
        """Refreshes the policy (environment, then this session's overrides) and starts recording."""
        configure_policy_from_env()
        if self.policy:
            configure_policy(**self.policy)
        start(self.path, self.format, self.activation_path)
        return self

    def stop(self) -> None:
        """Stops recording (see :func:`stop`)."""
        stop()

    def flush(self) -> None:
        """Writes buffered events to disk (see :func:`flush`)."""
        flush()

    @property
    def is_tracing(self) -> bool:
        """Whether recording is active."""
        return is_tracing()

    def __enter__(self) -> "TraceSession":
        return self.start()

    def __exit__(self, *exc_info: object) -> None:
        self.stop()

    def __repr__(self) -> str:
        return f"TraceSession({self.path!r}, format={self.format!r}, activation_path={self.activation_path!r})"


@contextlib.contextmanager
def trace(
    path: str | os.PathLike[str],
    format: str = "json",  # noqa: A002
    activation_path: str | os.PathLike[str] | None = None,
    **policy: Any,
) -> Iterator[TraceSession]:
    """Records the ``with`` block: ``with trace("out"): main()``."""
    session = TraceSession(path, format, activation_path, **policy)
    session.start()
    try:
        yield session
    finally:
        session.stop()
