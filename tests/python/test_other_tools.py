"""Other sys.monitoring tools keep working under the recorder: cProfile,
coverage (sysmon core) and a program that monitors itself. Plain python is the
oracle for what the program prints and how it ends."""

from __future__ import annotations

import importlib.util

import pytest

from conftest import clean_env, is_complete, run, run_cli, write_script

PROFILED = """
import cProfile, pstats, io

def fib(n):
    return n if n < 2 else fib(n - 1) + fib(n - 2)

profiler = cProfile.Profile()
profiler.enable()
fib(12)
profiler.disable()
stats = pstats.Stats(profiler, stream=io.StringIO())
print("fib calls:", stats.stats[next(k for k in stats.stats if k[2] == "fib")][1])
cProfile.run("sum(range(10))", sort="calls")
print("done")
"""


def test_cprofile_inside_a_recorded_program_runs_as_under_python(tmp_path):
    script = write_script(tmp_path, PROFILED)
    plain = run([str(script)])
    out = tmp_path / "trace"
    traced = run_cli(["--format", "json", "--out-dir", str(out), str(script)])
    assert plain.returncode == 0, plain.describe()
    assert traced.returncode == 0, traced.describe()
    assert "fib calls: 465" in traced.stdout
    assert traced.stdout.splitlines()[0] == plain.stdout.splitlines()[0]
    assert traced.stdout.rstrip().endswith("done")
    assert is_complete(out)


SELF_MONITORING = """
import sys
mon = sys.monitoring
starts = []

def on_start(code, offset):
    if code.co_name == "work":
        starts.append(code.co_name)

tool = mon.DEBUGGER_ID
mon.use_tool_id(tool, "mine")
mon.register_callback(tool, mon.events.PY_START, on_start)
mon.set_events(tool, mon.events.PY_START)

def work(i):
    return i * 2

total = sum(work(i) for i in range(5))
mon.set_events(tool, 0)
mon.free_tool_id(tool)
free = [t for t in range(6) if mon.get_tool(t) is None]
print(total, len(starts), mon.get_tool(mon.PROFILER_ID), mon.get_tool(mon.COVERAGE_ID))
"""


def test_a_program_using_sys_monitoring_itself_sees_what_it_sees_under_python(tmp_path):
    script = write_script(tmp_path, SELF_MONITORING)
    plain = run([str(script)])
    out = tmp_path / "trace"
    traced = run_cli(["--format", "json", "--out-dir", str(out), str(script)])
    assert plain.returncode == 0, plain.describe()
    assert traced.returncode == 0, traced.describe()
    assert traced.stdout == plain.stdout == "20 5 None None\n"
    assert is_complete(out)


def test_the_recorder_takes_ids_3_and_4_before_any_reserved_one(tmp_path):
    script = write_script(
        tmp_path,
        """
        import sys
        print([sys.monitoring.get_tool(i) for i in range(6)])
        """,
    )
    out = tmp_path / "trace"
    traced = run_cli(["--format", "json", "--out-dir", str(out), str(script)])
    assert traced.returncode == 0, traced.describe()
    assert traced.stdout == "[None, None, None, 'codetracer', None, None]\n"


COVERED = """
def used(x):
    if x > 1:
        return "big"
    return "small"

def unused():
    return 0

print(used(1), used(5))
"""


@pytest.mark.skipif(importlib.util.find_spec("coverage") is None, reason="coverage is installed by ./dev setup")
def test_coverage_with_the_sysmon_core_measures_the_same_lines_under_the_recorder(tmp_path):
    script = write_script(tmp_path, COVERED, name="covered.py")
    env = clean_env(COVERAGE_CORE="sysmon")

    def coverage(args: list[str], data: str) -> tuple[str, str]:
        measured = run(["-m", "coverage", "run", f"--data-file={data}", *args], env=env, cwd=tmp_path)
        assert measured.returncode == 0, measured.describe()
        report = run(
            ["-m", "coverage", "report", f"--data-file={data}", "--include=covered.py", "--show-missing"],
            env=env,
            cwd=tmp_path,
        )
        assert report.returncode == 0, report.describe()
        return measured.stdout, report.stdout

    plain_out, plain_report = coverage([str(script)], str(tmp_path / "plain.cov"))
    out = tmp_path / "trace"
    traced_out, traced_report = coverage(
        ["-m", "codetracer_python_recorder", "--format", "json", "--out-dir", str(out), str(script)],
        str(tmp_path / "traced.cov"),
    )
    assert traced_out == plain_out == "small big\n"
    assert traced_report == plain_report
    assert "8" in plain_report.splitlines()[-1]  # the line of unused()'s body is reported missing
    assert is_complete(out)

