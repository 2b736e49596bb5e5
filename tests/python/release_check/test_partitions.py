"""The nextest partitions of the real test set: together the whole set, no test twice.

Runs `cargo nextest list` (the build of the Rust suite is reused: same
features as `./dev test` and `./dev release-check`), unpartitioned and with
`--partition hash:k/N` for every k.
"""

from __future__ import annotations

import json
import subprocess
from collections import Counter

from gate_fakes import REPO

PARTITIONS = 3
LIST = ["cargo", "nextest", "list", "--features", "failure-fixtures", "--message-format", "json"]


def listed(*extra: str) -> tuple[set[str], set[str]]:
    """(every test, the tests the filter selects) as `binary-id name`."""
    result = subprocess.run(
        [*LIST, *extra], cwd=REPO, capture_output=True, text=True, timeout=1200, check=False
    )
    assert result.returncode == 0, result.stderr[-3000:]
    everything, selected = set(), set()
    for binary, suite in json.loads(result.stdout)["rust-suites"].items():
        for name, test in suite["testcases"].items():
            everything.add(f"{binary} {name}")
            if test["filter-match"]["status"] == "matches":
                selected.add(f"{binary} {name}")
    return everything, selected


def test_the_partitions_cover_every_test_exactly_once():
    whole, selected = listed()
    assert selected == whole
    assert any(name.startswith("harness::scenarios sweep::") for name in whole), (
        "the scenario binary lists no sweep range: is failure-fixtures on?"
    )
    seen: Counter[str] = Counter()
    for k in range(1, PARTITIONS + 1):
        listing, share = listed("--partition", f"hash:{k}/{PARTITIONS}")
        assert listing == whole, f"partition {k} lists a different test set"
        assert share, f"partition {k}/{PARTITIONS} is empty"
        assert any(name.startswith("harness::scenarios sweep::") for name in share), (
            f"partition {k}/{PARTITIONS} got no sweep range"
        )
        seen.update(share)
    assert set(seen) == whole, f"in no partition: {sorted(whole - set(seen))[:10]}"
    twice = [name for name, count in seen.items() if count > 1]
    assert not twice, f"in more than one partition: {twice[:10]}"


def test_each_swept_case_is_split_into_contiguous_index_ranges():
    whole, _ = listed("-E", "binary_id(harness::scenarios)")
    ranges: dict[str, list[tuple[int, int]]] = {}
    for name in whole:
        test = name.split(" ", 1)[1]
        if test.startswith("sweep::"):
            case, _, indices = test.removeprefix("sweep::").rpartition("::ops-")
            first, last = map(int, indices.split("-"))
            ranges.setdefault(case, []).append((first, last))
    assert ranges, "no sweep tests listed"
    for case, spans in ranges.items():
        spans.sort()
        assert len(spans) > 1, f"{case}: one test for the whole sweep"
        assert spans[0][0] == 1, f"{case}: the first range starts at {spans[0][0]}"
        for (_, end), (start, _) in zip(spans, spans[1:]):
            assert start == end + 1, f"{case}: gap or overlap between ranges {spans}"
