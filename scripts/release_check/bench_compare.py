"""The benchmark step: slowdown ratios (traced / untraced, same run, best of N) against the baseline.

The baseline (`docs/benchmarks/baseline.json`) holds the slowdowns of each
workload and the tolerance: a workload whose CPU-time slowdown (`cpu_slowdown`,
user + system seconds traced / untraced) grew by more than the tolerance
(relative) is a regression. The wall-clock slowdown is reported beside it but
not judged: on a shared machine it moves by a factor of two with the load,
the CPU-time ratio by a few percent. `--update-baseline` rewrites the
slowdowns from this run and keeps the tolerance.
"""

from __future__ import annotations

import json
import shlex
from dataclasses import asdict, dataclass, field
from pathlib import Path

from .model import Check, StepResult, Status, concluded
from .options import Context, Interpreter

#: Tolerance written into a new baseline: +30 % CPU-slowdown growth.
DEFAULT_TOLERANCE = 0.30
#: The baseline file's schema version.
SCHEMA = 1
#: The command that (re)creates the baseline.
UPDATE_COMMAND = "./dev release-check --only bench --update-baseline"
#: The step's title in the report.
TITLE = "Benchmark against docs/benchmarks/baseline.json"


class MalformedBench(ValueError):
    """A benchmark report or baseline the gate cannot read."""


#: The judged ratio: CPU seconds traced / untraced.
JUDGED = "cpu_slowdown"
#: The reported ratio: wall-clock seconds traced / untraced.
WALL = "slowdown"


@dataclass
class Baseline:
    """The committed slowdowns (judged, and wall-clock for the record) and the tolerance."""

    tolerance: float
    slowdowns: dict[str, float]
    wall: dict[str, float] = field(default_factory=dict)
    python: str = ""


@dataclass
class Comparison:
    """One workload against the baseline: the judged slowdown, and the wall-clock one."""

    workload: str
    baseline: float | None
    now: float | None
    #: Relative change of the judged slowdown (0.1 = 10 % slower), when both exist.
    change: float | None
    verdict: str
    regression: bool
    wall_baseline: float | None = None
    wall_now: float | None = None


def read_baseline(path: Path) -> Baseline:
    """Loads and checks the baseline file."""
    try:
        data = json.loads(path.read_text())
    except (OSError, ValueError) as error:
        raise MalformedBench(f"{path.name}: {error}") from error
    if not isinstance(data, dict):
        raise MalformedBench(f"{path.name}: expected an object")
    tolerance = data.get("tolerance")
    if not _positive(tolerance):
        raise MalformedBench(f"{path.name}: key 'tolerance' must be a positive number (0.3 = +30 %)")
    workloads = data.get("workloads")
    if not isinstance(workloads, dict):
        raise MalformedBench(f"{path.name}: key 'workloads' must map workload names to slowdowns")
    baseline = Baseline(float(tolerance), {}, python=str(data.get("python", "")))
    for name, entry in workloads.items():
        entry = entry if isinstance(entry, dict) else {}
        if not _positive(entry.get(JUDGED)):
            raise MalformedBench(f"{path.name}: workloads.{name}.{JUDGED} must be a positive number")
        baseline.slowdowns[name] = float(entry[JUDGED])
        if _positive(entry.get(WALL)):
            baseline.wall[name] = float(entry[WALL])
    return baseline


def read_measurements(path: Path) -> tuple[dict[str, float], dict[str, float], dict]:
    """From `scripts/bench.py --json`: the judged and the wall slowdown per workload, and the report."""
    try:
        data = json.loads(path.read_text())
    except (OSError, ValueError) as error:
        raise MalformedBench(f"{path.name}: {error}") from error
    workloads = data.get("workloads") if isinstance(data, dict) else None
    if not isinstance(workloads, list) or not workloads:
        raise MalformedBench(f"{path.name}: expected a non-empty 'workloads' list")
    judged, wall = {}, {}
    for row in workloads:
        row = row if isinstance(row, dict) else {}
        name = row.get("name")
        if not isinstance(name, str) or not _positive(row.get(JUDGED)) or not _positive(row.get(WALL)):
            raise MalformedBench(
                f"{path.name}: workload {row!r} lacks a name or a positive {JUDGED} and {WALL}"
            )
        judged[name] = float(row[JUDGED])
        wall[name] = float(row[WALL])
    return judged, wall, data


def _positive(value: object) -> bool:
    return not isinstance(value, bool) and isinstance(value, (int, float)) and value > 0


