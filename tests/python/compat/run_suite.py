"""Runs the compatibility suite against the package the running interpreter
imports and sorts every test into: same as 0.3, a listed difference (a row of
``docs/compatibility.md``), pending here, or an unlisted difference.

    target/venv-0.3/bin/python tests/python/compat/run_suite.py      # against 0.3.0
    .venv/bin/python tests/python/compat/run_suite.py                # against this project

Extra arguments go to pytest. The exit status is pytest's: 0 exactly when
every difference is a listed one. ``./dev compat-0.3`` prepares the 0.3.0
environment and runs this against it.
"""

from __future__ import annotations

import re
import sys
from collections import Counter
from importlib import metadata
from importlib.util import find_spec
from pathlib import Path

import pytest

from compat_support import UNDER_03

SUITE = Path(__file__).resolve().parent
ROW_REASON = re.compile(r"compatibility table row (?P<row>[a-z0-9-]+): (?P<why>.*)")
#: The reason ``differs`` gives; ``pending`` gives the issue the row waits for.
CHANGED = "changed on purpose"


class Classifier:
    """A pytest plugin that records each test's outcome and prints the comparison."""

    def __init__(self) -> None:
        self.same: list[str] = []
        self.listed: Counter[str] = Counter()
        self.pending: Counter[str] = Counter()
        self.unlisted: list[str] = []
        self.skipped: list[str] = []

    @staticmethod
    def package_under_test() -> str:
        """The version and location of the package the suite tests."""
        spec = find_spec("codetracer_python_recorder")
        where = Path(spec.origin).parent if spec and spec.origin else "not importable"
        return f"codetracer-python-recorder {metadata.version('codetracer-python-recorder')} from {where}"

    def pytest_report_header(self) -> list[str]:
        """Names the package under test, so a run against the wrong one is visible at once."""
        return [f"package under test: {self.package_under_test()}"]

    def pytest_runtest_logreport(self, report: pytest.TestReport) -> None:
        """Sorts the outcome of one test (a failed setup or teardown counts as a failure)."""
        if report.when != "call" and not report.failed and not (report.skipped and report.when == "setup"):
            return
        reason = getattr(report, "wasxfail", None)
        if report.failed:
            self.unlisted.append(f"{report.nodeid} ({report.when})" if report.when != "call" else report.nodeid)
        elif reason is not None:
            match = ROW_REASON.match(reason)
            row = match["row"] if match else reason
            if match and match["why"] == CHANGED:
                self.listed[row] += 1
            else:
                self.pending[row] += 1
        elif report.skipped:
            self.skipped.append(report.nodeid)
        elif report.passed:
            self.same.append(report.nodeid)

    def pytest_terminal_summary(self, terminalreporter) -> None:
        """Prints the counts, the rows that differ and every unlisted difference."""
        write = terminalreporter.write_line
        terminalreporter.write_sep("=", "compatibility with 0.3")
        write(f"package under test: {self.package_under_test()}")
        passed = "same as 0.3" if UNDER_03 else "passed (0.3's behaviour, or a listed change)"
        write(f"{passed}: {len(self.same)}")
        write(f"listed differences (failed as expected): {sum(self.listed.values())} in {len(self.listed)} rows")
        for row, count in sorted(self.listed.items()):
            write(f"  {row}: {count}")
        if self.pending:
            write(f"pending here: {sum(self.pending.values())}")
            for row, count in sorted(self.pending.items()):
                write(f"  {row}: {count}")
        if self.skipped:
            write(f"skipped: {len(self.skipped)}")
        write(f"unlisted differences: {len(self.unlisted)}")
        for nodeid in self.unlisted:
            write(f"  {nodeid}")


def main(argv: list[str]) -> int:
    """Runs pytest on the suite with the classifier; returns pytest's exit status."""
    return int(pytest.main([str(SUITE), "-p", "no:cacheprovider", *argv], plugins=[Classifier()]))


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
