"""Normalising a ``trace_filter`` argument into the chain of filter files.

``start(trace_filter=...)``, ``trace(...)``, ``--trace-filter`` and
``CODETRACER_TRACE_FILTER`` all accept the same shapes, as in 0.3: a path
(``str`` or ``os.PathLike``), a sequence of paths, and ``::`` inside a string
to join several paths. Each path is expanded (``~``) and resolved to an
absolute file that must exist. The order is kept: later filters override
earlier ones.
"""

from __future__ import annotations

import os

from .usage_errors import TraceFilterError, TraceFilterNotFoundError, TraceFilterTypeError

TYPE_CHECKING = False
if TYPE_CHECKING:
    from collections.abc import Sequence

    #: What ``trace_filter`` accepts.
    FilterSpec = str | os.PathLike[str] | Sequence[str | os.PathLike[str]]

__all__ = ["normalize_trace_filter", "split_filter_spec"]

_CODE = "ERR_INVALID_TRACE_FILTER"


def split_filter_spec(text: str) -> list[str]:
    """The paths of a ``::``-joined string, blanks trimmed and empty parts dropped."""
    return [part.strip() for part in text.split("::") if part.strip()]


def _segments(value: FilterSpec) -> list[str]:
    if isinstance(value, (str, os.PathLike)):
        return split_filter_spec(os.fspath(value))
    from collections.abc import Sequence  # only a sequence of filters needs it

    if isinstance(value, Sequence):
        segments: list[str] = []
        for item in value:
            if not isinstance(item, (str, os.PathLike)):
                raise TraceFilterTypeError(
                    f"trace_filter entries must be str or os.PathLike, not {type(item).__name__}",
                    code=_CODE,
                    context={"entry": repr(item)},
                )
            segments.extend(split_filter_spec(os.fspath(item)))
        return segments
    raise TraceFilterTypeError(
        f"trace_filter must be a path, a sequence of paths or None, not {type(value).__name__}",
        code=_CODE,
        context={"value": repr(value)},
    )


def _resolve(segment: str) -> str:
    candidate = os.path.expanduser(segment)
    if not os.path.exists(candidate):
        raise TraceFilterNotFoundError(
            f"trace filter '{candidate}' does not exist", code=_CODE, context={"path": candidate}
        )
    resolved = os.path.realpath(candidate)
    if not os.path.isfile(resolved):
        raise TraceFilterError(f"trace filter '{resolved}' is not a file", code=_CODE, context={"path": resolved})
    return resolved


def normalize_trace_filter(value: FilterSpec | None) -> tuple[str, ...]:
    """The absolute filter files named by ``value`` (empty for ``None``).

    Raises ``UsageError`` (``ERR_INVALID_TRACE_FILTER``) that is also 0.3's
    built-in: ``TypeError`` for a wrong type, ``FileNotFoundError`` for a
    missing path, ``ValueError`` for a path that is not a file or a value that
    names no path at all.
    """
    if value is None:
        return ()
    segments = _segments(value)
    if not segments:
        raise TraceFilterError("trace_filter must name at least one filter file", code=_CODE, context={"value": repr(value)})
    return tuple(_resolve(segment) for segment in segments)
