"""Reading the JUnit XML that nextest and pytest write into checks."""

from __future__ import annotations

import xml.etree.ElementTree as ElementTree
from collections.abc import Callable
from pathlib import Path

from .model import Check, Status

#: Longest failure text kept per check (the full text stays in the child's files).
MESSAGE_LIMIT = 4000

#: Builds the replay command of a failed test from its `testcase` attributes
#: and the name of its `testsuite`.
Replay = Callable[[dict[str, str], str], str]


class MalformedJUnit(ValueError):
    """The file is not JUnit XML the gate can read."""


def read_checks(path: Path, replay: Replay) -> list[Check]:
    """One check per `testcase` of the file; failures and errors fail, `skipped` skips."""
    try:
        root = ElementTree.parse(path).getroot()
    except (ElementTree.ParseError, OSError) as error:
        raise MalformedJUnit(f"{path.name}: {error}") from error
    if root.tag not in ("testsuites", "testsuite"):
        raise MalformedJUnit(f"{path.name}: root element <{root.tag}>, expected <testsuites>")
    suites = [root] if root.tag == "testsuite" else root.iter("testsuite")
    checks = []
    for suite in suites:
        for case in suite.iter("testcase"):
            checks.append(_check(case, suite.get("name", ""), replay))
    return checks


def _check(case: ElementTree.Element, suite: str, replay: Replay) -> Check:
    attributes = dict(case.attrib)
    name = attributes.get("name", "?")
    group = attributes.get("classname", suite)
    duration = _seconds(attributes.get("time"))
    problem = case.find("failure")
    if problem is None:
        problem = case.find("error")
    if problem is not None:
        return Check(
            name=name,
            status=Status.FAIL,
            message=_text(problem),
            replay=replay(attributes, suite),
            group=group,
            duration_s=duration,
        )
    skipped = case.find("skipped")
    if skipped is not None:
        return Check(name, Status.SKIP, _text(skipped), group=group, duration_s=duration)
    return Check(name, Status.PASS, group=group, duration_s=duration)


def _text(element: ElementTree.Element) -> str:
    message = element.get("message", "").strip()
    body = (element.text or "").strip()
    text = body if not message or message in body else f"{message}\n{body}".strip()
    if len(text) > MESSAGE_LIMIT:
        text = text[:MESSAGE_LIMIT] + "\n[... cut; see the step's JUnit file]"
    return text


def _seconds(value: str | None) -> float:
    try:
        return float(value) if value else 0.0
    except ValueError:
        return 0.0
