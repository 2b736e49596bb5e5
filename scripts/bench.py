"""Recorder benchmark: each workload untraced and traced, side by side in the same run.

Usage: .venv/bin/python scripts/bench.py [--repeat N] [--format json|binary] [--only TEXT]
                                         [--json FILE] [--compare] [--markdown]
                                         [--with-0.3] [--smoke]

Every workload is a Python script (and its arguments) run by this interpreter:
untraced (`python script.py`), and recorded (`python -m codetracer_python_recorder
--format F script.py`). Each measurement is made `--repeat` times in rounds
(one round runs every variant of the workload back to back, so a change in the
machine's load hits all of them alike); the best wall time of each variant is
kept, and a ratio is best traced / best untraced.

Modes:

- default: one format (`--format`), every workload; prints per workload the
  untraced and traced time, the slowdown, peak RSS, events, trace size, events
  per second and microseconds per recorded event (wall and CPU = user +
  system). `--json FILE` writes the same rows (the release gate,
  `./dev release-check`, reads them and judges `cpu_slowdown`).
- `--compare`: the workloads with a goal, recorded in both formats and under
  the "floor" (a do-nothing `sys.monitoring` tool with PY_START, PY_RETURN and
  LINE callbacks returning None); prints each ratio next to its goal, the
  floor's ratio and how far the default format is from "3x the floor's
  overhead" (overhead = ratio - 1), the output bytes and peak RSS.
  `--with-0.3` adds codetracer-python-recorder 0.3.0 (its own venv under
  `target/bench/`, one capped run per workload).
- `--markdown`: `--compare` plus the trace-filter workloads, printed as the
  exact tables of `docs/benchmarks.md` and the README's "Speed" section.

The pyflakes workload needs pyflakes (`PYFLAKES` below): it is installed once
into a venv under `target/bench/` (never into the running environment) and put
on the workloads' `PYTHONPATH`. That needs PyPI once; offline, point pip at a
mirror or a wheel directory (`PIP_INDEX_URL`, `PIP_FIND_LINKS`) or leave the
workload out with `--only`. `--smoke` runs every workload at its smallest size
once (a check that the script works, not a measurement).

The default mode and `--markdown` end with the IO capture table: a
print-heavy program (100k short lines, two writes each, stdout redirected to
a file) untraced and recorded with capture off, with the stream proxies (the
default) and with proxies and the descriptor mirror; what capture adds per
write is (capture on - capture off) / writes.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import signal
import subprocess
import sys
import tempfile
import textwrap
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path
from string import Template

ROOT = Path(__file__).resolve().parent.parent
#: The pinned pyflakes release of the pyflakes workload.
PYFLAKES = "pyflakes==4.1.0"
#: The 0.3 release `--with-0.3` measures.
RECORDER_0_3 = "codetracer-python-recorder==0.3.0"
#: The files pyflakes checks (CPython 3.12.1's own, see scripts/bench_inputs/README.md).
PYFLAKES_INPUTS = (ROOT / "scripts" / "bench_inputs" / "argparse.py",
                   ROOT / "scripts" / "bench_inputs" / "dataclasses.py")
#: Where the benchmark's own venvs live.
BENCH_VENVS = ROOT / "target" / "bench"
#: Exit status when a workload's dependency cannot be installed.
EXIT_UNAVAILABLE = 3
#: Long-term target: a workload's overhead at most this many times the floor's.
FLOOR_FACTOR = 3.0
#: Output goal of the pyflakes workload in the default format, bytes.
PYFLAKES_OUTPUT_GOAL = 10**9


@dataclass(frozen=True)
class Workload:
    """A benchmark program: its script (`$n` is the size), arguments, filter and goal."""

    name: str
    source: str
    size: int = 0
    smoke_size: int = 0
    #: Trace filter (TOML) recorded with `--trace-filter`, if any.
    trace_filter: str | None = None
    #: Goal for the slowdown (traced / untraced wall time); None for the filter workloads.
    goal: float | None = None
    #: Needs pyflakes on the path and checks the pyflakes inputs.
    pyflakes: bool = False

    def script(self, smoke: bool) -> str:
        """The program's text at the full or the smoke size."""
        return Template(textwrap.dedent(self.source)).substitute(n=self.smoke_size if smoke else self.size)


#: A function with 50 locals bound, each line step recording all of them.
FIFTY_LOCALS = "\n".join([
    "def work(n):",
    *(f"    v{i:02d} = {i}" for i in range(50)),
    "    for i in range(n):",
    "        v00 += 1",
    "    return v00",
    "",
    "print(work($n))",
])

