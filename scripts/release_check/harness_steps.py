"""The harness steps: every scenario (`harness run --json`) and every sweep (`harness sweep --json`)."""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path

from .model import Check, StepResult, Status, concluded
from .options import Context

#: `cargo run` of the harness binary (built on first use, like `./dev demo`).
HARNESS = ["cargo", "run", "--quiet", "-p", "harness", "--"]
#: The scenario directory, relative to the repository root.
SCENARIOS = "scenarios/"
#: Verdicts `harness run --json` may report, mapped to the gate's.
VERDICTS = {"pass": Status.PASS, "fail": Status.FAIL, "skip": Status.SKIP, "skipped": Status.SKIP}


class MalformedReport(ValueError):
    """The harness's JSON is not what the gate can judge."""


def replay_command(replay: str) -> str:
    """`harness run ...` as a command a user can type: `cargo run -p harness -- run ...`."""
    if replay.startswith("harness "):
        return "cargo run -p harness -- " + replay.removeprefix("harness ")
    return replay


def harness_argv(ctx: Context, command: str, *outputs: str) -> list[str]:
    """`harness COMMAND scenarios/ [outputs] [--python fixtures]`."""
    argv = [*HARNESS, command, SCENARIOS, *outputs]
    if ctx.options.fixtures_python:
        argv += ["--python", str(ctx.options.fixtures_python)]
    return argv


def scenarios_step(ctx: Context) -> StepResult:
    """Every case of every scenario file, one check per case."""
    json_path = ctx.steps_dir / "scenarios.json"
    junit_path = ctx.steps_dir / "scenarios.junit.xml"
    argv = harness_argv(ctx, "run", "--json", str(json_path), "--junit", str(junit_path))
    return _harness_step(
        ctx, "scenarios", "Scenarios (harness run)", argv, json_path, case_checks, junit_path
    )


def sweep_step(ctx: Context) -> StepResult:
    """The sweep of every case: one check per operation index, one per broken clean run."""
    json_path = ctx.steps_dir / "sweep.json"
    argv = harness_argv(ctx, "sweep", "--json", str(json_path))
    return _harness_step(ctx, "sweep", "Sweep of every scenario (harness sweep)", argv, json_path, sweep_checks)


def _harness_step(
    ctx: Context,
    key: str,
    title: str,
    argv: list[str],
    json_path: Path,
    read: Callable[[object], list[Check]],
    *kept: Path,
) -> StepResult:
    """Runs the harness, then judges its JSON report with `read`; `kept` are more files it wrote."""
    json_path.unlink(missing_ok=True)
    result = ctx.run(key, argv)
    step = ctx.started(key, title, result)
    if json_path.is_file():
        step.artifacts.append(ctx.relative(json_path))
        try:
            step.checks = read(json.loads(json_path.read_text()))
        except (ValueError, MalformedReport) as error:
            step.problems.append(f"malformed JSON report {json_path.name}: {error}")
    elif not step.problems:
        step.problems.append(
            f"the harness wrote no JSON report (exit status {result.returncode}):\n{result.output_tail()}"
        )
    step.artifacts.extend(ctx.relative(path) for path in kept if path.is_file())
    return concluded(step, result.returncode, tail=result.output_tail())


def case_checks(report: object) -> list[Check]:
    """Checks from `harness run --json`: a list of case results."""
    checks = []
    for position, case in enumerate(_list(report, "the report")):
        where = f"case #{position + 1}"
        case = _object(case, where)
        verdict = _string(case, "verdict", where)
        if verdict not in VERDICTS:
            raise MalformedReport(f"{where}: verdict {verdict!r}, expected one of {sorted(VERDICTS)}")
        status = VERDICTS[verdict]
        differences = [str(item) for item in _list(case.get("differences", []), f"{where} differences")]
        observed = str(case.get("observed", ""))
        if status is Status.FAIL:
            message = "\n".join([observed, *(f"- {item}" for item in differences)]).strip()
        elif status is Status.SKIP:
            message = str(case.get("skip_reason") or case.get("reason") or observed)
        else:
            message = ""
        checks.append(Check(
            name=_string(case, "id", where),
            status=status,
            message=message,
            replay=replay_command(str(case.get("replay", ""))) if status is Status.FAIL else "",
            group=str(case.get("file", "")),
            duration_s=_number(case.get("duration_ms", 0), f"{where} duration_ms") / 1000.0,
        ))
    return checks


def sweep_checks(report: object) -> list[Check]:
    """Checks from `harness sweep --json`: per case, its clean run and each operation index."""
    checks = []
    for position, sweep in enumerate(_list(report, "the report")):
        where = f"sweep #{position + 1}"
        sweep = _object(sweep, where)
        case_id = _string(sweep, "id", where)
        replay = replay_command(str(sweep.get("replay", "")))
        reason = sweep.get("skipped") or sweep.get("skip_reason")
        if reason:
            checks.append(Check(case_id, Status.SKIP, str(reason), group=case_id))
            continue
        clean = [str(item) for item in _list(sweep.get("clean_differences", []), f"{where} clean_differences")]
        checks.append(Check(
            name=f"{case_id} clean run",
            status=Status.FAIL if clean else Status.PASS,
            message="\n".join(f"- {item}" for item in clean),
            replay=replay if clean else "",
            group=case_id,
        ))
        for row in _list(sweep.get("rows"), f"{where} rows"):
            row = _object(row, f"{where} row")
            index = _number(row.get("index"), f"{where} row index")
            differences = [str(item) for item in _list(row.get("differences", []), f"{where} row {index} differences")]
            name = f"{case_id} op {index} {row.get('kind', '?')} {row.get('path', '')}".rstrip()
            checks.append(Check(
                name=name,
                status=Status.FAIL if differences else Status.PASS,
                message="\n".join([str(row.get("observed", "")), *(f"- {d}" for d in differences)]).strip()
                if differences else "",
                replay=replay if differences else "",
                group=case_id,
            ))
    return checks


def _list(value: object, what: str) -> list:
    if not isinstance(value, list):
        raise MalformedReport(f"{what}: expected a list, found {type(value).__name__}")
    return value


def _object(value: object, what: str) -> dict:
    if not isinstance(value, dict):
        raise MalformedReport(f"{what}: expected an object, found {type(value).__name__}")
    return value


def _string(value: dict, key: str, what: str) -> str:
    found = value.get(key)
    if not isinstance(found, str) or not found:
        raise MalformedReport(f"{what}: key {key!r} missing or not a string")
    return found


def _number(value: object, what: str) -> int | float:
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        raise MalformedReport(f"{what}: expected a number, found {value!r}")
    return value
