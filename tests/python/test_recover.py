"""``recover``: a recording whose process was really SIGKILLed becomes a
loadable trace marked partial (ERR_PROCESS_DIED); a live one is refused; a
new recording into the dead one's directory says how to recover it."""

import json
import os
import signal
import subprocess
import sys

import pytest

import codetracer_python_recorder as recorder
from conftest import TIMEOUT, clean_env, run_cli, write_script

#: Records, flushes, says so, then waits to be killed.
VICTIM = """
import sys, time
import codetracer_python_recorder as recorder
recorder.start(sys.argv[1], format=sys.argv[2])
def step(n):
    return n + 1
total = 0
for n in range(int(sys.argv[3])):
    total = step(total)
recorder.flush()
print("flushed", total, flush=True)
for n in range(10**9):
    total = step(total)
    time.sleep(0.001)
"""


def start_victim(tmp_path, out, fmt="json", rounds=300):
    script = write_script(tmp_path, VICTIM, name="victim.py")
    process = subprocess.Popen(
        [sys.executable, str(script), str(out), fmt, str(rounds)],
        stdout=subprocess.PIPE,
        text=True,
        env=clean_env(),
    )
    line = process.stdout.readline()
    assert line.startswith("flushed"), line
    return process


def kill(process):
    process.send_signal(signal.SIGKILL)
    process.wait(timeout=TIMEOUT)
    assert process.returncode == -signal.SIGKILL


def read_json_events(out):
    return json.loads((out / "trace.json").read_text())


@pytest.mark.parametrize("fmt", ["json", "binary"])
def test_a_killed_recording_is_recovered_with_every_event_before_flush(tmp_path, fmt):
    out = tmp_path / "trace"
    kill(start_victim(tmp_path, out, fmt))
    assert [p.name.startswith(".codetracer-staging-") for p in out.iterdir()] == [True]

    result = run_cli(["recover", str(out)])
    assert result.returncode == 0, result.describe()
    assert result.stdout == ""
    assert "marked partial: ERR_PROCESS_DIED" in result.stderr
    names = sorted(p.name for p in out.iterdir())
    events_file = "trace.json" if fmt == "json" else "trace.bin"
    assert names == sorted([events_file, "trace_metadata.json", "trace_partial.json", "trace_paths.json"])
    marker = json.loads((out / "trace_partial.json").read_text())
    assert marker["partial"] is True and marker["reason"] == "ERR_PROCESS_DIED"
    metadata = json.loads((out / "trace_metadata.json").read_text())
    assert metadata["recorder"]["partial"] is True
    assert metadata["recorder"]["partial_reason"] == "ERR_PROCESS_DIED"
    assert metadata["program"].endswith("victim.py")
    if fmt == "json":
        recovered = read_json_events(out)
        calls = [e for e in recovered if "Call" in e]
        returns = [e for e in recovered if "Return" in e]
        assert len(calls) == len(returns), "balanced"
        assert len(calls) >= 300, "every call of step() before flush() is there"


def test_the_python_api_recovers_and_says_what_it_did(tmp_path):
    out = tmp_path / "trace"
    process = start_victim(tmp_path, out)
    kill(process)
    recovery = recorder.recover(out)
    assert recovery.pid == process.pid
    assert recovery.reason == "ERR_PROCESS_DIED"
    assert recovery.format == "json"
    assert recovery.events >= 300 and recovery.closing >= 1
    assert recovery.trace_dir == str(out)
    assert not os.path.exists(recovery.staging)
    assert recovery.leftovers == ()


def test_a_live_recording_is_refused(tmp_path):
    out = tmp_path / "trace"
    process = start_victim(tmp_path, out)
    try:
        result = run_cli(["recover", str(out)])
        assert result.returncode == 2, result.describe()
        assert "ERR_TRACE_DIR_CONFLICT" in result.stderr
        assert f"still running (pid {process.pid})" in result.stderr
        assert not (out / "trace_partial.json").exists()
    finally:
        kill(process)


def test_a_new_recording_into_a_dead_ones_directory_names_recover(tmp_path):
    out = tmp_path / "trace"
    process = start_victim(tmp_path, out)
    kill(process)
    script = write_script(tmp_path, "print('again')\n")
    result = run_cli(["--out-dir", str(out), str(script)])
    assert result.returncode == 2, result.describe()
    assert f"unfinished recording of process {process.pid}" in result.stderr
    assert f"python -m codetracer_python_recorder recover {out}" in result.stderr
    assert "(1 entries)" not in result.stderr


def test_nothing_to_recover_is_an_error(tmp_path):
    result = run_cli(["recover", str(tmp_path)])
    assert result.returncode == 10, result.describe()
    assert "ERR_TRACE_MISSING" in result.stderr
    assert "nothing to recover" in result.stderr