HOT_LOOP = """
    def loop(n):
        total = 0
        for i in range(n):
            total += i
        return total

    print(loop($n))
"""

REDACTION_FILTER = """
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
"""

SKIP_LOOP_FILTER = """
    [meta]
    name = "skip-the-loop"
    version = 1

    [scope]
    default_exec = "trace"
    default_value_action = "allow"

    [[scope.rules]]
    selector = "obj:glob:*.loop"
    exec = "skip"
"""

#: The workloads with a goal: `--compare` and `--markdown` measure these.
GOAL_WORKLOADS = (
    Workload("recursion: fib(22)", """
        def fib(n):
            if n < 2:
                return n
            return fib(n - 1) + fib(n - 2)

        print(fib($n))
    """, size=22, smoke_size=5, goal=8.0),
    Workload("hot loop: ~2M line events", HOT_LOOP, size=1_000_000, smoke_size=10, goal=8.0),
    Workload("objects and dicts", """
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

        print(build($n))
    """, size=60_000, smoke_size=10, goal=15.0),
    Workload("mixed argument kinds", """
        def f(a, b=2, /, c=3, *args, d, e=5, **kwargs):
            return a + b + c + d + e + len(args) + len(kwargs)

        def run(n):
            total = 0
            for i in range(n):
                total += f(i, 1, 2, 3, 4, d=i, e=1, extra=i, more="x")
            return total

        print(run($n))
    """, size=60_000, smoke_size=10, goal=8.0),
    Workload("pyflakes: argparse.py + dataclasses.py", """
        from pyflakes.api import main

        main(prog="pyflakes")
    """, goal=40.0, pyflakes=True),
)

#: The trace-filter workloads (no goal; the default mode and `--markdown` measure these).
FILTER_WORKLOADS = (
    Workload("start-up: an empty program", "pass\n"),
    Workload("skipped hot loop: 20M iterations", HOT_LOOP, size=20_000_000, smoke_size=10,
             trace_filter=SKIP_LOOP_FILTER),
    Workload("50 locals: no rules", FIFTY_LOCALS, size=20_000, smoke_size=10),
    Workload("50 locals: redaction rules", FIFTY_LOCALS, size=20_000, smoke_size=10,
             trace_filter=REDACTION_FILTER),
    Workload("stdlib-heavy: default filter", """
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

        print(work($n))
    """, size=20_000, smoke_size=10),
)

#: The floor: a do-nothing `sys.monitoring` tool that then runs the script like `python script.py`.
FLOOR_TOOL = """
    import os
    import runpy
    import sys

    monitoring = sys.monitoring
    TOOL = 3
    events = monitoring.events


    def on_start(code, offset):
        return None


    def on_return(code, offset, value):
        return None


    def on_line(code, line):
        return None


    monitoring.use_tool_id(TOOL, "bench-floor")
    monitoring.register_callback(TOOL, events.PY_START, on_start)
    monitoring.register_callback(TOOL, events.PY_RETURN, on_return)
    monitoring.register_callback(TOOL, events.LINE, on_line)
    monitoring.set_events(TOOL, events.PY_START | events.PY_RETURN | events.LINE)
    del sys.argv[0]
    sys.path[0] = os.path.dirname(os.path.abspath(sys.argv[0]))
    runpy.run_path(sys.argv[0], run_name="__main__")
"""


class Unavailable(Exception):
    """A workload dependency (pyflakes, codetracer 0.3.0) that could not be installed."""


@dataclass
class Run:
    """One process: wall and CPU seconds, peak RSS (KiB), output bytes, or why it was killed."""

    wall: float
    cpu: float
    rss_kib: int
    output_bytes: int = 0
    killed: str = ""


@dataclass
class Variant:
    """The best of the runs of one way of running a workload."""

    wall: float = float("inf")
    cpu: float = float("inf")
    rss_kib: int = 0
    output_bytes: int = 0
    events: int = 0
    steps: int = 0
    killed: str = ""

    def add(self, run: Run) -> None:
        """Keeps the best wall and CPU time, the highest RSS, the output of the best (or killed) run."""
        self.rss_kib = max(self.rss_kib, run.rss_kib)
        self.cpu = min(self.cpu, run.cpu)
        if run.killed:
            self.killed = run.killed
            self.output_bytes = run.output_bytes
        elif run.wall < self.wall:
            self.wall = run.wall
            self.output_bytes = run.output_bytes


