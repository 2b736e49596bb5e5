"""The test-suite steps: Rust (nextest, fail points compiled in), Python per interpreter, compatibility."""

from __future__ import annotations

import shlex
import shutil
from collections.abc import Callable
from pathlib import Path

from . import child, junit_in
from .model import StepResult, Status, concluded, skipped
from .options import Context, Interpreter

#: The nextest profile (in `.config/nextest.toml`) that writes JUnit.
NEXTEST_PROFILE = "ci"
#: The test binary holding every scenario case and sweep range.
SCENARIOS_BINARY = "harness::scenarios"
#: The compatibility suite, relative to the repository root.
COMPAT_DIR = "tests/python/compat"
#: pytest's exit status when it collected no test.
PYTEST_NO_TESTS = 5


def nextest_argv(ctx: Context) -> list[str]:
    """`cargo nextest run` with fail points, JUnit, no fail-fast, and the partition.

    Unpartitioned, the scenario binary is left out: the scenarios and sweep
    steps run the same cases through the harness, with richer reports.
    Partitioned, it is in (the scale-out runs scenarios on nextest).
    """
    argv = [
        "cargo", "nextest", "run", "--features", "failure-fixtures",
        "--profile", NEXTEST_PROFILE, "--no-fail-fast",
    ]
    partition = ctx.options.partition
    if partition:
        argv += ["--partition", f"hash:{partition}"]
    else:
        argv += ["-E", f"not binary_id({SCENARIOS_BINARY})"]
    return argv


def nextest_replay(testcase: dict[str, str], suite: str) -> str:
    """The command rerunning one nextest test."""
    binary = testcase.get("classname") or suite
    expression = f"binary_id({binary}) & test(={testcase.get('name', '')})"
    return f"cargo nextest run --features failure-fixtures -E {shlex.quote(expression)}"


def rust_step(ctx: Context) -> StepResult:
    """The Rust suite with fail points, judged from nextest's JUnit report."""
    title = "Rust suite (nextest, failure-fixtures)"
    junit = ctx.options.cargo_target_dir / "nextest" / NEXTEST_PROFILE / "junit.xml"
    junit.unlink(missing_ok=True)
    extra = {}
    if ctx.options.fixtures_python:
        extra["HARNESS_PYTHON"] = str(ctx.options.fixtures_python)
    result = ctx.run("rust", nextest_argv(ctx), **extra)
    step = ctx.started("rust", title, result)
    if result.problem(ctx.timeout("rust")):
        return concluded(step, result.returncode, tail=result.output_tail())
    if not junit.is_file():
        step.problems.append(
            f"nextest wrote no JUnit report (exit status {result.returncode}; "
            f"did the build fail?):\n{result.output_tail()}"
        )
        return concluded(step, result.returncode, tail=result.output_tail())
    kept = ctx.steps_dir / "rust.junit.xml"
    shutil.copyfile(junit, kept)
    step.artifacts.append(ctx.relative(kept))
    _read_junit(step, kept, nextest_replay)
    return concluded(step, result.returncode, tail=result.output_tail())


def pytest_replay(python: Path, extra_env: str = "") -> junit_in.Replay:
    """Builds the command rerunning one pytest test from its xunit1 attributes."""

    def replay(testcase: dict[str, str], _suite: str) -> str:
        node = testcase.get("file", "")
        module = node.removesuffix(".py").replace("/", ".")
        classname = testcase.get("classname", "")
        name = testcase.get("name", "")
        if not classname and name == module:
            node_id = node  # the module failed to import: no test of it ran
        else:
            classes = classname[len(module) + 1:].split(".") if classname.startswith(module + ".") else []
            node_id = "::".join([node, *[part for part in classes if part], name])
        return f"{extra_env}{shlex.quote(str(python))} -m pytest {shlex.quote(node_id)}"

    return replay


