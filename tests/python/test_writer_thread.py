"""The writer thread that compresses and writes a recording's chunks must be
invisible to the program: no fork warning from CPython (which counts the
process's threads right after os.fork()), signals still reach the
interpreter's thread. Every program first records far more than one 64 KiB
chunk, so the writer thread runs when it forks or is signalled. Plain python
is the oracle for stdout, stderr and the exit status."""

from __future__ import annotations

import json
import signal
import subprocess
import sys

import pytest

from conftest import balanced, clean_env, is_complete, recorder_entries, run, run_cli, trace_events, write_script

# Enough work before the fork for several chunks of either format.
WARM_UP = """
import warnings
warnings.simplefilter("always")   # the fork warning would be printed wherever it comes from

def warm(n):
    total = 0
    for i in range(n):
        total += i % 7
    return total

warm(30000)
"""

OS_FORK = WARM_UP + """
import os, sys

def in_child(x):
    return warm(20000) + x

pid = os.fork()
if pid == 0:
    print("child", in_child(1) > 0, flush=True)
    sys.exit(0)
_, status = os.waitpid(pid, 0)
print("child status", os.waitstatus_to_exitcode(status))
print("parent", warm(20000))
"""

MULTIPROCESSING_FORK = WARM_UP + """
import multiprocessing as mp

if __name__ == "__main__":
    ctx = mp.get_context("fork")
    for _ in range(3):
        child = ctx.Process(target=warm, args=(20000,))
        child.start()
        child.join()
        print("child exit", child.exitcode)
        warm(20000)
    print("parent", warm(100))
"""


@pytest.mark.parametrize("fmt", ["json", "binary"])
@pytest.mark.parametrize("program", [OS_FORK, MULTIPROCESSING_FORK], ids=["os_fork", "multiprocessing"])
def test_forking_while_the_writer_thread_runs_prints_no_warning(tmp_path, program, fmt):
    script = write_script(tmp_path, program)
    plain = run([str(script)])
    out = tmp_path / "trace"
    traced = run_cli(["--format", fmt, "--out-dir", str(out), str(script)])
    assert plain.returncode == 0 and plain.stderr == "", plain.describe()
    assert traced.returncode == plain.returncode, traced.describe()
    assert traced.stderr == plain.stderr, traced.describe()
    assert traced.stdout == plain.stdout
    assert is_complete(out), recorder_entries(out)
    if fmt == "json":
        assert balanced(out)
        steps = sum("Step" in event for event in trace_events(out))
        assert steps > 100_000, "the parent kept recording after each fork"


def test_a_followed_fork_child_records_completely_with_its_own_writer_thread(tmp_path):
    script = write_script(tmp_path, OS_FORK)
    plain = run([str(script)])
    out = tmp_path / "trace"
    traced = run_cli(["--format", "json", "--codetracer-follow-fork", "--out-dir", str(out), str(script)])
    assert traced.returncode == plain.returncode == 0, traced.describe()
    assert traced.stderr == plain.stderr, traced.describe()
    assert traced.stdout == plain.stdout
    (child,) = tmp_path.glob("trace.fork-*")
    assert is_complete(out) and is_complete(child), (recorder_entries(out), recorder_entries(child))
    assert balanced(out) and balanced(child)
    child_functions = {event["Function"]["name"] for event in trace_events(child) if "Function" in event}
    assert "in_child" in child_functions
    child_steps = sum("Step" in event for event in trace_events(child))
    assert child_steps >= 40_000, "the child's own recording holds many chunks of its work"
    lines = (child / "trace.json").read_text().splitlines()
    assert lines[0] == "[" and lines[-1] == "]"
    for line in lines[1:-1]:
        json.loads(line.rstrip(","))  # whole events only: nothing of the parent's interleaved


SLEEPER = WARM_UP + """
import time
print("ready", flush=True)
time.sleep(60)
print("never")
"""


def _interrupt(command: list[str]) -> subprocess.CompletedProcess:
    proc = subprocess.Popen(command, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=clean_env())
    assert proc.stdout is not None
    line = proc.stdout.readline()
    assert line == "ready\n", (line, proc.stderr.read() if proc.stderr else "")
    proc.send_signal(signal.SIGINT)
    try:
        out, err = proc.communicate(timeout=20)
    except subprocess.TimeoutExpired:
        proc.kill()
        proc.communicate()
        pytest.fail("SIGINT did not interrupt time.sleep")
    return subprocess.CompletedProcess(command, proc.returncode, line + out, err)


@pytest.mark.parametrize("fmt", ["json", "binary"])
def test_sigint_interrupts_time_sleep_as_without_the_recorder(tmp_path, fmt):
    script = write_script(tmp_path, SLEEPER)
    plain = _interrupt([sys.executable, str(script)])
    out = tmp_path / "trace"
    traced = _interrupt([sys.executable, "-m", "codetracer_python_recorder", "--format", fmt,
                         "--out-dir", str(out), str(script)])
    assert traced.returncode == plain.returncode, traced.stderr
    assert traced.stdout == plain.stdout == "ready\n"
    assert plain.stderr.splitlines()[-1] == "KeyboardInterrupt"
    assert traced.stderr.splitlines()[-1] == "KeyboardInterrupt", traced.stderr
    assert is_complete(out), recorder_entries(out)
