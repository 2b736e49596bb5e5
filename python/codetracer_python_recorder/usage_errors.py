"""Usage errors of the Python surface that are also the built-in exception 0.3 raised.

codetracer-python-recorder 0.3 raised plain ``RuntimeError``, ``ValueError``,
``TypeError`` or ``FileNotFoundError`` for some misuses of ``start()``. Here
each of them is a :class:`~codetracer_python_recorder.errors.UsageError` with a stable ``ERR_*``
code that is *also* an instance of the built-in 0.3 raised, so both
``except UsageError`` and 0.3's ``except ValueError`` catch it.
"""

from __future__ import annotations

from .errors import UsageError

__all__ = [
    "AlreadyTracingError",
    "UnsupportedFormatError",
    "TraceDirConflictError",
    "TraceFilterError",
    "TraceFilterNotFoundError",
    "TraceFilterTypeError",
]


class AlreadyTracingError(UsageError, RuntimeError):
    """``start()`` while a recording is active (``ERR_ALREADY_TRACING``; 0.3: ``RuntimeError``)."""


class UnsupportedFormatError(UsageError, ValueError):
    """A format other than ``binary``/``json`` (``ERR_UNSUPPORTED_FORMAT``; 0.3: ``ValueError``)."""


class TraceDirConflictError(UsageError, ValueError):
    """The trace path is a file or a non-empty directory (``ERR_TRACE_DIR_CONFLICT``; 0.3: ``ValueError``)."""


class TraceFilterError(UsageError, ValueError):
    """A ``trace_filter`` that names no path, or a path that is not a file (``ERR_INVALID_TRACE_FILTER``)."""


class TraceFilterNotFoundError(UsageError, FileNotFoundError):
    """A ``trace_filter`` path that does not exist (``ERR_INVALID_TRACE_FILTER``; 0.3: ``FileNotFoundError``)."""


class TraceFilterTypeError(UsageError, TypeError):
    """A ``trace_filter`` that is neither a path nor a sequence of paths (``ERR_INVALID_TRACE_FILTER``)."""
