"""The report directory: `summary.md`, `report.junit.xml` and `report.json`."""

from __future__ import annotations

import json
import xml.etree.ElementTree as ElementTree
from dataclasses import asdict
from pathlib import Path

from .gate import GateResult
from .model import StepResult, Status
from .options import Options

SUMMARY = "summary.md"
JUNIT = "report.junit.xml"
JSON = "report.json"
#: Failed checks listed per step in the Markdown summary (all are in the JSON and JUnit).
LISTED_FAILURES = 40


def write(options: Options, result: GateResult) -> list[Path]:
    """Writes the three report files; returns their paths."""
    paths = [options.out / SUMMARY, options.out / JUNIT, options.out / JSON]
    paths[0].write_text(markdown(options, result))
    paths[1].write_text(junit(result))
    paths[2].write_text(json.dumps(as_json(options, result), indent=2) + "\n")
    return paths


def as_json(options: Options, result: GateResult) -> dict:
    """Everything the gate decided, for tools."""
    return {
        "schema": 1,
        "result": "pass" if result.passed else "fail",
        "started": result.started,
        "duration_s": round(result.duration_s, 3),
        "commit": result.commit,
        "dirty": result.dirty,
        "partition": str(options.partition) if options.partition else None,
        "update_baseline": options.update_baseline,
        "steps": [
            {
                "key": step.key,
                "title": step.title,
                "status": step.status.value,
                "counts": asdict(step.counts),
                "problems": step.problems,
                "command": step.command,
                "duration_s": round(step.duration_s, 3),
                "log": step.log,
                "artifacts": step.artifacts,
                "details": step.details,
                "checks": [
                    {**asdict(check), "status": check.status.value} for check in step.checks
                ],
            }
            for step in result.steps
        ],
    }


def markdown(options: Options, result: GateResult) -> str:
    """The human summary: what ran, counts per step, failures with replay commands, the benchmark."""
    verdict = "PASS" if result.passed else "FAIL"
    failed_steps = [step for step in result.steps if step.status is Status.FAIL]
    lines = [
        f"# Release check: {verdict}",
        "",
        f"- commit `{result.commit}`" + (" (uncommitted changes)" if result.dirty else ""),
        f"- started {result.started}, {result.duration_s:.0f} s",
        f"- partition {options.partition or 'none (everything on this machine)'}",
    ]
    if failed_steps:
        lines.append(f"- failed: {', '.join(step.key for step in failed_steps)}")
    lines += [
        "",
        "| step | status | passed | failed | skipped | time | log |",
        "|---|---|---:|---:|---:|---:|---|",
    ]
    for step in result.steps:
        counts = step.counts
        log = f"`{step.log}`" if step.log else "-"
        lines.append(
            f"| {step.title} | {_status(step)} | {counts.passed} | {counts.failed} | "
            f"{counts.skipped} | {step.duration_s:.1f} s | {log} |"
        )
    skips = [step for step in result.steps if step.status is Status.SKIP]
    if skips:
        lines += ["", "## Skipped", ""]
        lines += [f"- **{step.key}**: {step.problems[0] if step.problems else ''}" for step in skips]
    if failed_steps:
        lines += ["", "## Failures"]
        for step in failed_steps:
            lines += _failures(step)
    bench = next((step for step in result.steps if step.details.get("rows") is not None), None)
    if bench:
        lines += _bench_table(bench)
    lines += [
        "",
        "## Commands",
        "",
        *[f"- {step.key}: `{step.command}`" for step in result.steps if step.command],
        "",
        f"Reports: `{SUMMARY}`, `{JUNIT}`, `{JSON}`; each step's output and raw reports under `steps/`.",
        "",
    ]
    return "\n".join(lines)


def _status(step: StepResult) -> str:
    return {Status.PASS: "pass", Status.FAIL: "**FAIL**", Status.SKIP: "skip"}[step.status]


def _failures(step: StepResult) -> list[str]:
    lines = ["", f"### {step.title}", ""]
    for problem in step.problems:
        first, _, rest = problem.strip().partition("\n")
        lines.append(f"- {first}")
        if rest.strip():
            lines += ["", "  ```", *(f"  {line}" for line in rest.splitlines()), "  ```"]
    failures = step.failures()
    for check in failures[:LISTED_FAILURES]:
        lines.append(f"- `{check.name}`: {_first_line(check.message) or 'failed'}")
        for extra in check.message.splitlines()[1:6]:
            lines.append(f"  {extra}")
        if check.replay:
            lines.append(f"  replay: `{check.replay}`")
    if len(failures) > LISTED_FAILURES:
        lines.append(f"- ... and {len(failures) - LISTED_FAILURES} more failed checks (see `{JSON}`)")
    return lines


