"""Every decision of `./dev release-check`, with its children faked by pytest-subprocess."""

from __future__ import annotations

import json
import signal
import xml.etree.ElementTree as ElementTree
from pathlib import Path

from gate_fakes import (  # noqa: F401 (fixtures)
    BASELINE, case_result, fakes, gate_cli, junit_xml, options, repo, sweep_report,
)

from release_check import gate
from release_check.options import Partition


def report(tmp_path: Path) -> dict:
    return json.loads((tmp_path / "report" / "report.json").read_text())


def step(tmp_path: Path, key: str) -> dict:
    found = [s for s in report(tmp_path)["steps"] if s["key"] == key]
    assert found, f"no step {key}"
    return found[0]


def summary(tmp_path: Path) -> str:
    return (tmp_path / "report" / "summary.md").read_text()


def test_a_green_run_passes_and_writes_the_three_reports(fakes, gate_cli, tmp_path):
    fakes.green()
    assert gate_cli() == 0
    data = report(tmp_path)
    assert data["result"] == "pass"
    assert data["commit"] == "0123abcd"
    assert [s["key"] for s in data["steps"]] == [
        "rust", "python-3.12", "python-3.13", "compat", "scenarios", "sweep", "bench",
    ]
    assert all(s["status"] == "pass" for s in data["steps"])
    assert step(tmp_path, "sweep")["counts"] == {"passed": 4, "failed": 0, "skipped": 0}
    text = summary(tmp_path)
    assert text.startswith("# Release check: PASS")
    assert "| Sweep of every scenario (harness sweep) | pass | 4 | 0 | 0 |" in text
    suites = ElementTree.parse(tmp_path / "report" / "report.junit.xml").getroot()
    assert suites.get("failures") == "0" and suites.get("errors") == "0"
    assert [s.get("name") for s in suites] == [s["key"] for s in data["steps"]]


def test_the_children_run_in_order_with_the_fixtures_build(fakes, gate_cli, fp):
    fakes.green()
    gate_cli()
    programs = [" ".join(call[:3]) if call[0] == "cargo" else call[1] for call in map(list, fp.calls)
                if call[0] != "git"]
    assert programs == [
        "cargo nextest run", "-m", "-m", "-m", "cargo run --quiet", "cargo run --quiet", "scripts/bench.py",
    ]
    nextest = [list(call) for call in fp.calls if list(call)[:3] == ["cargo", "nextest", "run"]][0]
    assert nextest[3:9] == ["--features", "failure-fixtures", "--profile", "ci", "--no-fail-fast", "-E"]
    assert nextest[9] == "not binary_id(harness::scenarios)"
    harness_run = [list(call) for call in fp.calls if "run" in list(call)[6:7]][0]
    assert harness_run[-2:] == ["--python", str(fakes.fixtures)]


def test_a_failing_rust_test_fails_the_gate_with_its_replay_and_later_steps_still_run(fakes, gate_cli, tmp_path):
    fakes.green(skip=("rust",))
    fakes.nextest(
        junit_xml(("faultfs::lib", "quota_is_enforced", "fail"), ("faultfs::lib", "plan_parses", "pass")),
        returncode=100,
    )
    assert gate_cli() == 1
    rust = step(tmp_path, "rust")
    assert rust["status"] == "fail"
    assert rust["counts"] == {"passed": 1, "failed": 1, "skipped": 0}
    assert step(tmp_path, "bench")["status"] == "pass", "the gate stopped early"
    text = summary(tmp_path)
    assert "`quota_is_enforced`: assertion failed" in text
    assert "replay: `cargo nextest run --features failure-fixtures -E 'binary_id(faultfs::lib) & test(=quota_is_enforced)'`" in text


def test_nextest_without_a_junit_report_is_a_failure_with_its_output(fakes, gate_cli, tmp_path):
    fakes.green(skip=("rust",))
    fakes.nextest(None, returncode=101, output="error[E0425]: cannot find value `x`")
    assert gate_cli() == 1
    problem = step(tmp_path, "rust")["problems"][0]
    assert problem.startswith("nextest wrote no JUnit report (exit status 101")
    assert "error[E0425]" in problem


def test_a_nonzero_exit_with_only_passing_tests_is_never_a_pass(fakes, gate_cli, tmp_path):
    fakes.green(skip=("rust",))
    fakes.nextest(junit_xml(("faultfs::lib", "plan_parses", "pass")), returncode=4)
    assert gate_cli() == 1
    assert step(tmp_path, "rust")["problems"][0].startswith("exited with status 4 but reported no failure")


