"""What the gate decides: checks (one test, case or sweep row) and step results."""

from __future__ import annotations

from dataclasses import dataclass, field
from enum import Enum


class Status(str, Enum):
    """The verdict on a check or a step."""

    PASS = "pass"
    FAIL = "fail"
    SKIP = "skip"


@dataclass
class Check:
    """One thing a step judged: a test, a scenario case, a sweep row, a workload."""

    name: str
    status: Status
    #: Why it failed or was skipped (may span lines).
    message: str = ""
    #: The command that reruns just this check, when there is one.
    replay: str = ""
    #: The suite or file it belongs to (JUnit classname).
    group: str = ""
    duration_s: float = 0.0


@dataclass
class Counts:
    """Pass/fail/skip counts of a step's checks."""

    passed: int = 0
    failed: int = 0
    skipped: int = 0


@dataclass
class StepResult:
    """The outcome of one step of the gate."""

    key: str
    title: str
    status: Status
    #: The command line that ran (shell-quoted), empty when nothing ran.
    command: str = ""
    #: Step-level problems (crash, timeout, malformed output), or the skip reason.
    problems: list[str] = field(default_factory=list)
    checks: list[Check] = field(default_factory=list)
    duration_s: float = 0.0
    #: The child's output, relative to the report directory.
    log: str = ""
    #: Extra files the step left in the report directory (relative paths).
    artifacts: list[str] = field(default_factory=list)
    #: Step-specific data for the report (the benchmark table).
    details: dict = field(default_factory=dict)

    @property
    def counts(self) -> Counts:
        """Counts of the step's checks by status."""
        counts = Counts()
        for check in self.checks:
            if check.status is Status.PASS:
                counts.passed += 1
            elif check.status is Status.FAIL:
                counts.failed += 1
            else:
                counts.skipped += 1
        return counts

    def failures(self) -> list[Check]:
        """The checks that failed."""
        return [check for check in self.checks if check.status is Status.FAIL]


def skipped(key: str, title: str, reason: str) -> StepResult:
    """A step that did not run, with the reason."""
    return StepResult(key=key, title=title, status=Status.SKIP, problems=[reason])


def concluded(
    step: StepResult,
    exit_code: int | None,
    *,
    require_checks: bool = True,
    child_judges: bool = True,
    tail: str = "",
) -> StepResult:
    """Sets the step's status from its problems, checks and the child's exit code.

    A step passes only when it has no problem, no failed check, at least one
    check (when `require_checks`) and the child exited 0. When the child
    judges (a test runner, the harness), an exit status that contradicts its
    checks is itself a problem, so the gate never passes a child that said it
    failed; otherwise (the benchmark, judged by the gate) any non-zero exit is.
    `tail` (the child's last output lines) goes with an exit-status problem.
    """
    failed = step.failures()
    nonzero = exit_code not in (None, 0)
    output = f"\n{tail}" if tail else ""
    if child_judges and nonzero and not failed and not step.problems:
        step.problems.append(f"exited with status {exit_code} but reported no failure{output}")
    elif child_judges and exit_code == 0 and failed:
        step.problems.append(f"exited with status 0 although {len(failed)} check(s) failed")
    elif not child_judges and nonzero and not step.problems:
        step.problems.append(f"exited with status {exit_code}{output}")
    if require_checks and not step.checks and not step.problems:
        step.problems.append("reported no result at all")
    step.status = Status.FAIL if step.problems or failed else Status.PASS
    return step
