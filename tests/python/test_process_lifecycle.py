"""What programs do to their own process, under the recorder: fork (with and
without follow_fork), SIGTERM/SIGHUP, os.exec*, os._exit. Plain python is the
oracle for output and exit status; the output directory must be complete,
partial-marked, absent or (only after os._exit) a recoverable staging
directory, never anything else."""

from __future__ import annotations

import json
import signal
import subprocess
import sys
from pathlib import Path

import pytest

from conftest import balanced, clean_env, is_complete, is_partial, recorder_entries, run, run_cli, trace_events, write_script


def step_lines(directory: Path) -> list[int]:
    return [event["Step"]["line"] for event in trace_events(directory) if "Step" in event]


def function_names(directory: Path) -> set[str]:
    return {event["Function"]["name"] for event in trace_events(directory) if "Function" in event}


FORK_CHILD_EXITS_NORMALLY = """
import os, sys

def in_parent(x):
    return x + 1

def in_child(x):
    return x * 2

pid = os.fork()
if pid == 0:
    print("child", in_child(21), flush=True)
    sys.exit(0)          # the child runs its atexit hooks: the recorder's too
os.waitpid(pid, 0)
print("parent", in_parent(41))
"""


@pytest.mark.parametrize("policy", ["abort", "disable"])
def test_a_fork_child_leaves_the_parent_s_trace_alone(tmp_path, policy):
    script = write_script(tmp_path, FORK_CHILD_EXITS_NORMALLY)
    plain = run([str(script)])
    out = tmp_path / "trace"
    traced = run_cli(["--format", "json", "--codetracer-on-recorder-error", policy, "--out-dir", str(out), str(script)])
    assert traced.returncode == plain.returncode == 0, traced.describe()
    assert sorted(traced.stdout.splitlines()) == sorted(plain.stdout.splitlines())
    assert "warn" not in traced.stderr.lower() and "error" not in traced.stderr.lower(), traced.stderr
    assert is_complete(out), recorder_entries(out)
    assert balanced(out)
    names = function_names(out)
    assert "in_parent" in names and "in_child" not in names
    assert not list(tmp_path.glob("trace.fork-*")), "no fork directory without follow_fork"


MULTIPROCESSING_FORK = """
import multiprocessing as mp

def busy(n):
    total = 0
    for i in range(n):
        total += i % 7
    return total

def parent_work():
    return sum(range(10))

if __name__ == "__main__":
    ctx = mp.get_context("fork")
    child = ctx.Process(target=busy, args=(20000,))   # records far more than 64 KiB
    child.start()
    child.join()
    print("child exit", child.exitcode)
    print("parent", parent_work())
"""


def test_a_multiprocessing_fork_child_never_writes_into_the_parent_s_trace(tmp_path):
    script = write_script(tmp_path, MULTIPROCESSING_FORK)
    plain = run([str(script)])
    out = tmp_path / "trace"
    traced = run_cli(["--format", "json", "--out-dir", str(out), str(script)])
    assert traced.returncode == plain.returncode == 0, traced.describe()
    assert traced.stdout == plain.stdout
    assert is_complete(out), recorder_entries(out)
    assert balanced(out)
    assert "busy" not in function_names(out)
    lines = (out / "trace.json").read_text().splitlines()
    assert lines[0] == "[" and lines[-1] == "]"
    for line in lines[1:-1]:
        json.loads(line.rstrip(","))  # every line one whole event: nothing interleaved


