"""The recording API as one module (0.3's ``codetracer_python_recorder.api``)."""

from __future__ import annotations

from .formats import DEFAULT_FORMAT, TRACE_BINARY, TRACE_JSON
from .session import TraceSession, flush, is_tracing, start, stop, trace

__all__ = [
    "TraceSession",
    "DEFAULT_FORMAT",
    "TRACE_BINARY",
    "TRACE_JSON",
    "start",
    "stop",
    "is_tracing",
    "trace",
    "flush",
]
