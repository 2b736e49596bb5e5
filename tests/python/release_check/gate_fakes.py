"""Fakes for the release gate's children (pytest-subprocess's `fp`) and a throwaway repository.

A plain module, not a conftest.py: the suite's own tests/python/conftest.py is
imported by name (`from conftest import ...`), and a second conftest module
would shadow it. Test modules import the fixtures they use from here.
"""

from __future__ import annotations

import json
import sys
from collections.abc import Callable
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[3]
sys.path.insert(0, str(REPO / "scripts"))

from release_check import cli  # noqa: E402
from release_check.options import Interpreter, Options  # noqa: E402

#: CPU-time slowdowns of the baseline the fakes compare with (wall-clock: twice these).
BASELINE = {
    "recursion: fib(22)": 5.0,
    "hot loop: ~2M line events": 14.0,
    "objects and dicts": 40.0,
    "mixed argument kinds": 8.0,
}


def option_value(args: list[str], name: str) -> str:
    """The value of `name VALUE` or `name=VALUE` in a command line."""
    for position, arg in enumerate(args):
        if arg == name:
            return args[position + 1]
        if arg.startswith(name + "="):
            return arg.split("=", 1)[1]
    raise AssertionError(f"{name} not in {args}")


def junit_xml(*cases: tuple[str, str, str]) -> str:
    """JUnit with one testcase per (classname, name, outcome); outcome is pass, fail or skip."""
    body = []
    for classname, name, outcome in cases:
        inner = {
            "pass": "",
            "fail": '<failure message="assertion failed">left != right</failure>',
            "skip": '<skipped message="not here"/>',
        }[outcome]
        module = [part for part in classname.split(".") if not part[:1].isupper()]
        file = "/".join(module) + ".py"
        body.append(f'<testcase classname="{classname}" name="{name}" file="{file}" time="0.5">{inner}</testcase>')
    return f'<testsuites><testsuite name="suite">{"".join(body)}</testsuite></testsuites>'


def case_result(case_id: str, verdict: str = "pass", differences: tuple[str, ...] = ()) -> dict:
    """One entry of `harness run --json`."""
    file = f"scenarios/{case_id.split('::')[0]}.toml"
    return {
        "id": case_id,
        "file": file,
        "verdict": verdict,
        "duration_ms": 120,
        "observed": "exit 10, trace absent",
        "differences": list(differences),
        "replay": f"harness run {file} --filter {case_id}",
        "command": "python -m codetracer_python_recorder ...",
    }


def sweep_report(case_id: str, failing: dict[int, str] | None = None, ops: int = 3, clean: tuple[str, ...] = ()) -> dict:
    """One entry of `harness sweep --json`, with `failing` index -> difference."""
    failing = failing or {}
    file = f"scenarios/{case_id.split('::')[0]}.toml"
    return {
        "id": case_id,
        "replay": f"harness sweep {file} --filter {case_id}",
        "errno": "ENOSPC",
        "counts": [["write", ops]],
        "clean_differences": list(clean),
        "rows": [
            {
                "index": index,
                "kind": "write",
                "path": "trace/<staging>/trace.json",
                "observed": "exit 10, trace absent",
                "differences": [failing[index]] if index in failing else [],
            }
            for index in range(1, ops + 1)
        ],
    }