@pytest.mark.parametrize("how", ["flag", "env", "api"])
def test_follow_fork_records_the_child_next_to_the_parent(tmp_path, how):
    out = tmp_path / "trace"
    if how == "api":
        script = write_script(
            tmp_path,
            "import codetracer_python_recorder as recorder\n"
            "recorder.configure_policy(follow_fork=True)\n"
            f"recorder.start({str(out)!r}, format='json')\n"
            + FORK_CHILD_EXITS_NORMALLY
            + "\nrecorder.stop()\n",
        )
        traced = run([str(script)])
    else:
        script = write_script(tmp_path, FORK_CHILD_EXITS_NORMALLY)
        flags = ["--codetracer-follow-fork"] if how == "flag" else []
        env = clean_env(CODETRACER_FOLLOW_FORK="1") if how == "env" else None
        traced = run_cli(["--format", "json", *flags, "--out-dir", str(out), str(script)], env=env)
    assert traced.returncode == 0, traced.describe()
    assert sorted(traced.stdout.splitlines()) == ["child 42", "parent 42"]
    children = list(tmp_path.glob("trace.fork-*"))
    assert len(children) == 1, sorted(p.name for p in tmp_path.iterdir())
    child = children[0]
    assert child.name.split("-")[-1].isdigit()
    assert is_complete(out) and is_complete(child), (recorder_entries(out), recorder_entries(child))
    assert balanced(out) and balanced(child)
    assert "in_parent" in function_names(out) and "in_child" not in function_names(out)
    assert "in_child" in function_names(child) and "in_parent" not in function_names(child)


def test_follow_fork_records_a_multiprocessing_fork_child_completely(tmp_path):
    script = write_script(tmp_path, MULTIPROCESSING_FORK)
    out = tmp_path / "trace"
    traced = run_cli(["--format", "json", "--codetracer-follow-fork", "--out-dir", str(out), str(script)])
    assert traced.returncode == 0, traced.describe()
    assert is_complete(out)
    (child,) = tmp_path.glob("trace.fork-*")
    assert is_complete(child), recorder_entries(child)
    assert "busy" in function_names(child)
    assert balanced(child)


SLEEPER = """
import signal, sys, time
{setup}
def work(i):
    return i * i

for i in range(5):
    work(i)
print("ready", flush=True)
# Short sleeps: a signal that lands just before one long sleep begins is only
# handled when that sleep ends (a race of the interpreter's, not the recorder's).
deadline = time.monotonic() + 60
while time.monotonic() < deadline:
    time.sleep(0.05)
print("never")
"""


def _run_and_signal(command: list[str], signum: int, env=None) -> subprocess.CompletedProcess:
    proc = subprocess.Popen(command, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                            env=env or clean_env())
    assert proc.stdout is not None
    line = proc.stdout.readline()
    assert line == "ready\n", (line, proc.stderr.read() if proc.stderr else "")
    proc.send_signal(signum)
    out, err = proc.communicate(timeout=60)
    return subprocess.CompletedProcess(command, proc.returncode, line + out, err)


@pytest.mark.parametrize("signum", [signal.SIGTERM, signal.SIGHUP])
@pytest.mark.parametrize("policy", ["abort", "disable"])
def test_sigterm_and_sighup_finish_the_trace_partial_then_end_the_process_by_the_signal(tmp_path, signum, policy):
    script = write_script(tmp_path, SLEEPER.format(setup=""))
    plain = _run_and_signal([sys.executable, str(script)], signum)
    out = tmp_path / "trace"
    traced = _run_and_signal(
        [sys.executable, "-m", "codetracer_python_recorder", "--format", "json", "--codetracer-on-recorder-error", policy,
         "--out-dir", str(out), str(script)],
        signum,
    )
    assert plain.returncode == -signum
    assert traced.returncode == plain.returncode, traced.stderr
    assert traced.stdout == plain.stdout == "ready\n"
    assert is_partial(out), recorder_entries(out)
    assert json.loads((out / "trace_partial.json").read_text())["reason"] == "ERR_TERMINATED"
    metadata = json.loads((out / "trace_metadata.json").read_text())
    assert metadata["recorder"]["partial_reason"] == "ERR_TERMINATED"
    assert balanced(out)
    assert "work" in function_names(out)


