"""Recorder benchmark: each workload untraced and traced in the same run.

Usage: .venv/bin/python scripts/bench.py [--repeat N] [--format json|binary] [--only TEXT]
                                         [--json FILE]

For every workload it prints the best-of-N wall time untraced and traced, the
slowdown ratio, the highest peak RSS of the traced runs, the number of recorded
events, the size of the events file, events per second and microseconds per
recorded event (the traced time minus the untraced time, divided by the
events), both in wall time and in CPU time (user + system, which a busy shared
machine disturbs less). Ratios, not absolute seconds, are what to compare
across machines. A workload with a trace filter (`FILTERS`) is recorded with
`--trace-filter` naming it. `--json FILE` also writes the same rows as JSON
(read by `./dev release-check`, which compares the slowdowns with a baseline).

Then the IO capture row: a print-heavy program (100k short lines, two writes
each, stdout redirected to a file) untraced and traced with capture off, with
the stream proxies (the default) and with proxies and the descriptor mirror;
what capture adds per write is (capture on - capture off) / writes.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import subprocess
import sys
import tempfile
import textwrap
import time
from pathlib import Path

#: A function with 50 locals bound, each line step recording all of them.
FIFTY_LOCALS = "\n".join([
    "def work(n):",
    *(f"    v{i:02d} = {i}" for i in range(50)),
    "    for i in range(n):",
    "        v00 += 1",
    "    return v00",
    "",
    "print(work(20_000))",
])

WORKLOADS = {
    "recursion: fib(22)": """
        def fib(n):
            if n < 2:
                return n
            return fib(n - 1) + fib(n - 2)

        print(fib(22))
    """,
    "hot loop: ~2M line events": """
        def loop(n):
            total = 0
            for i in range(n):
                total += i
            return total

        print(loop(1_000_000))
    """,
    "objects and dicts": """
        class Point:
            def __init__(self, x, y):
                self.x = x
                self.y = y

        def build(n):
            points = []
            index = {}
            for i in range(n):
                p = Point(i, i * 2)
                points.append(p)
                index[str(i)] = {"point": p, "tags": [i, i + 1], "pair": (i, "v")}
            return len(points), len(index)

        print(build(60_000))
    """,
    "mixed argument kinds": """
        def f(a, b=2, /, c=3, *args, d, e=5, **kwargs):
            return a + b + c + d + e + len(args) + len(kwargs)

        def run(n):
            total = 0
            for i in range(n):
                total += f(i, 1, 2, 3, 4, d=i, e=1, extra=i, more="x")
            return total

        print(run(60_000))
    """,
    "start-up: an empty program": """
        pass
    """,
    "skipped hot loop: 20M iterations": """
        def loop(n):
            total = 0
            for i in range(n):
                total += i
            return total

        print(loop(20_000_000))
    """,
    "50 locals: no rules": FIFTY_LOCALS,
    "50 locals: redaction rules": FIFTY_LOCALS,
    "stdlib-heavy: default filter": """
        import json
        import re
        import textwrap

        PAIRS = re.compile(r"(\\w+)=(\\d+)")

        def work(n):
            total = 0
            for i in range(n):
                data = json.loads(json.dumps({"i": i, "items": list(range(10))}))
                total += len(data["items"])
                total += len(PAIRS.findall(f"a={i} b={i + 1}"))
                total += len(textwrap.wrap("lorem ipsum dolor sit amet " * 3, 20))
            return total

        print(work(20_000))
    """,
}

#: Trace filters of the workloads recorded with one (`--trace-filter`).
FILTERS = {
    "skipped hot loop: 20M iterations": """
        [meta]
        name = "skip-the-loop"
        version = 1

        [scope]
        default_exec = "trace"
        default_value_action = "allow"

        [[scope.rules]]
        selector = "obj:glob:*.loop"
        exec = "skip"
    """,
    "50 locals: redaction rules": """
        [meta]
        name = "redaction-rules"
        version = 1

        [scope]
        default_exec = "trace"
        default_value_action = "allow"

        [[scope.rules]]
        selector = "pkg:glob:*"

        [[scope.rules.value_patterns]]
        selector = "local:glob:v0*"
        action = "redact"

        [[scope.rules.value_patterns]]
        selector = "local:regex:^v4[0-4]$"
        action = "drop"

        [[scope.rules.value_patterns]]
        selector = "local:tokens:customer, email, phone, address, birth date"
        action = "redact"

        [[scope.rules.value_patterns]]
        selector = "local:literal:unused"
        action = "redact"

        [[scope.rules.value_patterns]]
        selector = "arg:glob:secret_*"
        action = "redact"

        [[scope.rules.value_patterns]]
        selector = "attr:regex:(?i)token"
        action = "redact"
    """,
}


#: The IO capture workload: 100k short lines, each one `print` = two writes.
IO_NAME = "print-heavy: 100k lines (IO capture)"
IO_WORKLOAD = """
    def main(n):
        for i in range(n):
            print(f"line {i}")

    main(100_000)