@dataclass
class Measurement:
    """A workload's variants: `untraced`, `json`, `binary`, `floor`, `0.3.0`."""

    workload: Workload
    variants: dict[str, Variant] = field(default_factory=dict)

    def ratio(self, variant: str) -> float | None:
        """Best wall time of the variant / best untraced wall time."""
        run = self.variants.get(variant)
        if run is None or run.killed or run.wall == float("inf"):
            return None
        return run.wall / self.variants["untraced"].wall

    def cpu_ratio(self, variant: str) -> float | None:
        """Best CPU time of the variant / best untraced CPU time."""
        run, untraced = self.variants.get(variant), self.variants["untraced"]
        if run is None or run.killed or untraced.cpu <= 0:
            return None
        return run.cpu / untraced.cpu


@dataclass(frozen=True)
class Limits:
    """Caps of a run that may not finish (0.3.0): wall seconds, RSS and output size in bytes."""

    seconds: float
    rss_bytes: int
    output_bytes: int


# --- running ---------------------------------------------------------------


def directory_bytes(path: Path) -> int:
    """Total size of the files under path (0 when it does not exist)."""
    total = 0
    for dirpath, _, files in os.walk(path):
        for name in files:
            try:
                total += (Path(dirpath) / name).stat().st_size
            except OSError:
                pass
    return total


def rss_bytes(pid: int) -> int:
    """Resident set size of a live process, from /proc (0 when unknown)."""
    try:
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) * 1024
    except (OSError, ValueError, IndexError):
        pass
    return 0


def watch(pid: int, limits: Limits, out_dir: Path | None, start: float, done: threading.Event,
          verdict: list[str]) -> None:
    """Kills pid when it passes a limit, recording why in verdict; returns when `done` is set.

    It never reaps the process (the caller's `wait4` does), so the pid stays
    the child's until `done`.
    """
    while not done.wait(0.2):
        reason = ""
        if time.perf_counter() - start > limits.seconds:
            reason = f"killed after {limits.seconds:.0f} s"
        elif rss_bytes(pid) > limits.rss_bytes:
            reason = f"killed at {limits.rss_bytes / 2**30:.1f} GiB RSS"
        elif out_dir is not None and directory_bytes(out_dir) > limits.output_bytes:
            reason = f"killed at {limits.output_bytes / 2**30:.1f} GiB of output"
        if reason:
            verdict.append(reason)
            os.kill(pid, signal.SIGKILL)
            return


def run_once(
    argv: list[str], env: dict[str, str], out_dir: Path | None = None,
    expected_status: int | None = 0, limits: Limits | None = None, stdout=subprocess.DEVNULL,
) -> tuple[Run, int]:
    """Runs argv with stdout sent to `stdout` (discarded by default); returns the run and its exit status.

    A status other than `expected_status` (None: any) ends the benchmark, unless
    a limit killed the run. Output bytes are those of `out_dir` after the run.
    """
    start = time.perf_counter()
    proc = subprocess.Popen(argv, env=env, stdout=stdout)
    verdict: list[str] = []
    done = threading.Event()
    watcher = None
    if limits is not None:
        watcher = threading.Thread(target=watch, args=(proc.pid, limits, out_dir, start, done, verdict))
        watcher.start()
    _, status, usage = os.wait4(proc.pid, 0)
    elapsed = time.perf_counter() - start
    proc.returncode = os.waitstatus_to_exitcode(status)
    done.set()
    if watcher is not None:
        watcher.join()
    killed = verdict[0] if verdict else ""
    if not killed and expected_status is not None and proc.returncode != expected_status:
        raise SystemExit(
            f"bench: {' '.join(argv)} exited with status {proc.returncode} (expected {expected_status})"
        )
    output = directory_bytes(out_dir) if out_dir is not None else 0
    run = Run(elapsed, usage.ru_utime + usage.ru_stime, usage.ru_maxrss, output, killed)
    return run, proc.returncode


def count_events(trace_dir: Path) -> tuple[int, int]:
    """(events, line steps) of a JSON trace: one event per line of trace.json."""
    trace_json = trace_dir / "trace.json"
    if not trace_json.exists():
        return 0, 0
    events = steps = 0
    with trace_json.open("rb") as handle:
        for line in handle:
            events += 1
            if line.lstrip(b"[,").startswith(b'{"Step"'):
                steps += 1
    return max(events - 2, 0), steps


# --- set-up of the benchmark's own venvs -------------------------------------