class Fakes:
    """Registers fake children on `fp` for each step; every default is a green run."""

    def __init__(self, fp, repo: Path, target: Path, main: Path, other: Path, fixtures: Path):
        self.fp = fp
        self.repo = repo
        self.target = target
        self.main = main
        self.other = other
        self.fixtures = fixtures

    def git(self) -> None:
        """`git rev-parse HEAD` and `git status --porcelain`."""
        self.fp.register(["git", "rev-parse", "HEAD"], stdout="0123abcd\n")
        self.fp.register(["git", "status", "--porcelain"], stdout="")

    def nextest(self, junit: str | None, returncode: int = 0, output: str = "", **extra) -> None:
        """`cargo nextest run`, writing `junit` where the ci profile puts it."""
        def write(process):
            if junit is not None:
                path = self.target / "nextest" / "ci" / "junit.xml"
                path.parent.mkdir(parents=True, exist_ok=True)
                path.write_text(junit)

        self.fp.register(
            ["cargo", "nextest", "run", self.fp.any()], callback=write, returncode=returncode,
            stdout=output, **extra,
        )

    def pytest(self, python: Path, junit: str | None, returncode: int = 0, target: str = "tests/python") -> None:
        """`python -m pytest ... target ...` writing `junit` to its --junitxml."""
        def write(process):
            if junit is not None:
                Path(option_value(process.args, "--junitxml")).write_text(junit)

        self.fp.register(
            [str(python), "-m", "pytest", "-q", "-p", "no:cacheprovider", target, self.fp.any()],
            callback=write, returncode=returncode,
        )

    def harness(self, command: str, report: object | str | None, returncode: int = 0, **extra) -> None:
        """`cargo run -p harness -- COMMAND ...` writing `report` (JSON, or raw text) to its --json."""
        def write(process):
            if report is not None:
                text = report if isinstance(report, str) else json.dumps(report)
                Path(option_value(process.args, "--json")).write_text(text)

        self.fp.register(
            ["cargo", "run", "--quiet", "-p", "harness", "--", command, self.fp.any()],
            callback=None if "wait" in extra else write, returncode=returncode, **extra,
        )

    def bench(self, slowdowns: dict[str, float] | str | None, returncode: int = 0) -> None:
        """`python scripts/bench.py ... --json FILE` reporting CPU `slowdowns` (or raw text).

        The wall-clock slowdown of each workload is three times its CPU one:
        the gate must judge the CPU one only.
        """
        def write(process):
            if slowdowns is None:
                return
            if isinstance(slowdowns, str):
                text = slowdowns
            else:
                rows = [{"name": name, "cpu_slowdown": value, "slowdown": 3 * value}
                        for name, value in slowdowns.items()]
                text = json.dumps({"python": "3.12.1", "format": "json", "repeat": 1, "workloads": rows})
            Path(option_value(process.args, "--json")).write_text(text)

        self.fp.register([str(self.main), "scripts/bench.py", self.fp.any()], callback=write, returncode=returncode)

    def green(self, *, skip: tuple[str, ...] = ()) -> None:
        """Every step green (and `git`), except those in `skip`."""
        self.git()
        if "rust" not in skip:
            self.nextest(junit_xml(("codetracer-suite::examples", "every_example_records", "pass")))
        if "python" not in skip:
            self.pytest(self.main, junit_xml(("tests.python.test_cli", "test_help", "pass")))
            self.pytest(self.other, junit_xml(("tests.python.test_cli", "test_help", "pass")))
        if "compat" not in skip:
            self.pytest(self.main, junit_xml(("tests.python.compat.test_api", "test_start", "pass")),
                        target="tests/python/compat")
        if "scenarios" not in skip:
            self.harness("run", [case_result("disk_full::at_finish_abort")])
        if "sweep" not in skip:
            self.harness("sweep", [sweep_report("disk_full::at_finish_abort")])
        if "bench" not in skip:
            self.bench(dict(BASELINE))


@pytest.fixture
def repo(tmp_path: Path) -> Path:
    """A repository root with scenarios/, a compat suite directory and a baseline."""
    root = tmp_path / "repo"
    (root / "scenarios").mkdir(parents=True)
    (root / "tests" / "python" / "compat").mkdir(parents=True)
    baseline = {
        "schema": 1,
        "tolerance": 0.3,
        "python": "3.12.1",
        "repeat": 5,
        "workloads": {
            name: {"cpu_slowdown": value, "slowdown": 2 * value} for name, value in BASELINE.items()
        },
    }
    (root / "docs" / "benchmarks").mkdir(parents=True)
    (root / "docs" / "benchmarks" / "baseline.json").write_text(json.dumps(baseline))
    return root


def executable(path: Path) -> Path:
    """Creates an executable file at `path` (never run: `fp` stands in for it)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text("#!/bin/sh\nexit 99\n")
    path.chmod(0o755)
    return path


@pytest.fixture
def fakes(fp, repo: Path, tmp_path: Path) -> Fakes:
    """Fake children plus the files the gate checks exist (interpreters, cargo, git on PATH)."""
    bin_dir = tmp_path / "bin"
    for program in ("cargo", "git"):
        executable(bin_dir / program)
    return Fakes(
        fp,
        repo,
        tmp_path / "target",
        executable(tmp_path / "venv312" / "bin" / "python"),
        executable(tmp_path / "venv313" / "bin" / "python"),
        executable(tmp_path / "fixtures" / "bin" / "python"),
    )


@pytest.fixture
def options(fakes: Fakes, repo: Path, tmp_path: Path) -> Callable[..., Options]:
    """Builds the gate's options for the fake repository; keyword arguments override fields."""

    def build(**overrides) -> Options:
        values = dict(
            root=repo,
            out=tmp_path / "report",
            pythons=[Interpreter("3.12", fakes.main), Interpreter("3.13", fakes.other)],
            fixtures_python=fakes.fixtures,
            target_dir=fakes.target,
            bench_repeat=1,
            env={"PATH": str(tmp_path / "bin")},
        )
        values.update(overrides)
        return Options(**values)

    return build


@pytest.fixture
def gate_cli(fakes: Fakes, repo: Path, tmp_path: Path, monkeypatch) -> Callable[..., int]:
    """Runs `release_check.cli.main` on the fake repository with the fake interpreters."""
    monkeypatch.setenv("PATH", str(tmp_path / "bin"))

    def run(*args: str) -> int:
        argv = [
            "--root", str(repo), "--out", str(tmp_path / "report"),
            "--python", f"3.12={fakes.main}", "--python", f"3.13={fakes.other}",
            "--fixtures-python", str(fakes.fixtures), "--bench-repeat", "1", *args,
        ]
        monkeypatch.setenv("CARGO_TARGET_DIR", str(fakes.target))
        return cli.main(argv)

    return run