def test_missing_cargo_is_reported_not_raised(fakes, options, fp, tmp_path):
    (tmp_path / "bin" / "cargo").unlink()
    fakes.green(skip=("rust", "scenarios", "sweep"))
    result = gate.run(options(), progress=lambda line: None)
    by_key = {s.key: s for s in result.steps}
    assert by_key["rust"].problems[0].startswith("could not start: cargo not found")
    assert by_key["scenarios"].status.value == "fail"
    assert not result.passed


def test_a_harness_that_crashes_fails_the_step(fakes, gate_cli, tmp_path):
    fakes.green(skip=("scenarios",))
    fakes.harness("run", None, returncode=-signal.SIGSEGV)
    assert gate_cli() == 1
    assert step(tmp_path, "scenarios")["problems"][0].startswith("killed by SIGSEGV")


def test_a_harness_that_hangs_is_killed_at_the_time_limit(fakes, options, tmp_path):
    fakes.green(skip=("scenarios",))
    received = []
    fakes.harness("run", None, wait=1.0, signal_callback=lambda process, sig: received.append(sig))
    opts = options()
    opts.timeouts["scenarios"] = 0.05
    result = gate.run(opts, progress=lambda line: None)
    scenarios = next(s for s in result.steps if s.key == "scenarios")
    assert scenarios.problems[0].startswith("timed out after 0.05 s")
    assert received == [signal.SIGKILL]
    assert next(s for s in result.steps if s.key == "sweep").status.value == "pass"


def test_malformed_harness_json_fails_even_on_exit_zero(fakes, gate_cli, tmp_path):
    fakes.green(skip=("scenarios",))
    fakes.harness("run", '[{"id": "disk_full::x", "verdict": "pass"', returncode=0)
    assert gate_cli() == 1
    assert step(tmp_path, "scenarios")["problems"][0].startswith("malformed JSON report scenarios.json")


def test_harness_json_of_the_wrong_shape_fails(fakes, gate_cli, tmp_path):
    fakes.green(skip=("scenarios",))
    fakes.harness("run", [{"id": "disk_full::x", "verdict": "maybe"}])
    assert gate_cli() == 1
    assert "verdict 'maybe'" in step(tmp_path, "scenarios")["problems"][0]


def test_a_failed_case_is_listed_with_its_differences_and_replay_command(fakes, gate_cli, tmp_path):
    fakes.green(skip=("scenarios",))
    fakes.harness(
        "run",
        [case_result("disk_full::at_finish_abort"),
         case_result("disk_full::mid_trace_abort", "fail", ("staging directory trace/.codetracer-staging-1 left behind",))],
        returncode=1,
    )
    assert gate_cli() == 1
    scenarios = step(tmp_path, "scenarios")
    assert scenarios["counts"] == {"passed": 1, "failed": 1, "skipped": 0}
    assert scenarios["problems"] == []
    text = summary(tmp_path)
    assert "- `disk_full::mid_trace_abort`: exit 10, trace absent" in text
    assert "  - staging directory trace/.codetracer-staging-1 left behind" in text
    assert ("  replay: `cargo run -p harness -- run scenarios/disk_full.toml --filter disk_full::mid_trace_abort`"
            in text)


def test_a_harness_exit_zero_contradicting_its_failed_case_is_flagged(fakes, gate_cli, tmp_path):
    fakes.green(skip=("scenarios",))
    fakes.harness("run", [case_result("disk_full::x", "fail", ("exit 0, expected 10",))], returncode=0)
    assert gate_cli() == 1
    assert step(tmp_path, "scenarios")["problems"] == ["exited with status 0 although 1 check(s) failed"]


def test_a_harness_that_cannot_start_its_interpreter_fails_with_its_message(fakes, gate_cli, tmp_path, fp):
    fakes.green(skip=("scenarios",))
    fp.register(
        ["cargo", "run", "--quiet", "-p", "harness", "--", "run", fp.any()],
        stdout="harness: error: [ERR_IO] cannot import codetracer_python_recorder", returncode=10,
    )
    assert gate_cli() == 1
    problem = step(tmp_path, "scenarios")["problems"][0]
    assert problem.startswith("the harness wrote no JSON report (exit status 10)")
    assert "cannot import codetracer_python_recorder" in problem


def test_skipped_cases_count_as_skips_not_passes(fakes, gate_cli, tmp_path):
    fakes.green(skip=("scenarios",))
    skipped_case = case_result("real_eio::at_start_abort", "skip")
    skipped_case["skip_reason"] = "no device-mapper error target on this machine"
    fakes.harness("run", [case_result("disk_full::x"), skipped_case])
    assert gate_cli() == 0
    scenarios = step(tmp_path, "scenarios")
    assert scenarios["counts"] == {"passed": 1, "failed": 0, "skipped": 1}
    assert scenarios["checks"][1]["message"] == "no device-mapper error target on this machine"


