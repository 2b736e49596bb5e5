"""The compatibility table and the suite agree: every changed or pending row has
a test that pins it, and every such test names a row of the table."""

from __future__ import annotations

import re
from pathlib import Path

from compat_support import TABLE

ROW = re.compile(r"^\| `(?P<id>[a-z0-9-]+)` \|.*\| (?P<status>same|alias|changed|pending) \|[^|]*\|$")
MARKER = re.compile(r"""\b(?P<kind>differs|pending)\("(?P<id>[a-z0-9-]+)\"""")


def _rows() -> dict[str, str]:
    rows = {}
    for line in TABLE.read_text().splitlines():
        match = ROW.match(line)
        if match:
            assert match["id"] not in rows, f"row {match['id']} listed twice"
            rows[match["id"]] = match["status"]
    return rows


def _markers() -> dict[str, set[str]]:
    found: dict[str, set[str]] = {"differs": set(), "pending": set()}
    for path in Path(__file__).parent.glob("test_*.py"):
        for match in MARKER.finditer(path.read_text()):
            found[match["kind"]].add(match["id"])
    return found


def test_every_changed_row_is_pinned_by_a_test_and_every_difference_is_listed():
    rows, markers = _rows(), _markers()
    assert {row for row, status in rows.items() if status == "changed"} == markers["differs"]


def test_every_pending_row_has_a_test_that_flips_when_the_core_lands():
    rows, markers = _rows(), _markers()
    assert {row for row, status in rows.items() if status == "pending"} == markers["pending"]
