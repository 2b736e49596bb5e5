"""`scripts/bench.py` in smoke mode prints every row and column of the docs' tables,
and its caps stop a run that would eat the machine. Nothing here is timed."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from conftest import REPO

sys.path.insert(0, str(REPO / "scripts"))
import bench  # noqa: E402

GOAL_NAMES = [workload.name for workload in bench.GOAL_WORKLOADS]
FILTER_NAMES = [workload.name for workload in bench.FILTER_WORKLOADS]


def run_bench(tmp_path: Path, *extra: str) -> tuple[subprocess.CompletedProcess, dict]:
    """Runs the smoke benchmark with --markdown; skips when pyflakes cannot be installed (offline)."""
    output = tmp_path / "bench.json"
    result = subprocess.run(
        [sys.executable, "scripts/bench.py", "--smoke", "--markdown", "--json", str(output), *extra],
        cwd=REPO, capture_output=True, text=True, timeout=600, check=False,
    )
    if result.returncode == bench.EXIT_UNAVAILABLE:
        pytest.skip(f"pyflakes is not installable here: {result.stderr.strip()}")
    assert result.returncode == 0, result.stderr
    return result, json.loads(output.read_text())


def tables(stdout: str) -> list[list[list[str]]]:
    """The markdown tables on stdout, each a list of rows of cells (header first, no rule line)."""
    found: list[list[list[str]]] = []
    current: list[list[str]] | None = None
    for line in stdout.splitlines():
        if line.startswith("|"):
            if current is None:
                current = []
                found.append(current)
            if not line.startswith("|---"):
                current.append([cell.strip() for cell in line.strip("|").split("|")])
        else:
            current = None
    return found


def test_smoke_prints_every_workload_and_column_of_the_four_tables(tmp_path):
    result, report = run_bench(tmp_path)
    goals, per_event, filters, io_capture = tables(result.stdout)
    assert [row[0] for row in io_capture[1:]] == ["untraced", *(f"traced, {mode}" for mode in bench.IO_MODES)]
    assert all(len(row) == len(io_capture[0]) for row in io_capture), io_capture
    fmt = report["default_format"]
    other = "json" if fmt == "binary" else "binary"
    assert goals[0][:6] == ["workload", "untraced s", f"{fmt} (default)", other, f"goal ({fmt})", "floor"]
    assert len(goals[0]) == 10, "no 0.3.0 column unless --with-0.3"
    assert [row[0] for row in goals[1:]] == GOAL_NAMES
    assert [row[0] for row in per_event[1:]] == GOAL_NAMES
    assert [row[0] for row in filters[1:]] == FILTER_NAMES
    for table in (goals, per_event, filters):
        assert all(len(row) == len(table[0]) for row in table), table
    for row in goals[1:]:
        assert row[2].endswith("x") and row[3].endswith("x") and row[5].endswith("x"), row
        assert row[4].startswith("<= ") and ("met" in row[4] or "over" in row[4]), row
        assert row[7] != "0 KiB" and row[8] != "0 KiB", f"a traced run wrote nothing: {row}"
    pyflakes = goals[GOAL_NAMES.index("pyflakes: argparse.py + dataclasses.py") + 1]
    assert "<= 1 GB" in pyflakes[4], "the pyflakes goal includes the output size"
    for row in per_event[1:]:
        events, steps = (int(cell.replace(",", "")) for cell in row[1:3])
        assert events > steps > 0, row
    for workload in report["workloads"]:
        assert set(workload["variants"]) == {"untraced", "json", "binary", "floor"}
        assert all(variant["wall_s"] > 0 and not variant["killed"] for variant in workload["variants"].values())
        assert isinstance(workload["goal_met"], bool)
    assert [row["name"] for row in report["filter_workloads"]] == FILTER_NAMES


def test_with_0_3_adds_its_column_from_its_own_venv(tmp_path):
    output = tmp_path / "bench.json"
    result = subprocess.run(
        [sys.executable, "scripts/bench.py", "--smoke", "--compare", "--only", "fib", "--with-0.3",
         "--json", str(output)],
        cwd=REPO, capture_output=True, text=True, timeout=600, check=False,
    )
    assert result.returncode == 0, result.stderr
    if "skipping the 0.3.0 column" in result.stderr:
        pytest.skip(f"codetracer-python-recorder 0.3.0 is not installable here: {result.stderr.strip()}")
    goals = tables(result.stdout)[0]
    assert goals[0][-1].startswith("0.3.0 (") and len(goals[0]) == 11
    assert goals[1][0] == "recursion: fib(22)" and goals[1][-1].endswith("RSS)"), goals[1]
    old = json.loads(output.read_text())["workloads"][0]["variants"]["0.3.0"]
    assert old["slowdown"] > 1 and old["output_bytes"] > 0 and not old["killed"]


def test_default_mode_still_writes_the_release_gate_rows(tmp_path):
    output = tmp_path / "bench.json"
    result = subprocess.run(
        [sys.executable, "scripts/bench.py", "--smoke", "--only", "pyflakes", "--json", str(output)],
        cwd=REPO, capture_output=True, text=True, timeout=300, check=False,
    )
    if result.returncode == bench.EXIT_UNAVAILABLE:
        pytest.skip(f"pyflakes is not installable here: {result.stderr.strip()}")
    assert result.returncode == 0, result.stderr
    rows = json.loads(output.read_text())["workloads"]
    assert [row["name"] for row in rows] == ["pyflakes: argparse.py + dataclasses.py"]
    assert rows[0]["cpu_slowdown"] > 0 and rows[0]["slowdown"] > 0 and rows[0]["events"] > 0


@pytest.mark.parametrize(
    ("program", "limits", "reason"),
    [
        ("import time; time.sleep(60)", bench.Limits(0.5, 2**40, 2**40), "killed after"),
        ("import time; x = bytearray(256 * 2**20); time.sleep(60)", bench.Limits(60, 64 * 2**20, 2**40),
         "GiB RSS"),
    ],
)
def test_a_capped_run_is_killed_and_says_why(program, limits, reason):
    run, _ = bench.run_once([sys.executable, "-c", program], {}, None, 0, limits)
    assert reason in run.killed
    assert run.wall < 30, "the cap did not stop the run"


def test_an_uncapped_failing_run_ends_the_benchmark_with_its_status():
    with pytest.raises(SystemExit, match="exited with status 3"):
        bench.run_once([sys.executable, "-c", "raise SystemExit(3)"], {}, None, 0)