def venv_python(name: str, requirements: list[str]) -> Path:
    """The interpreter of `target/bench/<name>-pyX.Y`, created with requirements on first use."""
    version = f"{sys.version_info.major}.{sys.version_info.minor}"
    venv = BENCH_VENVS / f"{name}-py{version}"
    python = venv / "bin" / "python"
    marker = venv / "bench-requirements.txt"
    wanted = "\n".join(requirements) + "\n"
    if python.exists() and marker.exists() and marker.read_text() == wanted:
        return python
    shutil.rmtree(venv, ignore_errors=True)
    print(f"bench: installing {' '.join(requirements)} into {venv.relative_to(ROOT)} (from PyPI, once)",
          file=sys.stderr)
    base = getattr(sys, "_base_executable", sys.executable)
    steps = (
        [base, "-m", "venv", str(venv)],
        [str(python), "-m", "pip", "install", "--quiet", "--disable-pip-version-check", *requirements],
    )
    for argv in steps:
        result = subprocess.run(argv, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
        if result.returncode != 0:
            shutil.rmtree(venv, ignore_errors=True)
            tail = result.stderr.strip().splitlines()[-3:]
            raise Unavailable(f"{' '.join(requirements)}: `{' '.join(argv)}` failed: {' / '.join(tail)}")
    marker.write_text(wanted)
    return python


def site_packages(python: Path) -> str:
    """The purelib directory of a venv's interpreter."""
    return subprocess.run(
        [str(python), "-c", "import sysconfig; print(sysconfig.get_paths()['purelib'])"],
        check=True, capture_output=True, text=True,
    ).stdout.strip()


def default_format() -> str:
    """The recorder's default trace format (what a user who gives no `--format` gets)."""
    from codetracer_python_recorder.formats import DEFAULT_FORMAT

    return DEFAULT_FORMAT


# --- measuring ---------------------------------------------------------------


@dataclass
class Plan:
    """What to run: variants per workload, repeats, sizes, the environment."""

    variants: tuple[str, ...]
    repeat: int
    smoke: bool
    env: dict[str, str]
    #: The 0.3.0 venv's interpreter and the caps of its runs (`--with-0.3`), if any.
    python_0_3: Path | None = None
    limits: Limits | None = None


def measure(workload: Workload, plan: Plan, work: Path) -> Measurement:
    """Runs the workload's variants in `plan.repeat` rounds; keeps the best of each."""
    script = work / "workload.py"
    script.write_text(workload.script(plan.smoke))
    args: list[str] = []
    if workload.pyflakes:
        if plan.smoke:
            tiny = work / "tiny_input.py"
            tiny.write_text("import os\n\ndef f(x):\n    return x + 1\n")
            args = [str(tiny)]
        else:
            args = [str(path) for path in PYFLAKES_INPUTS]
    filter_args: list[str] = []
    if workload.trace_filter:
        filter_file = work / "filter.toml"
        filter_file.write_text(textwrap.dedent(workload.trace_filter))
        filter_args = ["--trace-filter", str(filter_file)]
    floor = work / "floor_tool.py"
    floor.write_text(textwrap.dedent(FLOOR_TOOL))
    out = work / "trace"

    def argv(variant: str) -> list[str]:
        if variant == "untraced":
            return [sys.executable, str(script), *args]
        if variant == "floor":
            return [sys.executable, str(floor), str(script), *args]
        recorder = [sys.executable, "-m", "codetracer_python_recorder", "--out-dir", str(out),
                    "--format", variant, *filter_args]
        return [*recorder, str(script), *args]

    result = Measurement(workload, {name: Variant() for name in plan.variants})
    expected: int | None = None
    for round_index in range(plan.repeat):
        for variant in plan.variants:
            shutil.rmtree(out, ignore_errors=True)
            traced = variant in ("json", "binary")
            run, status = run_once(argv(variant), plan.env, out if traced else None, expected)
            expected = status if expected is None else expected
            result.variants[variant].add(run)
            if variant == "json" and round_index == 0:
                result.variants[variant].events, result.variants[variant].steps = count_events(out)
            shutil.rmtree(out, ignore_errors=True)
    if plan.python_0_3 is not None and plan.limits is not None:
        result.variants["0.3.0"] = measure_0_3(plan.python_0_3, plan, script, args, out, expected)
    return result


def measure_0_3(
    python: Path, plan: Plan, script: Path, args: list[str], out: Path, expected: int | None
) -> Variant:
    """One run under codetracer-python-recorder 0.3.0 (default format), within `plan.limits`."""
    shutil.rmtree(out, ignore_errors=True)
    env = {key: value for key, value in plan.env.items() if key != "PYTHONPATH"}
    argv = [str(python), "-m", "codetracer_python_recorder", "--trace-dir", str(out),
            "--format", default_format(), "--propagate-script-exit", str(script), *args]
    run, _ = run_once(argv, env, out, expected, plan.limits)
    shutil.rmtree(out, ignore_errors=True)
    variant = Variant()
    variant.add(run)
    return variant


# --- reporting ---------------------------------------------------------------


def mib(value: int) -> str:
    """Bytes in KiB, MiB or GiB, whichever reads best."""
    if value >= 10 * 2**30:
        return f"{value / 2**30:,.1f} GiB"
    if value >= 10 * 2**20:
        return f"{value / 2**20:,.0f} MiB"
    if value >= 2**20:
        return f"{value / 2**20:,.1f} MiB"
    return f"{value / 2**10:,.0f} KiB"


def ratio_text(value: float | None) -> str:
    """`12.3x`, or `-` when not measured."""
    return "-" if value is None else f"{value:.1f}x"


def floor_distance(measurement: Measurement, variant: str) -> float | None:
    """The variant's overhead in multiples of the floor's (ratio - 1 over floor ratio - 1)."""
    ratio, floor = measurement.ratio(variant), measurement.ratio("floor")
    if ratio is None or floor is None or floor <= 1.0:
        return None
    return (ratio - 1.0) / (floor - 1.0)


def goal_text(measurement: Measurement, fmt: str) -> str:
    """`<= 8x: met` or `<= 8x: 2.1x over` for the default format."""
    goal, ratio = measurement.workload.goal, measurement.ratio(fmt)
    if goal is None or ratio is None:
        return "-"
    verdict = "met" if ratio <= goal else f"{ratio / goal:.1f}x over"
    text = f"<= {goal:.0f}x: {verdict}"
    if measurement.workload.pyflakes:
        size = measurement.variants[fmt].output_bytes
        text += "; <= 1 GB: " + ("met" if size <= PYFLAKES_OUTPUT_GOAL else f"{size / PYFLAKES_OUTPUT_GOAL:.1f}x over")
    return text


def variant_0_3_text(measurement: Measurement) -> str:
    """The 0.3.0 cell: its ratio and output, or why it was killed."""
    run = measurement.variants.get("0.3.0")
    if run is None:
        return "-"
    if run.killed:
        return f"{run.killed}"
    return f"{ratio_text(measurement.ratio('0.3.0'))} ({mib(run.output_bytes)}, {mib(run.rss_kib * 1024)} RSS)"


def compare_table(measurements: list[Measurement], fmt: str, with_0_3: bool) -> list[str]:
    """The goals table: ratios per format, goal, floor, distance to 3x the floor, bytes, RSS."""
    other = "json" if fmt == "binary" else "binary"
    header = (
        f"| workload | untraced s | {fmt} (default) | {other} | goal ({fmt}) | floor | "
        f"overhead / floor's (target <= {FLOOR_FACTOR:.0f}) | {fmt} output | {other} output | peak RSS |"
    )
    align = "|---|---:|---:|---:|---|---:|---:|---:|---:|---:|"
    if with_0_3:
        header += f" 0.3.0 ({fmt}) |"
        align += "---:|"
    lines = [header, align]
    for m in measurements:
        distance = floor_distance(m, fmt)
        rss = max(m.variants[fmt].rss_kib, m.variants[other].rss_kib) * 1024
        row = (
            f"| {m.workload.name} | {m.variants['untraced'].wall:.3f} | {ratio_text(m.ratio(fmt))} | "
            f"{ratio_text(m.ratio(other))} | {goal_text(m, fmt)} | {ratio_text(m.ratio('floor'))} | "
            f"{'-' if distance is None else f'{distance:.1f}'} | {mib(m.variants[fmt].output_bytes)} | "
            f"{mib(m.variants[other].output_bytes)} | {mib(rss)} |"
        )
        if with_0_3:
            row += f" {variant_0_3_text(m)} |"
        lines.append(row)
    return lines


def per_event_table(measurements: list[Measurement], with_0_3: bool) -> list[str]:
    """Events, line steps and microseconds per event / per line step (JSON), and 0.3.0's per step."""
    header = "| workload | events (json) | line steps | us/event (json) | CPU us/event (json) | us/line step (json) |"
    align = "|---|---:|---:|---:|---:|---:|"
    if with_0_3:
        header += " us/line step (0.3.0) |"
        align += "---:|"
    lines = [header, align]
    for m in measurements:
        run, untraced = m.variants["json"], m.variants["untraced"]
        extra = run.wall - untraced.wall
        per_event = f"{extra / run.events * 1e6:.2f}" if run.events else "-"
        per_cpu = f"{(run.cpu - untraced.cpu) / run.events * 1e6:.2f}" if run.events else "-"
        per_step = f"{extra / run.steps * 1e6:.2f}" if run.steps else "-"
        row = f"| {m.workload.name} | {run.events:,} | {run.steps:,} | {per_event} | {per_cpu} | {per_step} |"
        if with_0_3:
            old = m.variants.get("0.3.0")
            cell = "-"
            if old is not None and not old.killed and run.steps:
                cell = f"{(old.wall - untraced.wall) / run.steps * 1e6:.1f}"
            elif old is not None:
                cell = old.killed
            row += f" {cell} |"
        lines.append(row)
    return lines


def filter_table(measurements: list[Measurement], fmt: str) -> list[str]:
    """The trace-filter workloads: wall and CPU time untraced and traced, and the events."""
    lines = [
        f"| workload | untraced s | traced s ({fmt}) | slowdown | CPU untraced s | CPU traced s | CPU slowdown | events |",
        "|---|---:|---:|---:|---:|---:|---:|---:|",
    ]
    for m in measurements:
        untraced, traced = m.variants["untraced"], m.variants[fmt]
        cpu = m.cpu_ratio(fmt)
        lines.append(
            f"| {m.workload.name} | {untraced.wall:.3f} | {traced.wall:.3f} | {ratio_text(m.ratio(fmt))} | "
            f"{untraced.cpu:.3f} | {traced.cpu:.3f} | {'-' if cpu is None else f'{cpu:.2f}x'} | "
            f"{traced.events:,} |"
        )
    return lines


def single_format_table(measurements: list[Measurement], fmt: str) -> list[str]:
    """The default mode's table: one format, per-event figures."""
    lines = [
        "| workload | untraced s | traced s | slowdown | peak RSS MiB | events | trace MiB "
        "| events/s | us/event | CPU us/event |",
        "|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|",
    ]
    for row in single_format_rows(measurements, fmt):
        lines.append(
            f"| {row['name']} | {row['untraced_s']:.3f} | {row['traced_s']:.3f} | {row['slowdown']:.1f}x | "
            f"{row['peak_rss_mib']:.0f} | {row['events']:,} | {row['trace_mib']:,.0f} | "
            f"{_number(row['events_per_s'], ',.0f')} | {_number(row['us_per_event'], '.2f')} | "
            f"{_number(row['cpu_us_per_event'], '.2f')} |"
        )
    return lines


def _number(value: float | None, spec: str) -> str:
    return "-" if value is None else format(value, spec)


def single_format_rows(measurements: list[Measurement], fmt: str) -> list[dict]:
    """Per workload, the rows of the `--json` report (the release gate's input)."""
    rows = []
    for m in measurements:
        untraced, traced = m.variants["untraced"], m.variants[fmt]
        events = traced.events
        rows.append({
            "name": m.workload.name,
            "untraced_s": untraced.wall,
            "traced_s": traced.wall,
            "slowdown": traced.wall / untraced.wall,
            "peak_rss_mib": traced.rss_kib / 1024,
            "events": events,
            "trace_mib": traced.output_bytes / 2**20,
            "events_per_s": events / traced.wall if events else None,
            "us_per_event": (traced.wall - untraced.wall) / events * 1e6 if events else None,
            "cpu_us_per_event": (traced.cpu - untraced.cpu) / events * 1e6 if events else None,
            "untraced_cpu_s": untraced.cpu,
            "traced_cpu_s": traced.cpu,
            "cpu_slowdown": m.cpu_ratio(fmt),
        })
    return rows


def compare_rows(measurements: list[Measurement], fmt: str) -> list[dict]:
    """Per workload, every variant's figures for `--compare --json`."""
    rows = []
    for m in measurements:
        variants = {}
        for name, run in m.variants.items():
            variants[name] = {
                "wall_s": None if run.wall == float("inf") else run.wall,
                "cpu_s": None if run.cpu == float("inf") else run.cpu,
                "slowdown": m.ratio(name),
                "cpu_slowdown": m.cpu_ratio(name),
                "peak_rss_mib": run.rss_kib / 1024,
                "output_bytes": run.output_bytes,
                "events": run.events,
                "line_steps": run.steps,
                "killed": run.killed or None,
            }
        rows.append({
            "name": m.workload.name,
            "goal": m.workload.goal,
            "goal_met": None if m.workload.goal is None or m.ratio(fmt) is None
            else m.ratio(fmt) <= m.workload.goal,
            "overhead_over_floor": floor_distance(m, fmt),
            "variants": variants,
        })
    return rows


# --- the command ---------------------------------------------------------------


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    """The command line (see the module's doc)."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeat", type=int, default=3, help="rounds per workload (the best of each is kept)")
    parser.add_argument("--format", default="json", choices=["json", "binary"],
                        help="the traced format of the default mode")
    parser.add_argument("--only", help="run only workloads whose name contains this text")
    parser.add_argument("--json", type=Path, metavar="FILE", help="also write the rows as JSON here")
    parser.add_argument("--compare", action="store_true",
                        help="goal workloads in both formats and under the floor, against their goals")
    parser.add_argument("--markdown", action="store_true",
                        help="--compare plus the trace-filter workloads, as the tables of docs/benchmarks.md")
    parser.add_argument("--with-0.3", dest="with_0_3", action="store_true",
                        help=f"also record with {RECORDER_0_3} (own venv under target/bench/, capped runs)")
    parser.add_argument("--limit-seconds", type=float, default=300.0, help="0.3.0: wall-time cap per run")
    parser.add_argument("--limit-rss-mib", type=int, default=4096, help="0.3.0: RSS cap per run")
    parser.add_argument("--limit-output-mib", type=int, default=4096, help="0.3.0: trace size cap per run")
    parser.add_argument("--smoke", action="store_true",
                        help="every workload at its smallest size, once: checks the script, measures nothing")
    args = parser.parse_args(argv)
    if args.repeat < 1:
        parser.error("--repeat must be at least 1")
    if args.smoke:
        args.repeat = 1
    if args.markdown:
        args.compare = True
    if args.with_0_3 and not args.compare:
        parser.error("--with-0.3 adds a column to --compare (or --markdown)")
    return args


def selected(args: argparse.Namespace) -> tuple[list[Workload], list[Workload]]:
    """(goal workloads, filter workloads) this invocation runs."""
    def keep(workloads: tuple[Workload, ...]) -> list[Workload]:
        return [w for w in workloads if not args.only or args.only in w.name]

    if args.compare and not args.markdown:
        return keep(GOAL_WORKLOADS), []
    return keep(GOAL_WORKLOADS), keep(FILTER_WORKLOADS)


#: The IO capture workload: short lines, each one `print` = two writes.
IO_NAME = "print-heavy: 100k lines (IO capture)"
IO_WORKLOAD = Workload(IO_NAME, """
    def main(n):
        for i in range(n):
            print(f"line {i}")

    main($n)
""", size=100_000, smoke_size=10)
#: Capture modes compared, by `CODETRACER_CAPTURE_IO`.
IO_MODES = {"capture off": "off", "proxies (default)": "proxies", "proxies + fd mirror": "proxies,fd"}


def best_to_file(argv: list[str], env: dict[str, str], repeat: int, work: Path) -> tuple[float, float]:
    """Best wall and CPU seconds of `repeat` runs with stdout redirected to a file."""
    runs = []
    for _ in range(repeat):
        shutil.rmtree(work / "trace", ignore_errors=True)
        with (work / "stdout.txt").open("wb") as handle:
            runs.append(run_once(argv, env, stdout=handle)[0])
    shutil.rmtree(work / "trace", ignore_errors=True)
    return min(run.wall for run in runs), min(run.cpu for run in runs)


def io_capture_table(work: Path, repeat: int, smoke: bool, fmt: str) -> list[str]:
    """The IO capture table (markdown lines): untraced, and traced in every capture mode."""
    script = work / "print_heavy.py"
    script.write_text(IO_WORKLOAD.script(smoke))
    writes = 2 * (IO_WORKLOAD.smoke_size if smoke else IO_WORKLOAD.size)
    env = {key: value for key, value in os.environ.items() if key != "PYTHONUNBUFFERED"}
    untraced, untraced_cpu = best_to_file([sys.executable, str(script)], env, repeat, work)
    traced_argv = [sys.executable, "-m", "codetracer_python_recorder",
                   "--out-dir", str(work / "trace"), "--format", fmt, str(script)]
    rows = {name: best_to_file(traced_argv, {**env, "CODETRACER_CAPTURE_IO": mode}, repeat, work)
            for name, mode in IO_MODES.items()}
    off, off_cpu = rows["capture off"]
    lines = [
        f"{IO_NAME}: {writes:,} writes to a file-redirected stdout, format {fmt}, best of {repeat}",
        "",
        "| run | wall s | CPU s | vs untraced | vs capture off | us per write added | CPU us per write added |",
        "|---|---:|---:|---:|---:|---:|---:|",
        f"| untraced | {untraced:.3f} | {untraced_cpu:.3f} | 1.0x | | | |",
    ]
    for name, (wall, cpu) in rows.items():
        lines.append(
            f"| traced, {name} | {wall:.3f} | {cpu:.3f} | {wall / untraced:.1f}x | {wall / off:.2f}x "
            f"| {(wall - off) / writes * 1e6:.2f} | {(cpu - off_cpu) / writes * 1e6:.2f} |"
        )
    return lines


def prepare_env(workloads: list[Workload]) -> dict[str, str]:
    """The workloads' environment: this one, plus pyflakes on PYTHONPATH when a workload needs it."""
    env = dict(os.environ)
    if any(w.pyflakes for w in workloads):
        paths = [site_packages(venv_python("pyflakes", [PYFLAKES])), env.get("PYTHONPATH", "")]
        env["PYTHONPATH"] = os.pathsep.join(path for path in paths if path)
    return env


def main(argv: list[str] | None = None) -> int:
    """Measures and prints; returns the exit status."""
    args = parse_args(argv)
    goal_workloads, filter_workloads = selected(args)
    if not goal_workloads and not filter_workloads and not (args.only and args.only in IO_NAME):
        print(f"bench: no workload matches {args.only!r}", file=sys.stderr)
        return 2
    fmt = default_format() if args.compare else args.format
    try:
        env = prepare_env(goal_workloads + filter_workloads)
        python_0_3 = None
        if args.with_0_3 and args.compare:
            try:
                python_0_3 = venv_python("codetracer-0.3.0", [RECORDER_0_3, PYFLAKES])
            except Unavailable as error:
                print(f"bench: skipping the 0.3.0 column: {error}", file=sys.stderr)
    except Unavailable as error:
        print(
            f"bench: cannot install {error}\nbench: the pyflakes workload needs PyPI once (or PIP_INDEX_URL /"
            " PIP_FIND_LINKS pointing at a mirror or a wheel directory); --only runs the others",
            file=sys.stderr,
        )
        return EXIT_UNAVAILABLE
    limits = Limits(args.limit_seconds, args.limit_rss_mib * 2**20, args.limit_output_mib * 2**20)
    goal_variants = ("untraced", "json", "binary", "floor") if args.compare else ("untraced", args.format)
    goal_plan = Plan(goal_variants, args.repeat, args.smoke, env, python_0_3, limits)
    filter_plan = Plan(("untraced", args.format), args.repeat, args.smoke, env)
    goal_results: list[Measurement] = []
    filter_results: list[Measurement] = []
    with tempfile.TemporaryDirectory(prefix="codetracer-bench-") as tmp:
        for workloads, plan, results in ((goal_workloads, goal_plan, goal_results),
                                         (filter_workloads, filter_plan, filter_results)):
            for workload in workloads:
                work = Path(tmp) / "work"
                shutil.rmtree(work, ignore_errors=True)
                work.mkdir()
                results.append(measure(workload, plan, work))
                print(f"bench: {workload.name} done", file=sys.stderr)
        io_lines: list[str] = []
        if not args.compare or args.markdown:
            if not args.only or args.only in IO_NAME:
                work = Path(tmp) / "io"
                work.mkdir()
                io_lines = io_capture_table(work, args.repeat, args.smoke, args.format)
                print(f"bench: {IO_NAME} done", file=sys.stderr)

    version = sys.version.split()[0]
    if not args.compare:
        print(f"Python {version}, format {fmt}, best of {args.repeat}")
        print()
        print("\n".join(single_format_table(goal_results + filter_results, fmt)))
        if io_lines:
            print()
            print("\n".join(io_lines))
        if args.json:
            report = {"python": version, "format": fmt, "repeat": args.repeat,
                      "workloads": single_format_rows(goal_results + filter_results, fmt)}
            args.json.write_text(json.dumps(report, indent=2) + "\n")
        return 0

    with_0_3 = python_0_3 is not None
    print(f"Python {version}, default format {fmt}, best of {args.repeat} rounds"
          f"{'' if not args.smoke else ' (smoke sizes: not a measurement)'}")
    print()
    print("\n".join(compare_table(goal_results, fmt, with_0_3)))
    print()
    print("\n".join(per_event_table(goal_results, with_0_3)))
    if filter_results:
        print()
        print("\n".join(filter_table(filter_results, args.format)))
    if io_lines:
        print()
        print("\n".join(io_lines))
    if args.json:
        report = {"python": version, "default_format": fmt, "repeat": args.repeat, "smoke": args.smoke,
                  "workloads": compare_rows(goal_results, fmt),
                  "filter_workloads": single_format_rows(filter_results, args.format)}
        args.json.write_text(json.dumps(report, indent=2) + "\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
