"""Trace format names: ``TRACE_BINARY``, ``TRACE_JSON`` and the default.

A trace directory holds ``trace.bin`` (``binary``: runtime_tracing's CBOR +
zstd stream) or ``trace.json`` (``json``: one event per line), next to
``trace_metadata.json`` and ``trace_paths.json``.
"""

from __future__ import annotations

__all__ = [
    "DEFAULT_FORMAT",
    "TRACE_BINARY",
    "TRACE_JSON",
    "SUPPORTED_FORMATS",
    "is_supported",
    "normalize_format",
]

#: The compact binary events file, ``trace.bin``.
TRACE_BINARY: str = "binary"
#: The line-per-event JSON file, ``trace.json``.
TRACE_JSON: str = "json"
#: The format used when none is given (as in codetracer-python-recorder 0.3).
DEFAULT_FORMAT: str = TRACE_BINARY
#: Every format name the recorder writes.
SUPPORTED_FORMATS: frozenset[str] = frozenset({TRACE_BINARY, TRACE_JSON})


def normalize_format(value: str | None) -> str:
    """The canonical spelling of a format name: ``None`` is the default, any case is accepted.

    An unknown name comes back lower-cased; :func:`is_supported` tells whether
    the recorder writes it.
    """
    if value is None:
        return DEFAULT_FORMAT
    return value.lower()


def is_supported(value: str) -> bool:
    """Whether ``value`` (any case) names a format the recorder writes."""
    return value.lower() in SUPPORTED_FORMATS
