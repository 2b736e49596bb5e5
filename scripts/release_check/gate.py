"""Runs every step in order, never stopping early, and collects their results."""

from __future__ import annotations

import subprocess
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timezone

from . import bench_compare, harness_steps, suites
from .model import StepResult, Status, skipped
from .options import Context, Options


@dataclass
class GateResult:
    """Every step's result and what was checked."""

    steps: list[StepResult]
    started: str
    duration_s: float
    #: `git rev-parse HEAD`, or `unknown`.
    commit: str = "unknown"
    #: Whether the work tree had uncommitted changes (None: unknown).
    dirty: bool | None = None

    @property
    def passed(self) -> bool:
        """No step failed (skipped steps do not fail the gate)."""
        return all(step.status is not Status.FAIL for step in self.steps)


def run(options: Options, progress: Callable[[str], None] | None = None) -> GateResult:
    """Runs the steps in order (Rust, Python per interpreter, compat, scenarios, sweep, benchmark)."""
    say = progress or (lambda line: print(f"release-check: {line}", file=sys.stderr, flush=True))
    ctx = Context(options)
    ctx.steps_dir.mkdir(parents=True, exist_ok=True)
    started = datetime.now(timezone.utc).isoformat(timespec="seconds")
    clock = time.monotonic()
    commit, dirty = describe_checkout(options)
    steps: list[StepResult] = []
    for planned in plan(ctx):
        if isinstance(planned, StepResult):
            say(f"{planned.key}: skipped ({planned.problems[0]})")
            steps.append(planned)
            continue
        key, run_step = planned
        say(f"{key}: running")
        result = run_step()
        counts = result.counts
        if result.status is Status.SKIP:
            say(f"{key}: skipped ({result.problems[0]})")
        else:
            say(
                f"{key}: {result.status.value} ({counts.passed} passed, {counts.failed} failed, "
                f"{counts.skipped} skipped; {result.duration_s:.1f} s)"
            )
        steps.append(result)
    return GateResult(steps, started, time.monotonic() - clock, commit, dirty)


Planned = StepResult | tuple[str, Callable[[], StepResult]]


def plan(ctx: Context) -> list[Planned]:
    """Each step in order: a skipped result with its reason, or (key, what runs it).

    Partitioned (`--partition K/N`), the Rust step runs the K-th nextest
    partition, scenario cases and sweep ranges included, so the harness steps
    are skipped; the Python, compatibility and benchmark steps run in
    partition 1 only.
    """
    options = ctx.options
    partition = options.partition
    main = options.pythons[0] if options.pythons else None

    def gated(name: str, key: str, title: str, run_step: Callable[[], StepResult]) -> Planned:
        if name not in options.only:
            return skipped(key, title, f"not selected (--only {','.join(sorted(options.only))})")
        if partition and name in ("scenarios", "sweep"):
            return skipped(
                key,
                title,
                "partitioned run: the scenario cases and sweep ranges run as nextest tests "
                f"({suites.SCENARIOS_BINARY}) in each partition's Rust step",
            )
        if partition and name != "rust" and not partition.is_first:
            return skipped(key, title, f"runs in partition 1/{partition.total} only (this is {partition})")
        return (key, run_step)

    def missing(key: str, title: str) -> Callable[[], StepResult]:
        return lambda: _no_interpreter(key, title)

    steps = [gated("rust", "rust", "Rust suite (nextest, failure-fixtures)", lambda: suites.rust_step(ctx))]
    for position, interpreter in enumerate(options.pythons):
        steps.append(gated(
            "python",
            f"python-{interpreter.label}",
            f"Python suite on {interpreter.label}",
            lambda interpreter=interpreter, main=position == 0: suites.python_step(ctx, interpreter, main),
        ))
    for label, reason in options.unavailable:
        steps.append(gated(
            "python",
            f"python-{label}",
            f"Python suite on {label}",
            lambda label=label, reason=reason: suites.unavailable_step(label, reason),
        ))
    if not options.pythons and not options.unavailable:
        steps.append(gated("python", "python", "Python suite", missing("python", "Python suite")))
    compat_title = "Compatibility suite (0.3 drop-in)"
    steps.append(gated(
        "compat", "compat", compat_title,
        (lambda: suites.compat_step(ctx, main)) if main else missing("compat", compat_title),
    ))
    steps.append(gated(
        "scenarios", "scenarios", "Scenarios (harness run)", lambda: harness_steps.scenarios_step(ctx)
    ))
    steps.append(gated(
        "sweep", "sweep", "Sweep of every scenario (harness sweep)", lambda: harness_steps.sweep_step(ctx)
    ))
    steps.append(gated(
        "bench", "bench", bench_compare.TITLE, lambda: bench_compare.bench_step(ctx, main)
    ))
    return steps


def _no_interpreter(key: str, title: str) -> StepResult:
    step = StepResult(key, title, Status.FAIL)
    step.problems.append("no interpreter given (./dev release-check passes --python LABEL=PATH)")
    return step


def describe_checkout(options: Options) -> tuple[str, bool | None]:
    """The checked-out commit and whether the tree has uncommitted changes."""
    try:
        head = subprocess.run(
            ["git", "rev-parse", "HEAD"], cwd=options.root, env=options.env,
            capture_output=True, text=True, timeout=60, check=True,
        ).stdout.strip()
        status = subprocess.run(
            ["git", "status", "--porcelain"], cwd=options.root, env=options.env,
            capture_output=True, text=True, timeout=60, check=True,
        ).stdout
    except (OSError, subprocess.SubprocessError):
        return "unknown", None
    return head or "unknown", bool(status.strip())

