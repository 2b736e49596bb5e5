"""`scripts/bench.py --json` writes what the gate's benchmark step reads (a real, short run)."""

from __future__ import annotations

import json
import subprocess
import sys

from gate_fakes import REPO

from release_check import bench_compare


def test_bench_json_carries_both_slowdowns_of_each_workload_run(tmp_path):
    output = tmp_path / "bench.json"
    result = subprocess.run(
        [sys.executable, "scripts/bench.py", "--repeat", "1", "--only", "recursion", "--json", str(output)],
        cwd=REPO, capture_output=True, text=True, timeout=300, check=False,
    )
    assert result.returncode == 0, result.stderr
    assert "| recursion: fib(22) |" in result.stdout, "the table on stdout must stay"
    judged, wall, report = bench_compare.read_measurements(output)
    assert list(judged) == ["recursion: fib(22)"] == list(wall)
    row = json.loads(output.read_text())["workloads"][0]
    assert row["cpu_slowdown"] == row["traced_cpu_s"] / row["untraced_cpu_s"]
    assert row["cpu_slowdown"] > 1 and row["slowdown"] > 1, "tracing costs nothing?"
    assert row["events"] > 400_000
    assert report["repeat"] == 1 and report["format"] == "json"
