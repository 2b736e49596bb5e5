"""The one place the Python surface starts and stops the native recorder.

Every way to record (``start()``, ``trace()``, ``TraceSession``, the CLI,
``CODETRACER_TRACE``, 0.3's ``start_tracing``) builds one
:class:`NativeStartRequest` and hands it to :func:`start_native`.

The request carries everything 0.3 passed down or read from its policy: the
trace filter chain, the IO capture and module naming settings, and (at stop)
the program's exit status. A native build whose ``start_tracing`` /
``stop_tracing`` does not take one of them yet records without it: the value
is logged once at ``warn`` (trace filters) or ``debug`` (the rest) so the gap
is visible, and the compatibility tests for those rows are marked expected to
fail until the native side takes the keyword named here.
"""

from __future__ import annotations

from . import _native
from .policy import IoCapture, current, io_capture_setting

__all__ = ["NativeStartRequest", "start_native", "stop_native"]


class NativeStartRequest:
    """A normalised request to start recording; the capture and naming settings default to the policy in force."""

    __slots__ = ("path", "format", "activation_path", "trace_filter", "io_capture", "module_name_from_globals")

    #: The trace directory (``~`` expanded).
    path: str
    #: ``binary`` or ``json``.
    format: str
    #: Record nothing until code from this file runs (``None``: from the start).
    activation_path: str | None
    #: Absolute filter files, in chain order (native keyword ``trace_filter``: a list of str).
    trace_filter: tuple[str, ...]
    #: Stream capture (native keyword ``io_capture``: ``(line_proxies, fd_fallback)``).
    io_capture: IoCapture
    #: Name module-level code after the frame's ``__name__`` (native keyword ``module_name_from_globals``).
    module_name_from_globals: bool

    def __init__(
        self,
        path: str,
        format: str,  # noqa: A002 - the native parameter's name
        activation_path: str | None = None,
        trace_filter: tuple[str, ...] = (),
        io_capture: IoCapture | None = None,
        module_name_from_globals: bool | None = None,
    ) -> None:
        self.path = path
        self.format = format
        self.activation_path = activation_path
        self.trace_filter = trace_filter
        self.io_capture = io_capture_setting() if io_capture is None else io_capture
        self.module_name_from_globals = (
            bool(current("module_name_from_globals")) if module_name_from_globals is None else module_name_from_globals
        )

    def native_keywords(self) -> dict[str, object]:
        """The settings beyond 0.3's positional arguments, as native keywords."""
        return {
            "trace_filter": list(self.trace_filter) or None,
            "io_capture": (self.io_capture.line_proxies, self.io_capture.fd_fallback),
            "module_name_from_globals": self.module_name_from_globals,
        }


def _accepted_keywords(function_name: str) -> frozenset[str]:
    """The parameter names a native function takes, read from its text signature.

    A native text signature is a flat list (``(path, format, activation_path=None, *, trace_filter=None)``):
    the names are what precedes each ``=`` or ``,``. Reading it directly spares importing
    ``inspect`` (and the modules it pulls in) on every start-up.
    """
    text = getattr(getattr(_native, function_name, None), "__text_signature__", None) or ""
    if not (text.startswith("(") and text.endswith(")")):
        return frozenset()
    names = (part.split("=", 1)[0].strip().lstrip("*") for part in text[1:-1].split(","))
    return frozenset(name for name in names if name.isidentifier())


# Read once on import.
_START_KEYWORDS = _accepted_keywords("start_tracing")
_STOP_KEYWORDS = _accepted_keywords("stop_tracing")
_reported: set[str] = set()


def _report_unapplied(name: str, value: object) -> None:
    if name in _reported:
        return
    _reported.add(name)
    level = "warn" if name == "trace_filter" else "debug"
    _native.log_message(level, f"this build's native recorder does not take `{name}` yet; recording without it ({value!r})")


def start_native(request: NativeStartRequest) -> None:
    """Starts recording; raises the native ``RecorderError`` on failure."""
    keywords: dict[str, object] = {}
    for name, value in request.native_keywords().items():
        if name in _START_KEYWORDS:
            keywords[name] = value
        elif value is not None:
            _report_unapplied(name, value)
    _native.start_tracing(request.path, request.format, request.activation_path, **keywords)


def stop_native(exit_code: int | None = None) -> None:
    """Stops recording, handing the program's exit status (native keyword ``exit_code``) to the metadata."""
    if "exit_code" in _STOP_KEYWORDS:
        _native.stop_tracing(exit_code=exit_code)
        return
    if exit_code is not None:
        _report_unapplied("exit_code", exit_code)
    _native.stop_tracing()