"""
IO_WRITES = 200_000
#: Capture modes compared, by `CODETRACER_CAPTURE_IO`.
IO_MODES = {"capture off": "off", "proxies (default)": "proxies", "proxies + fd mirror": "proxies,fd"}


def run_once(argv: list[str], env: dict[str, str], stdout=subprocess.DEVNULL) -> tuple[float, float, int]:
    """Runs argv; returns (wall seconds, CPU seconds, peak RSS in KiB)."""
    start = time.perf_counter()
    proc = subprocess.Popen(argv, env=env, stdout=stdout)
    _, status, usage = os.wait4(proc.pid, 0)
    elapsed = time.perf_counter() - start
    if os.waitstatus_to_exitcode(status) != 0:
        raise SystemExit(f"bench: {' '.join(argv)} failed with status {status}")
    return elapsed, usage.ru_utime + usage.ru_stime, usage.ru_maxrss


def events_file_bytes(trace_dir: Path) -> int:
    """Size of the events file (trace.json or trace.bin)."""
    for name in ("trace.json", "trace.bin"):
        if (trace_dir / name).exists():
            return (trace_dir / name).stat().st_size
    return 0


def count_events(trace_dir: Path) -> int:
    """Counts the events of a trace through the metadata or the one-event-per-line JSON file."""
    trace_json = trace_dir / "trace.json"
    if trace_json.exists():
        with trace_json.open("rb") as handle:
            return max(sum(1 for _ in handle) - 2, 0)
    metadata = json.loads((trace_dir / "trace_metadata.json").read_text())
    return int(metadata.get("recorder", {}).get("events", 0))


def best(argv: list[str], env: dict[str, str], repeat: int, out: Path) -> tuple[float, float]:
    """Best wall and CPU seconds of `repeat` runs with stdout redirected to a file."""
    runs = []
    for _ in range(repeat):
        shutil.rmtree(out.parent / "trace", ignore_errors=True)
        with out.open("wb") as handle:
            runs.append(run_once(argv, env, stdout=handle))
    shutil.rmtree(out.parent / "trace", ignore_errors=True)
    return min(run[0] for run in runs), min(run[1] for run in runs)


def bench_io_capture(work: Path, repeat: int, fmt: str) -> list[str]:
    """The IO capture table (markdown lines): untraced, and traced in every capture mode."""
    script = work / "print_heavy.py"
    script.write_text(textwrap.dedent(IO_WORKLOAD))
    out = work / "stdout.txt"
    env = {key: value for key, value in os.environ.items() if key != "PYTHONUNBUFFERED"}
    untraced, untraced_cpu = best([sys.executable, str(script)], env, repeat, out)
    traced_argv = [
        sys.executable, "-m", "codetracer_python_recorder",
        "--out-dir", str(work / "trace"), "--format", fmt, str(script),
    ]
    rows = {name: best(traced_argv, {**env, "CODETRACER_CAPTURE_IO": mode}, repeat, out) for name, mode in IO_MODES.items()}
    off, off_cpu = rows["capture off"]
    lines = [
        f"{IO_NAME}: {IO_WRITES:,} writes to a file-redirected stdout, best of {repeat}",
        "",
        "| run | wall s | CPU s | vs untraced | vs capture off | us per write added | CPU us per write added |",
        "|---|---:|---:|---:|---:|---:|---:|",
        f"| untraced | {untraced:.3f} | {untraced_cpu:.3f} | 1.0x | | | |",
    ]
    for name, (wall, cpu) in rows.items():
        added = (wall - off) / IO_WRITES * 1e6
        added_cpu = (cpu - off_cpu) / IO_WRITES * 1e6
        lines.append(
            f"| traced, {name} | {wall:.3f} | {cpu:.3f} | {wall / untraced:.1f}x | {wall / off:.2f}x "
            f"| {added:.2f} | {added_cpu:.2f} |"
        )
    return lines


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeat", type=int, default=3, help="runs per measurement (best is kept)")
    parser.add_argument("--format", default="json", choices=["json", "binary"])
    parser.add_argument("--only", help="run only workloads whose name contains this text")
    parser.add_argument("--json", type=Path, metavar="FILE", help="also write the rows as JSON here")
    args = parser.parse_args()

    env = dict(os.environ)
    rows = []
    cpu_seconds = {}  # workload -> (best untraced, best traced) CPU seconds, for --json
    with tempfile.TemporaryDirectory(prefix="codetracer-bench-") as tmp:
        work = Path(tmp)
        for name, source in WORKLOADS.items():
            if args.only and args.only not in name:
                continue
            script = work / "workload.py"
            script.write_text(textwrap.dedent(source))
            filter_args = []
            if name in FILTERS:
                filter_file = work / "filter.toml"
                filter_file.write_text(textwrap.dedent(FILTERS[name]))
                filter_args = ["--trace-filter", str(filter_file)]
            plain = [sys.executable, str(script)]
            untraced_runs = [run_once(plain, env) for _ in range(args.repeat)]
            untraced = min(run[0] for run in untraced_runs)
            untraced_cpu = min(run[1] for run in untraced_runs)
            best_traced, best_cpu, rss, events, size = float("inf"), float("inf"), 0, 0, 0
            for _ in range(args.repeat):
                out = work / "trace"
                shutil.rmtree(out, ignore_errors=True)
                traced_argv = [
                    sys.executable, "-m", "codetracer_python_recorder",
                    "--out-dir", str(out), "--format", args.format, *filter_args, str(script),
                ]
                elapsed, cpu, peak = run_once(traced_argv, env)
                best_cpu = min(best_cpu, cpu)
                rss = max(rss, peak)
                if elapsed < best_traced:
                    best_traced = elapsed
                    events = count_events(out) if args.format == "json" else 0
                    size = events_file_bytes(out)
                shutil.rmtree(out, ignore_errors=True)
            per_event_us = (best_traced - untraced) / events * 1e6 if events else float("nan")
            per_event_cpu_us = (best_cpu - untraced_cpu) / events * 1e6 if events else float("nan")
            rate = events / best_traced if events else float("nan")
            rows.append((
                name, untraced, best_traced, best_traced / untraced, rss / 1024, events,
                size / 2**20, rate, per_event_us, per_event_cpu_us,
            ))
            cpu_seconds[name] = (untraced_cpu, best_cpu)
            print(f"bench: {name} done", file=sys.stderr)
        io_lines = []
        if not args.only or args.only in IO_NAME:
            io_work = work / "io"
            io_work.mkdir()
            io_lines = bench_io_capture(io_work, args.repeat, args.format)
            print(f"bench: {IO_NAME} done", file=sys.stderr)

    print(f"Python {sys.version.split()[0]}, format {args.format}, best of {args.repeat}")
    print()
    print(
        "| workload | untraced s | traced s | slowdown | peak RSS MiB | events | trace MiB "
        "| events/s | us/event | CPU us/event |"
    )
    print("|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|")
    for name, untraced, traced, ratio, rss_mib, events, size_mib, rate, per_event, per_cpu in rows:
        print(
            f"| {name} | {untraced:.3f} | {traced:.3f} | {ratio:.1f}x | {rss_mib:.0f} | "
            f"{events:,} | {size_mib:,.0f} | {rate:,.0f} | {per_event:.2f} | {per_cpu:.2f} |"
        )
    if io_lines:
        print()
        print("\n".join(io_lines))
    if args.json:
        write_json(args.json, rows, cpu_seconds, args)


def write_json(
    path: Path, rows: list[tuple], cpu_seconds: dict[str, tuple[float, float]], args: argparse.Namespace
) -> None:
    """Writes the measured rows as JSON: `{"python", "format", "repeat", "workloads": [...]}`.

    Each workload also gets its best untraced and traced CPU seconds (user +
    system) and their ratio, `cpu_slowdown`, which a busy machine disturbs
    far less than the wall-clock `slowdown`.
    """
    keys = (
        "name", "untraced_s", "traced_s", "slowdown", "peak_rss_mib", "events",
        "trace_mib", "events_per_s", "us_per_event", "cpu_us_per_event",
    )
    workloads = []
    for row in rows:
        workload = {key: (None if isinstance(value, float) and value != value else value)
                    for key, value in zip(keys, row)}
        untraced_cpu, traced_cpu = cpu_seconds[workload["name"]]
        workload["untraced_cpu_s"] = untraced_cpu
        workload["traced_cpu_s"] = traced_cpu
        workload["cpu_slowdown"] = traced_cpu / untraced_cpu if untraced_cpu > 0 else None
        workloads.append(workload)
    report = {
        "python": sys.version.split()[0],
        "format": args.format,
        "repeat": args.repeat,
        "workloads": workloads,
    }
    path.write_text(json.dumps(report, indent=2) + "\n")


if __name__ == "__main__":
    main()