def test_a_failing_sweep_row_and_a_broken_clean_run_fail_with_the_sweep_replay(fakes, gate_cli, tmp_path):
    fakes.green(skip=("sweep",))
    fakes.harness(
        "sweep",
        [sweep_report("panic::callback_abort", failing={2: "hang (process group killed)"}),
         sweep_report("baseline::threads", ops=0, clean=("clean run left trace absent, expected complete",))],
        returncode=1,
    )
    assert gate_cli() == 1
    sweep = step(tmp_path, "sweep")
    assert sweep["counts"] == {"passed": 3, "failed": 2, "skipped": 0}
    text = summary(tmp_path)
    assert "- `panic::callback_abort op 2 write trace/<staging>/trace.json`: exit 10, trace absent" in text
    assert "  - hang (process group killed)" in text
    assert "  replay: `cargo run -p harness -- sweep scenarios/panic.toml --filter panic::callback_abort`" in text
    assert "- `baseline::threads clean run`: - clean run left trace absent, expected complete" in text


def test_sweep_rows_that_are_not_a_list_are_malformed(fakes, gate_cli, tmp_path):
    fakes.green(skip=("sweep",))
    broken = sweep_report("panic::callback_abort")
    broken["rows"] = {"1": "ok"}
    fakes.harness("sweep", [broken])
    assert gate_cli() == 1
    assert "rows: expected a list" in step(tmp_path, "sweep")["problems"][0]


def test_a_benchmark_regression_fails_the_gate_and_shows_in_the_table(fakes, gate_cli, tmp_path):
    fakes.green(skip=("bench",))
    slower = dict(BASELINE, **{"hot loop: ~2M line events": 14.0 * 1.5, "recursion: fib(22)": 5.0 * 1.2})
    fakes.bench(slower)
    assert gate_cli() == 1
    bench = step(tmp_path, "bench")
    assert bench["counts"] == {"passed": 3, "failed": 1, "skipped": 0}
    failed = [c for c in bench["checks"] if c["status"] == "fail"]
    assert failed[0]["name"] == "hot loop: ~2M line events"
    assert failed[0]["message"] == "CPU slowdown 21.00x, baseline 14.00x: +50% (tolerance +30%)"
    text = summary(tmp_path)
    assert ("| hot loop: ~2M line events | 14.00x | 21.00x | +50% | **REGRESSION (more than +30%)** "
            "| 28.00x | 63.00x |") in text
    assert "| recursion: fib(22) | 5.00x | 6.00x | +20% | ok | 10.00x | 18.00x |" in text
    assert f"replay: `{fakes.main} scripts/bench.py --repeat 1 --only 'hot loop: ~2M line events'`" in text


def test_only_the_cpu_slowdown_is_judged(fakes, gate_cli, tmp_path):
    fakes.green(skip=("bench",))
    fakes.bench(dict(BASELINE))  # every wall-clock slowdown is +50 % over the baseline's
    assert gate_cli() == 0
    assert step(tmp_path, "bench")["counts"] == {"passed": 4, "failed": 0, "skipped": 0}


def test_a_workload_missing_from_the_run_fails_and_a_new_one_does_not(fakes, gate_cli, tmp_path):
    fakes.green(skip=("bench",))
    measured = {name: value for name, value in BASELINE.items() if name != "objects and dicts"}
    measured["async tasks"] = 12.0
    fakes.bench(measured)
    assert gate_cli() == 1
    checks = {c["name"]: c for c in step(tmp_path, "bench")["checks"]}
    assert checks["objects and dicts"]["status"] == "fail"
    assert checks["objects and dicts"]["message"] == "in the baseline (40.00x) but not measured by this run"
    assert checks["async tasks"]["status"] == "pass"
    assert "| async tasks | - | 12.00x | - | new workload, no baseline yet | - | 36.00x |" in summary(tmp_path)


def test_without_a_baseline_the_step_fails_and_says_how_to_create_it(fakes, gate_cli, tmp_path, repo):
    (repo / "docs" / "benchmarks" / "baseline.json").unlink()
    fakes.green()
    assert gate_cli() == 1
    problem = step(tmp_path, "bench")["problems"][0]
    assert "create it with `./dev release-check --only bench --update-baseline`" in problem


