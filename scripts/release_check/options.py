"""What a gate run is given (`Options`) and what every step shares (`Context`)."""

from __future__ import annotations

import os
import re
from dataclasses import dataclass, field
from pathlib import Path

from . import child
from .model import StepResult, Status

#: Step names `--only` accepts, in the order the gate runs them.
STEP_NAMES = ("rust", "python", "compat", "scenarios", "sweep", "bench")

#: Default time limit of each step's child, in seconds.
DEFAULT_TIMEOUTS = {
    "rust": 3600.0,
    "python": 1800.0,
    "compat": 1800.0,
    "scenarios": 1800.0,
    "sweep": 3600.0,
    "bench": 1800.0,
}


@dataclass(frozen=True)
class Partition:
    """`K/N`: this machine runs the K-th of N nextest partitions."""

    index: int
    total: int

    @staticmethod
    def parse(text: str) -> Partition:
        """Parses `K/N` with 1 <= K <= N; raises ValueError naming what is wrong."""
        match = re.fullmatch(r"\s*(\d+)\s*/\s*(\d+)\s*", text)
        if not match:
            raise ValueError(f"--partition {text!r}: expected K/N, e.g. 2/4")
        index, total = int(match.group(1)), int(match.group(2))
        if not 1 <= index <= total:
            raise ValueError(f"--partition {text!r}: K must be between 1 and N")
        return Partition(index, total)

    def __str__(self) -> str:
        return f"{self.index}/{self.total}"

    @property
    def is_first(self) -> bool:
        """Whether this is partition 1 (which also runs the steps that are not partitioned)."""
        return self.index == 1


@dataclass(frozen=True)
class Interpreter:
    """A Python the Python suite runs on: `label` (e.g. `3.12`) and the venv's `python`."""

    label: str
    path: Path


@dataclass
class Options:
    """Everything a gate run depends on."""

    #: The repository root (the children's working directory).
    root: Path
    #: The report directory.
    out: Path
    #: Interpreters for the Python suite; the first is the main one (compat, benchmark).
    pythons: list[Interpreter] = field(default_factory=list)
    #: Interpreters `./dev` found but could not prepare: label and reason.
    unavailable: list[tuple[str, str]] = field(default_factory=list)
    #: The interpreter with the failure-fixtures build (harness, fail-point tests).
    fixtures_python: Path | None = None
    partition: Partition | None = None
    update_baseline: bool = False
    #: Steps to run (`STEP_NAMES`); the others are reported as skipped.
    only: frozenset[str] = frozenset(STEP_NAMES)
    #: Benchmark repeats (best of N).
    bench_repeat: int = 5
    baseline: Path | None = None
    #: Cargo's target directory (where nextest writes its JUnit file).
    target_dir: Path | None = None
    timeouts: dict[str, float] = field(default_factory=lambda: dict(DEFAULT_TIMEOUTS))
    #: The environment children start from.
    env: dict[str, str] = field(default_factory=lambda: dict(os.environ))

    @property
    def baseline_path(self) -> Path:
        """The committed benchmark baseline."""
        return self.baseline or self.root / "docs" / "benchmarks" / "baseline.json"

    @property
    def cargo_target_dir(self) -> Path:
        """`target_dir`, else `CARGO_TARGET_DIR`, else `<root>/target`."""
        if self.target_dir:
            return self.target_dir
        configured = self.env.get("CARGO_TARGET_DIR")
        return Path(configured) if configured else self.root / "target"


@dataclass
class Context:
    """What the steps share: the options and where their files go."""

    options: Options

    @property
    def steps_dir(self) -> Path:
        """`<out>/steps`: each step's log and raw reports."""
        return self.options.out / "steps"

    def relative(self, path: Path) -> str:
        """`path` relative to the report directory."""
        return str(path.relative_to(self.options.out))

    def env(self, **extra: str) -> dict[str, str]:
        """The children's environment plus `extra`."""
        env = dict(self.options.env)
        env.update(extra)
        return env

    def run(self, key: str, argv: list[str], **extra_env: str) -> child.ChildResult:
        """Runs a step's child in the repository root, its output in `steps/<key>.log`."""
        return child.run(
            argv,
            cwd=self.options.root,
            env=self.env(**extra_env),
            timeout=self.timeout(key),
            log=self.steps_dir / f"{key}.log",
        )

    def timeout(self, key: str) -> float:
        """The time limit of a step (python-3.13 uses python's)."""
        base = key.split("-", 1)[0]
        return self.options.timeouts.get(base, DEFAULT_TIMEOUTS.get(base, 1800.0))

    def started(self, key: str, title: str, result: child.ChildResult) -> StepResult:
        """A failing-until-concluded step for a child that ran, with its process problem if any."""
        step = StepResult(
            key=key,
            title=title,
            status=Status.FAIL,
            command=result.command,
            duration_s=result.duration_s,
            log=self.relative(result.log),
        )
        problem = result.problem(self.timeout(key))
        if problem:
            step.problems.append(f"{problem}\n{result.output_tail()}".strip())
        return step
