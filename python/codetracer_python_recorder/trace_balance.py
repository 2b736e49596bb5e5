"""Checking that a JSON trace's calls and returns balance (0.3's ``trace_balance``).

A trace is balanced when it holds as many ``Call`` as ``Return`` events and,
read in order, never has more returns than calls so far. This checks the
whole file as one sequence; traces with several threads are balanced per
thread by construction, which this does not look at.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

__all__ = ["TraceBalanceError", "TraceBalanceResult", "load_trace_events", "summarize_trace_balance"]


class TraceBalanceError(RuntimeError):
    """The trace file cannot be read, is not a JSON array of objects, or has an impossible event."""


@dataclass(frozen=True)
class TraceBalanceResult:
    """How many calls and returns a trace holds, and where (if anywhere) returns outran calls."""

    call_count: int
    return_count: int
    first_negative_index: int | None

    @property
    def is_balanced(self) -> bool:
        """As many calls as returns, and never a return without an open call."""
        return self.call_count == self.return_count and self.first_negative_index is None

    @property
    def delta(self) -> int:
        """Calls minus returns."""
        return self.call_count - self.return_count


def load_trace_events(trace_path: Path) -> Sequence[Mapping[str, Any]]:
    """The events of a ``trace.json`` file (a JSON array of objects)."""
    try:
        text = Path(trace_path).read_text(encoding="utf-8")
    except OSError as error:
        raise TraceBalanceError(f"cannot read trace file {trace_path}: {error}") from error
    try:
        events = json.loads(text)
    except json.JSONDecodeError as error:
        raise TraceBalanceError(f"trace file {trace_path} is not valid JSON: {error}") from error
    if not isinstance(events, list):
        raise TraceBalanceError(f"trace file {trace_path} holds a {type(events).__name__}, not a JSON array")
    for index, event in enumerate(events):
        if not isinstance(event, dict):
            raise TraceBalanceError(f"event #{index} of {trace_path} is a {type(event).__name__}, not an object")
    return events


def summarize_trace_balance(events: Iterable[Mapping[str, Any]]) -> TraceBalanceResult:
    """Counts the ``Call`` and ``Return`` events and finds the first return without an open call."""
    calls = returns = 0
    first_negative: int | None = None
    for index, event in enumerate(events):
        is_call, is_return = "Call" in event, "Return" in event
        if is_call and is_return:
            raise TraceBalanceError(f"event #{index} is both a Call and a Return")
        calls += is_call
        returns += is_return
        if is_return and returns > calls and first_negative is None:
            first_negative = index
    return TraceBalanceResult(call_count=calls, return_count=returns, first_negative_index=first_negative)