def test_update_baseline_rewrites_it_keeping_the_tolerance(fakes, gate_cli, tmp_path, repo):
    fakes.git()
    fakes.bench(dict(BASELINE, **{"objects and dicts": 80.0}))
    assert gate_cli("--only", "bench", "--update-baseline") == 0
    written = json.loads((repo / "docs" / "benchmarks" / "baseline.json").read_text())
    assert written["tolerance"] == 0.3
    assert written["workloads"]["objects and dicts"] == {"cpu_slowdown": 80.0, "slowdown": 240.0}
    assert written["command"] == "./dev release-check --only bench --update-baseline"
    assert "The baseline was rewritten from this run" in summary(tmp_path)


def test_a_crashed_benchmark_fails_and_never_rewrites_the_baseline(fakes, gate_cli, tmp_path, repo):
    before = (repo / "docs" / "benchmarks" / "baseline.json").read_text()
    fakes.git()
    fakes.bench(None, returncode=1)
    assert gate_cli("--only", "bench", "--update-baseline") == 1
    assert step(tmp_path, "bench")["problems"][0].startswith("exited with status 1")
    assert (repo / "docs" / "benchmarks" / "baseline.json").read_text() == before


def test_a_malformed_benchmark_report_fails(fakes, gate_cli, tmp_path):
    fakes.git()
    fakes.bench('{"workloads": [{"name": "fib"}]}')
    assert gate_cli("--only", "bench") == 1
    assert "lacks a name or a positive cpu_slowdown and slowdown" in step(tmp_path, "bench")["problems"][0]


def test_a_missing_interpreter_fails_its_step_without_running_anything(fakes, gate_cli, tmp_path, fp):
    fakes.other.unlink()
    fakes.green()
    fp.allow_unregistered(False)
    assert gate_cli() == 1
    python313 = step(tmp_path, "python-3.13")
    assert python313["status"] == "fail"
    assert python313["problems"] == [
        f"interpreter missing: {fakes.other} does not exist or is not executable"
    ]
    assert not any(str(fakes.other) in list(call)[0] for call in fp.calls)
    assert step(tmp_path, "python-3.12")["status"] == "pass"


def test_an_interpreter_dev_could_not_prepare_fails_its_step(fakes, gate_cli, tmp_path):
    fakes.green()
    assert gate_cli("--unavailable-python", "3.14=could not build the extension into .venv-py3.14") == 1
    assert step(tmp_path, "python-3.14")["problems"] == [
        "interpreter unavailable: could not build the extension into .venv-py3.14"
    ]


def test_a_failing_python_test_has_a_pytest_replay_with_the_fixtures_interpreter(fakes, gate_cli, tmp_path):
    fakes.green(skip=("python",))
    fakes.pytest(fakes.main, junit_xml(("tests.python.test_cli.TestHelp", "test_usage", "fail")), returncode=1)
    fakes.pytest(fakes.other, junit_xml(("tests.python.test_cli", "test_help", "pass")))
    assert gate_cli() == 1
    failed = step(tmp_path, "python-3.12")["checks"][0]
    assert failed["replay"] == (
        f"CODETRACER_FIXTURES_PYTHON={fakes.fixtures} {fakes.main} -m pytest "
        "tests/python/test_cli.py::TestHelp::test_usage"
    )


def test_a_module_that_fails_to_import_is_a_failure_replayed_by_its_file(fakes, gate_cli, tmp_path):
    fakes.green(skip=("python",))
    collection_error = (
        '<testsuites><testsuite name="pytest" errors="1"><testcase classname="" '
        'name="tests.python.test_cli" file="tests/python/test_cli.py" time="0.000">'
        '<error message="collection failure">ImportError: cannot import name EXAMPLES</error>'
        "</testcase></testsuite></testsuites>"
    )
    fakes.pytest(fakes.main, collection_error, returncode=2)
    fakes.pytest(fakes.other, junit_xml(("tests.python.test_cli", "test_help", "pass")))
    assert gate_cli() == 1
    failed = step(tmp_path, "python-3.12")["checks"][0]
    assert failed["status"] == "fail"
    assert failed["message"] == "collection failure\nImportError: cannot import name EXAMPLES"
    assert failed["replay"].endswith(f"{fakes.main} -m pytest tests/python/test_cli.py")


def test_an_empty_compat_suite_is_skipped_never_passed(fakes, gate_cli, tmp_path):
    fakes.green(skip=("compat",))
    fakes.pytest(fakes.main, None, returncode=5, target="tests/python/compat")
    assert gate_cli() == 0
    compat = step(tmp_path, "compat")
    assert compat["status"] == "skip"
    assert compat["problems"] == ["tests/python/compat holds no test (pytest collected none)"]
    assert "- **compat**: tests/python/compat holds no test (pytest collected none)" in summary(tmp_path)