def compare(baseline: Baseline, now: dict[str, float], wall: dict[str, float]) -> list[Comparison]:
    """Each measured or baseline workload, its judged slowdown held against the tolerance."""
    rows = []
    for name, value in now.items():
        base = baseline.slowdowns.get(name)
        walls = {"wall_baseline": baseline.wall.get(name), "wall_now": wall.get(name)}
        if base is None:
            rows.append(Comparison(name, None, value, None, "new workload, no baseline yet", False, **walls))
            continue
        change = value / base - 1.0
        if change > baseline.tolerance:
            verdict, regression = f"REGRESSION (more than +{baseline.tolerance:.0%})", True
        elif change < -baseline.tolerance:
            verdict, regression = "faster than the baseline (consider updating it)", False
        else:
            verdict, regression = "ok", False
        rows.append(Comparison(name, base, value, change, verdict, regression, **walls))
    for name, base in baseline.slowdowns.items():
        if name not in now:
            rows.append(Comparison(
                name, base, None, None, "in the baseline but not measured", True, baseline.wall.get(name)
            ))
    return rows


def write_baseline(
    path: Path, judged: dict[str, float], wall: dict[str, float], report: dict, tolerance: float
) -> None:
    """Writes a new baseline from this run's slowdowns."""
    data = {
        "schema": SCHEMA,
        "about": (
            f"Per workload of scripts/bench.py: {JUDGED} (CPU seconds traced / untraced) and "
            f"{WALL} (wall clock), each the best of `repeat` runs made in the same run. "
            f"./dev release-check fails when a workload's {JUDGED} grows by more than `tolerance` "
            "(relative); the wall-clock slowdown is reported, not judged."
        ),
        "command": UPDATE_COMMAND,
        "tolerance": tolerance,
        "python": report.get("python", ""),
        "format": report.get("format", ""),
        "repeat": report.get("repeat", 0),
        "workloads": {
            name: {JUDGED: round(value, 3), WALL: round(wall[name], 3)} for name, value in judged.items()
        },
    }
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(data, indent=2) + "\n")


def bench_step(ctx: Context, interpreter: Interpreter | None) -> StepResult:
    """Runs the benchmark and compares it with the baseline (or rewrites the baseline)."""
    title = TITLE
    options = ctx.options
    if interpreter is None:
        step = StepResult("bench", title, Status.FAIL)
        step.problems.append("no interpreter to run the benchmark with")
        return step
    output = ctx.steps_dir / "bench.json"
    output.unlink(missing_ok=True)
    argv = [
        str(interpreter.path), "scripts/bench.py", "--repeat", str(options.bench_repeat),
        "--format", "json", "--json", str(output),
    ]
    result = ctx.run("bench", argv)
    step = ctx.started("bench", title, result)
    if step.problems or result.returncode != 0:
        return concluded(step, result.returncode, child_judges=False, tail=result.output_tail())
    try:
        now, wall, report = read_measurements(output)
    except MalformedBench as error:
        step.problems.append(f"malformed benchmark report: {error}")
        return concluded(step, result.returncode, child_judges=False)
    step.artifacts.append(ctx.relative(output))
    baseline_path = options.baseline_path
    try:
        baseline = read_baseline(baseline_path)
    except MalformedBench as error:
        if not options.update_baseline:
            hint = "" if baseline_path.exists() else f"; create it with `{UPDATE_COMMAND}`"
            step.problems.append(f"no usable baseline: {error}{hint}")
            return concluded(step, result.returncode, child_judges=False)
        baseline = Baseline(DEFAULT_TOLERANCE, {})
    rows = compare(baseline, now, wall)
    step.details = {
        "baseline": str(baseline_path.relative_to(options.root))
        if baseline_path.is_relative_to(options.root) else str(baseline_path),
        "tolerance": baseline.tolerance,
        "baseline_python": baseline.python,
        "python": report.get("python", ""),
        "repeat": report.get("repeat", 0),
        "rows": [asdict(row) for row in rows],
        "updated": False,
    }
    replay = f"{shlex.quote(str(interpreter.path))} scripts/bench.py --repeat {options.bench_repeat} --only"
    for row in rows:
        failed = row.regression and not options.update_baseline
        step.checks.append(Check(
            name=row.workload,
            status=Status.FAIL if failed else Status.PASS,
            message=describe(row, baseline.tolerance) if row.regression else "",
            replay=f"{replay} {shlex.quote(row.workload)}" if failed and row.now is not None else "",
            group="benchmark",
        ))
    if options.update_baseline:
        write_baseline(baseline_path, now, wall, report, baseline.tolerance)
        step.details["updated"] = True
    return concluded(step, result.returncode, child_judges=False)


def describe(row: Comparison, tolerance: float) -> str:
    """`CPU slowdown 14.10x, baseline 9.40x: +50% (tolerance +30%)`."""
    if row.now is None:
        return f"in the baseline ({row.baseline:.2f}x) but not measured by this run"
    return (
        f"CPU slowdown {row.now:.2f}x, baseline {row.baseline:.2f}x: "
        f"{row.change:+.0%} (tolerance +{tolerance:.0%})"
    )

