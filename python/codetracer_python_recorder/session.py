"""Starting and stopping recording from Python: ``start``/``stop``/``flush``/
``is_tracing``, ``TraceSession`` and the ``trace`` context manager, with
0.3's signatures.

How the policy shapes these calls:

* ``start()`` refuses a second recording first (``ERR_ALREADY_TRACING``,
  before any setting changes), then re-reads the ``CODETRACER_*`` variables
  (unless ``apply_env_policy=False``; a bad one raises ``UsageError``), then
  applies the ``policy=`` overrides, then starts.
* Under ``on_recorder_error="abort"`` (the default) a recorder failure is
  raised from ``start()``, ``flush()`` or ``stop()``; a failure inside a
  monitoring callback detaches the recorder at once, settles the output, and
  is raised from the next of these calls (never inside the program's own code).
* Under ``"disable"`` the same failures are logged as one structured warning
  and the program runs on untraced; a ``start()`` that cannot even start
  returns normally. Misuse is raised under either policy: a bad format,
  ``trace_filter`` or policy value, a second ``start()``, and a missing
  required trace (``ERR_TRACE_MISSING``).

Misuse that 0.3 reported with a built-in exception raises a ``UsageError``
that is also that built-in (:mod:`.usage_errors`).
"""

from __future__ import annotations

import os

from . import _native
from .errors import UsageError, reports_errors
from .filter_paths import normalize_trace_filter
from .formats import DEFAULT_FORMAT, SUPPORTED_FORMATS, is_supported, normalize_format
from .native_bridge import NativeStartRequest, start_native, stop_native
from .policy import coerce_overrides, configure_policy, configure_policy_from_env
from .usage_errors import AlreadyTracingError, TraceDirConflictError, UnsupportedFormatError

TYPE_CHECKING = False
if TYPE_CHECKING:
    from collections.abc import Mapping
    from pathlib import Path

    from .filter_paths import FilterSpec

__all__ = ["TraceSession", "start", "stop", "flush", "is_tracing", "trace"]

_active_session: TraceSession | None = None

#: Native usage errors re-raised as the class that is also 0.3's built-in.
_BUILTIN_FLAVOURS: dict[str, type[UsageError]] = {
    "ERR_ALREADY_TRACING": AlreadyTracingError,
    "ERR_TRACE_DIR_CONFLICT": TraceDirConflictError,
    "ERR_UNSUPPORTED_FORMAT": UnsupportedFormatError,
}


class TraceSession:
    """A recording: the handle ``start()`` returns, also usable on its own.

    ``TraceSession(path, format)`` as in 0.3; the keyword-only settings are
    those of :func:`start`. ``with session:`` starts it unless it is already
    the active recording (0.3 entered without starting), and stops it on exit.

    ``path`` is what was given until the session starts, then the expanded
    trace directory as a ``pathlib.Path`` (built on access: ``pathlib`` is not
    imported for a recording that never asks).
    """

    format: str

    def __init__(
        self,
        path: str | os.PathLike[str],
        format: str = DEFAULT_FORMAT,  # noqa: A002 - 0.3's name
        *,
        start_on_enter: str | os.PathLike[str] | None = None,
        trace_filter: FilterSpec | None = None,
        policy: Mapping[str, object] | None = None,
        apply_env_policy: bool = True,
    ) -> None:
        self.path = path
        self.format = format
        self._settings = {
            "start_on_enter": start_on_enter,
            "trace_filter": trace_filter,
            "policy": policy,
            "apply_env_policy": apply_env_policy,
        }

    @property
    def path(self) -> Path | str | os.PathLike[str]:
        """The trace directory: as given, and once started the expanded ``pathlib.Path``."""
        if self._directory is None:
            return self._given
        from pathlib import Path

        return Path(self._directory)

    @path.setter
    def path(self, value: str | os.PathLike[str]) -> None:
        self._given = value
        #: The expanded directory, once started.
        self._directory: str | None = None

    def start(self) -> TraceSession:
        """Starts recording with this session's settings (see :func:`start`); returns ``self``."""
        global _active_session
        started = start(self._given, format=self.format, **self._settings)  # type: ignore[arg-type]
        self._given, self._directory, self.format = started._given, started._directory, started.format
        _active_session = self
        return self

    def stop(self, *, exit_code: int | None = None) -> None:
        """Stops recording if this session is the active one (see :func:`stop`)."""
        if _active_session is self:
            stop(exit_code=exit_code)

    def flush(self) -> None:
        """Writes buffered events to disk (see :func:`flush`)."""
        flush()

    @property
    def is_tracing(self) -> bool:
        """Whether this session is the active recording."""
        return _active_session is self and is_tracing()

    def __enter__(self) -> TraceSession:
        if _active_session is not self:
            self.start()
        return self

    def __exit__(self, exc_type: object, exc: object, tb: object) -> None:
        self.stop()

    def __repr__(self) -> str:
        shown = self._directory if self._directory is not None else str(self._given)
        return f"TraceSession({shown!r}, format={self.format!r})"