def test_a_missing_compat_directory_is_skipped_with_the_reason(fakes, gate_cli, tmp_path, repo):
    (repo / "tests" / "python" / "compat").rmdir()
    fakes.green(skip=("compat",))
    assert gate_cli() == 0
    assert step(tmp_path, "compat")["problems"] == [
        "tests/python/compat does not exist: no compatibility test to run"
    ]


def test_a_python_suite_that_collects_nothing_fails(fakes, gate_cli, tmp_path):
    fakes.green(skip=("python",))
    fakes.pytest(fakes.main, None, returncode=5)
    fakes.pytest(fakes.other, junit_xml(("tests.python.test_cli", "test_help", "pass")))
    assert gate_cli() == 1
    assert step(tmp_path, "python-3.12")["problems"] == ["pytest collected no test"]


def test_a_partition_runs_its_nextest_share_and_leaves_the_rest_to_partition_one(fakes, gate_cli, tmp_path, fp):
    fakes.git()
    fakes.nextest(junit_xml(("harness::scenarios", "sweep::panic::callback_abort::ops-026-050", "pass")))
    assert gate_cli("--partition", "2/3") == 0
    nextest = [list(call) for call in fp.calls if list(call)[:3] == ["cargo", "nextest", "run"]][0]
    assert nextest[-2:] == ["--partition", "hash:2/3"]
    assert "-E" not in nextest, "a partition must include the scenario binary"
    statuses = {s["key"]: (s["status"], s["problems"]) for s in report(tmp_path)["steps"]}
    assert statuses["rust"] == ("pass", [])
    assert statuses["python-3.12"] == ("skip", ["runs in partition 1/3 only (this is 2/3)"])
    assert statuses["bench"][0] == "skip"
    assert statuses["sweep"][1][0].startswith("partitioned run: the scenario cases and sweep ranges run as nextest tests")
    assert report(tmp_path)["partition"] == "2/3"


def test_partition_one_also_runs_the_unpartitioned_steps(fakes, gate_cli, tmp_path):
    fakes.green(skip=("scenarios", "sweep"))
    assert gate_cli("--partition", "1/3") == 0
    statuses = {s["key"]: s["status"] for s in report(tmp_path)["steps"]}
    assert statuses == {
        "rust": "pass", "python-3.12": "pass", "python-3.13": "pass", "compat": "pass",
        "scenarios": "skip", "sweep": "skip", "bench": "pass",
    }


def test_bad_usage_exits_2_before_running_anything(gate_cli, fp, capsys):
    assert gate_cli("--partition", "4/3") == 2
    assert "K must be between 1 and N" in capsys.readouterr().err
    assert gate_cli("--only", "rust,lint") == 2
    assert "unknown step(s) lint" in capsys.readouterr().err
    assert list(fp.calls) == []


def test_partition_parsing():
    assert Partition.parse("2/5") == Partition(2, 5)
    assert str(Partition.parse(" 1 / 1 ")) == "1/1"


def test_an_unrelated_non_empty_out_directory_is_refused_and_an_old_report_replaced(fakes, gate_cli, tmp_path):
    out = tmp_path / "report"
    out.mkdir()
    (out / "notes.txt").write_text("mine")
    assert gate_cli("--only", "bench") == 2
    assert (out / "notes.txt").read_text() == "mine"
    (out / "notes.txt").unlink()
    fakes.git()
    fakes.bench(dict(BASELINE))
    assert gate_cli("--only", "bench") == 0
    (out / "steps" / "stale.log").write_text("old")
    fakes.git()
    fakes.bench(dict(BASELINE))
    assert gate_cli("--only", "bench") == 0
    assert not (out / "steps" / "stale.log").exists()


def test_the_junit_report_counts_errors_failures_and_skips_and_strips_control_characters(fakes, gate_cli, tmp_path):
    fakes.green(skip=("scenarios", "compat"))
    fakes.pytest(fakes.main, None, returncode=5, target="tests/python/compat")
    fakes.harness("run", None, returncode=2, stdout="\x1b[31merror\x1b[0m: bad scenario")
    assert gate_cli() == 1
    suites = ElementTree.parse(tmp_path / "report" / "report.junit.xml").getroot()
    by_name = {suite.get("name"): suite for suite in suites}
    assert by_name["scenarios"].get("errors") == "1"
    assert "[31merror" in by_name["scenarios"].find("testcase/error").text
    assert by_name["compat"].get("skipped") == "1"
    assert suites.get("errors") == "1" and suites.get("skipped") == "1"