def pytest_argv(python: Path, target: str, junit: Path, *ignore: str) -> list[str]:
    """`python -m pytest` on `target` writing xunit1 JUnit (with file attributes)."""
    argv = [
        str(python), "-m", "pytest", "-q", "-p", "no:cacheprovider", target,
        f"--junitxml={junit}", "-o", "junit_family=xunit1",
    ]
    return argv + [f"--ignore={path}" for path in ignore]


def python_step(ctx: Context, interpreter: Interpreter, main: bool) -> StepResult:
    """The Python suite (without the compatibility suite) on one interpreter.

    The main interpreter also runs the fail-point tests (they need the
    failure-fixtures build); the others run the normal build, as `./dev test`.
    """
    key = f"python-{interpreter.label}"
    title = f"Python suite on {interpreter.label}" + ("" if main else " (normal build)")
    if child.find_program(str(interpreter.path), ctx.options.env) is None:
        step = StepResult(key, title, Status.FAIL)
        step.problems.append(
            f"interpreter missing: {interpreter.path} does not exist or is not executable"
        )
        return step

    def no_tests(step: StepResult) -> StepResult:
        step.problems.append("pytest collected no test")
        return concluded(step, PYTEST_NO_TESTS)

    return _pytest_step(ctx, key, title, interpreter, "tests/python", main, no_tests, COMPAT_DIR)


def unavailable_step(label: str, reason: str) -> StepResult:
    """An interpreter `./dev` found but could not prepare: a failed step, never a silent gap."""
    step = StepResult(f"python-{label}", f"Python suite on {label}", Status.FAIL)
    step.problems.append(f"interpreter unavailable: {reason}")
    return step


def compat_step(ctx: Context, interpreter: Interpreter) -> StepResult:
    """The compatibility suite; skipped (never passed) when it has no test."""
    title = "Compatibility suite (0.3 drop-in)"
    if not (ctx.options.root / COMPAT_DIR).is_dir():
        return skipped("compat", title, f"{COMPAT_DIR} does not exist: no compatibility test to run")

    def no_tests(step: StepResult) -> StepResult:
        step.status = Status.SKIP
        step.problems.append(f"{COMPAT_DIR} holds no test (pytest collected none)")
        return step

    return _pytest_step(ctx, "compat", title, interpreter, COMPAT_DIR, True, no_tests)


def _pytest_step(
    ctx: Context,
    key: str,
    title: str,
    interpreter: Interpreter,
    target: str,
    with_fixtures: bool,
    no_tests: Callable[[StepResult], StepResult],
    *ignore: str,
) -> StepResult:
    """Runs pytest on `target`, judged from its JUnit report; `no_tests` decides on exit 5."""
    junit = ctx.steps_dir / f"{key}.junit.xml"
    extra = {}
    if with_fixtures and ctx.options.fixtures_python:
        extra["CODETRACER_FIXTURES_PYTHON"] = str(ctx.options.fixtures_python)
    result = ctx.run(key, pytest_argv(interpreter.path, target, junit, *ignore), **extra)
    step = ctx.started(key, title, result)
    if result.problem(ctx.timeout(key)):
        return concluded(step, result.returncode, tail=result.output_tail())
    if result.returncode == PYTEST_NO_TESTS:
        return no_tests(step)
    prefix = "".join(f"{name}={shlex.quote(value)} " for name, value in extra.items())
    _read_pytest(step, ctx, junit, result, pytest_replay(interpreter.path, prefix))
    return concluded(step, result.returncode, tail=result.output_tail())


def _read_pytest(
    step: StepResult, ctx: Context, junit: Path, result: child.ChildResult, replay: junit_in.Replay
) -> None:
    if not junit.is_file():
        step.problems.append(
            f"pytest wrote no JUnit report (exit status {result.returncode}):\n{result.output_tail()}"
        )
        return
    step.artifacts.append(ctx.relative(junit))
    _read_junit(step, junit, replay)


def _read_junit(step: StepResult, path: Path, replay: junit_in.Replay) -> None:
    try:
        step.checks.extend(junit_in.read_checks(path, replay))
    except junit_in.MalformedJUnit as error:
        step.problems.append(f"unreadable JUnit report: {error}")