def _checked_format(value: str) -> str:
    normalized = normalize_format(value)
    if not is_supported(normalized):
        accepted = ", ".join(sorted(SUPPORTED_FORMATS))
        raise UnsupportedFormatError(
            f"unsupported trace format '{value}'. Expected one of: {accepted}",
            code="ERR_UNSUPPORTED_FORMAT",
            context={"format": str(value)},
        )
    return normalized


def _start_native(request: NativeStartRequest) -> None:
    try:
        start_native(request)
    except UsageError as error:
        flavour = _BUILTIN_FLAVOURS.get(error.code)
        if flavour is None or isinstance(error, flavour):
            raise
        message = error.args[0] if error.args else str(error)
        flavoured = flavour(message, code=error.code, context=error.context)
        flavoured._reported = error._reported
        raise flavoured from None


@reports_errors
def start(
    path: str | os.PathLike[str],
    *,
    format: str = DEFAULT_FORMAT,  # noqa: A002 - 0.3's name
    start_on_enter: str | os.PathLike[str] | None = None,
    trace_filter: FilterSpec | None = None,
    policy: Mapping[str, object] | None = None,
    apply_env_policy: bool = True,
) -> TraceSession:
    """Starts recording into the directory ``path`` and returns the session.

    ``format``: ``"binary"`` (default) or ``"json"``, any case.
    ``start_on_enter``: record nothing until code from this file runs.
    ``trace_filter``: filter files (a path, a sequence of paths, ``::``-joined paths).
    ``policy``: ``configure_policy`` keywords applied before starting.
    ``apply_env_policy``: re-read the ``CODETRACER_*`` variables first.
    """
    global _active_session
    trace_dir = os.path.expanduser(os.fspath(path))
    normalized = _checked_format(format)
    activation = None if start_on_enter is None else os.path.expanduser(os.fspath(start_on_enter))
    filters = normalize_trace_filter(trace_filter)

    if not is_tracing():  # a second start is refused by the native layer before any setting changes
        if apply_env_policy:
            configure_policy_from_env()
        if policy:
            configure_policy(**coerce_overrides(policy))
    _start_native(NativeStartRequest(trace_dir, normalized, activation, filters))
    session = TraceSession(trace_dir, normalized)
    session._directory = trace_dir
    _active_session = session
    return session


@reports_errors
def stop(*, exit_code: int | None = None) -> None:
    """Stops recording and settles the trace directory (a no-op when not recording).

    ``exit_code`` is the program's exit status, for the trace metadata.
    """
    global _active_session
    _active_session = None
    stop_native(exit_code)


@reports_errors
def flush() -> None:
    """Writes buffered events to disk without stopping."""
    _native.flush_tracing()


def is_tracing() -> bool:
    """Whether a recording is active."""
    return bool(_native.is_tracing())


def trace(
    path: str | os.PathLike[str],
    *,
    format: str = DEFAULT_FORMAT,  # noqa: A002 - 0.3's name
    trace_filter: FilterSpec | None = None,
    policy: Mapping[str, object] | None = None,
    apply_env_policy: bool = True,
) -> TraceSession:
    """Records the ``with`` block: ``with trace("out"): main()``.

    Recording starts on entering the block (as :func:`start` would, so a
    second recording is refused there) and stops on leaving it.
    """
    return TraceSession(path, format, trace_filter=trace_filter, policy=policy, apply_env_policy=apply_env_policy)