def _first_line(text: str) -> str:
    return text.strip().split("\n", 1)[0] if text.strip() else ""


def _bench_table(step: StepResult) -> list[str]:
    details = step.details
    lines = [
        "",
        "## Benchmark",
        "",
        f"Slowdown = traced / untraced, best of {details.get('repeat')} runs each, same run "
        f"(Python {details.get('python')}). Judged: the CPU-time slowdown; a regression is one more "
        f"than +{details.get('tolerance', 0):.0%} above `{details.get('baseline')}`"
        + (f" (measured on Python {details['baseline_python']})" if details.get("baseline_python") else "")
        + ". The wall-clock slowdown is shown for the record: it follows the machine's load.",
    ]
    if details.get("updated"):
        lines.append("The baseline was rewritten from this run (`--update-baseline`).")
    lines += [
        "",
        "| workload | CPU slowdown, baseline | now | change | verdict | wall slowdown, baseline | now |",
        "|---|---:|---:|---:|---|---:|---:|",
    ]
    for row in details["rows"]:
        verdict = f"**{row['verdict']}**" if row["regression"] else row["verdict"]
        lines.append(
            f"| {row['workload']} | {_ratio(row['baseline'])} | {_ratio(row['now'])} | "
            f"{_change(row['change'])} | {verdict} | {_ratio(row['wall_baseline'])} | "
            f"{_ratio(row['wall_now'])} |"
        )
    return lines


def _ratio(value: float | None) -> str:
    return f"{value:.2f}x" if value is not None else "-"


def _change(value: float | None) -> str:
    return f"{value:+.0%}" if value is not None else "-"


def _xml_text(text: str) -> str:
    """`text` without the control characters XML 1.0 forbids (e.g. terminal colour codes)."""
    return "".join(c for c in text if c in "\t\n\r" or ord(c) >= 0x20)


def junit(result: GateResult) -> str:
    """JUnit XML: one testsuite per step, one testcase per check; a step problem is an error case."""
    root = ElementTree.Element("testsuites", name="release-check")
    totals = {"tests": 0, "failures": 0, "errors": 0, "skipped": 0}
    for step in result.steps:
        suite = ElementTree.SubElement(root, "testsuite", name=step.key)
        counts = {"tests": 0, "failures": 0, "errors": 0, "skipped": 0}
        if step.status is Status.SKIP:
            case = ElementTree.SubElement(suite, "testcase", classname=step.key, name=step.title)
            ElementTree.SubElement(case, "skipped", message=_xml_text(_first_line("\n".join(step.problems))))
            counts["tests"] += 1
            counts["skipped"] += 1
        else:
            for problem in step.problems:
                case = ElementTree.SubElement(suite, "testcase", classname=step.key, name=f"{step.key}: step")
                error = ElementTree.SubElement(case, "error", message=_xml_text(_first_line(problem)))
                error.text = _xml_text(problem)
                counts["tests"] += 1
                counts["errors"] += 1
            for check in step.checks:
                case = ElementTree.SubElement(
                    suite, "testcase", classname=_xml_text(check.group or step.key), name=_xml_text(check.name),
                    time=f"{check.duration_s:.3f}",
                )
                counts["tests"] += 1
                if check.status is Status.FAIL:
                    failure = ElementTree.SubElement(
                        case, "failure", message=_xml_text(_first_line(check.message))
                    )
                    replay = f"\nreplay: {check.replay}" if check.replay else ""
                    failure.text = _xml_text(check.message + replay)
                    counts["failures"] += 1
                elif check.status is Status.SKIP:
                    ElementTree.SubElement(case, "skipped", message=_xml_text(_first_line(check.message)))
                    counts["skipped"] += 1
        suite.set("time", f"{step.duration_s:.3f}")
        for name, value in counts.items():
            suite.set(name, str(value))
            totals[name] += value
    for name, value in totals.items():
        root.set(name, str(value))
    ElementTree.indent(root)
    return ElementTree.tostring(root, encoding="unicode", xml_declaration=True) + "\n"