def test_a_program_s_own_sigterm_handler_is_left_alone(tmp_path):
    setup = (
        "def bye(signum, frame):\n"
        "    print('handled', signum, flush=True)\n"
        "    sys.exit(3)\n"
        "signal.signal(signal.SIGTERM, bye)\n"
    )
    script = write_script(tmp_path, SLEEPER.format(setup=setup))
    plain = _run_and_signal([sys.executable, str(script)], signal.SIGTERM)
    out = tmp_path / "trace"
    traced = _run_and_signal(
        [sys.executable, "-m", "codetracer_python_recorder", "--format", "json", "--out-dir", str(out), str(script)],
        signal.SIGTERM,
    )
    assert plain.returncode == 3
    assert traced.returncode == 3, traced.stderr
    assert traced.stdout == plain.stdout
    assert is_complete(out), recorder_entries(out)


def test_an_ignored_sigterm_stays_ignored(tmp_path):
    script = write_script(
        tmp_path,
        """
        import os, signal
        signal.signal(signal.SIGTERM, signal.SIG_IGN)
        os.kill(os.getpid(), signal.SIGTERM)
        print("survived", signal.getsignal(signal.SIGTERM) is signal.SIG_IGN)
        """,
    )
    out = tmp_path / "trace"
    traced = run_cli(["--format", "json", "--out-dir", str(out), str(script)])
    assert traced.returncode == 0, traced.describe()
    assert traced.stdout == "survived True\n"
    assert is_complete(out)


EXEC = """
import os, sys

def before_exec():
    return "exec"

print("before", before_exec(), flush=True)
os.execv(sys.executable, [sys.executable, "-c", "print('after exec')"])
"""


@pytest.mark.parametrize("policy", ["abort", "disable"])
def test_exec_finishes_the_trace_before_the_process_image_is_replaced(tmp_path, policy):
    script = write_script(tmp_path, EXEC)
    plain = run([str(script)])
    out = tmp_path / "trace"
    traced = run_cli(["--format", "json", "--codetracer-on-recorder-error", policy, "--out-dir", str(out), str(script)])
    assert traced.returncode == plain.returncode == 0, traced.describe()
    assert traced.stdout == plain.stdout == "before exec\nafter exec\n"
    assert is_complete(out), recorder_entries(out)
    assert balanced(out)
    assert "before_exec" in function_names(out)


def test_a_failed_exec_leaves_a_finished_trace_and_the_program_runs_on(tmp_path):
    script = write_script(
        tmp_path,
        """
        import os
        try:
            os.execv("/nonexistent/program", ["x"])
        except OSError as error:
            print("exec failed", error.errno)
        """,
    )
    plain = run([str(script)])
    out = tmp_path / "trace"
    traced = run_cli(["--format", "json", "--out-dir", str(out), str(script)])
    assert traced.returncode == plain.returncode == 0, traced.describe()
    assert traced.stdout == plain.stdout
    assert is_complete(out), recorder_entries(out)


def test_os_exit_leaves_a_recoverable_staging_directory_and_nothing_under_final_names(tmp_path):
    script = write_script(
        tmp_path,
        """
        import os
        def work(i):
            return i + 1
        for i in range(3000):
            work(i)
        print("bye", flush=True)
        os._exit(5)
        """,
    )
    plain = run([str(script)])
    out = tmp_path / "trace"
    traced = run_cli(["--format", "json", "--out-dir", str(out), str(script)])
    assert traced.returncode == plain.returncode == 5, traced.describe()
    assert traced.stdout == plain.stdout
    entries = recorder_entries(out)
    (staging,) = [name for name in entries if name.startswith(".codetracer-staging-")]
    assert entries == {staging}, entries
    lines = (out / staging / "trace.json").read_text().splitlines()
    assert lines[0] == "["
    complete = [line for line in lines[1:] if line.endswith(",")]
    assert len(complete) > 100
    for line in complete:
        json.loads(line[:-1])  # every flushed event is whole: recover can read up to the last one
