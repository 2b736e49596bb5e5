"""``CODETRACER_TRACE`` never harms child processes: with ``{pid}`` each process
records its own trace; without it the parent owns the directory and children
run unrecorded. Plain python (no recorder variable) is the oracle."""

from __future__ import annotations

import json

from conftest import clean_env, is_complete, run, write_script

PARENT = """
import subprocess, sys
import codetracer_python_recorder
def parent_work():
    return "parent"
print(parent_work(), flush=True)
child = subprocess.run([sys.executable, "-c", {child!r}])
print("child exit", child.returncode)
"""

CHILD = """
import sys
import codetracer_python_recorder as r
def child_work():
    return "child"
print(child_work(), r.is_tracing(), flush=True)
sys.exit(3)
"""

GRANDPARENT_CHILD = """
import subprocess, sys
import codetracer_python_recorder
child = subprocess.run([sys.executable, "-c", "import codetracer_python_recorder as r; print('grandchild', r.is_tracing())"])
print("grandchild exit", child.returncode)
"""


def calls(trace_dir) -> list[str]:
    events = json.loads((trace_dir / "trace.json").read_text())
    functions = [event["Function"]["name"] for event in events if "Function" in event]
    return [functions[event["Call"]["function_id"]] for event in events if "Call" in event]


def parent_script(tmp_path, child=CHILD):
    return write_script(tmp_path, PARENT.format(child=child))


def test_a_child_without_placeholder_is_unharmed_and_the_parent_keeps_its_trace(tmp_path):
    script = parent_script(tmp_path)
    plain = run([str(script)])
    out = tmp_path / "trace"
    traced = run([str(script)], env=clean_env(CODETRACER_TRACE=str(out), CODETRACER_FORMAT="json"))
    assert plain.stdout == "parent\nchild False\nchild exit 3\n"
    assert (traced.returncode, traced.stderr) == (plain.returncode, plain.stderr), traced.describe()
    assert traced.stdout == plain.stdout
    assert is_complete(out)
    recorded = calls(out)
    assert "parent_work" in recorded and "child_work" not in recorded


def test_the_child_says_once_at_debug_level_why_it_records_nothing(tmp_path):
    script = parent_script(tmp_path)
    out = tmp_path / "trace"
    log = tmp_path / "recorder.log"
    traced = run([str(script)], env=clean_env(CODETRACER_TRACE=str(out), CODETRACER_LOG_LEVEL="debug",
                                              CODETRACER_LOG_FILE=str(log)))
    assert traced.returncode == 0, traced.describe()
    lines = [json.loads(line) for line in log.read_text().splitlines()]
    notes = [line for line in lines if "records nothing" in line["message"]]
    assert len(notes) == 1, lines
    assert notes[0]["level"] == "DEBUG" and str(out) in notes[0]["message"]


def test_grandchildren_are_unharmed_too(tmp_path):
    script = parent_script(tmp_path, child=GRANDPARENT_CHILD)
    out = tmp_path / "trace"
    traced = run([str(script)], env=clean_env(CODETRACER_TRACE=str(out)))
    assert traced.stdout == "parent\ngrandchild False\ngrandchild exit 0\nchild exit 0\n", traced.describe()
    assert traced.returncode == 0
    assert is_complete(out)


def test_pid_placeholder_gives_every_process_its_own_trace(tmp_path):
    script = parent_script(tmp_path)
    traced = run([str(script)], env=clean_env(CODETRACER_TRACE=str(tmp_path / "run-{pid}"), CODETRACER_FORMAT="json"))
    assert traced.stdout == "parent\nchild True\nchild exit 3\n", traced.describe()
    assert traced.returncode == 0
    traces = sorted(path for path in tmp_path.iterdir() if path.name.startswith("run-"))
    assert len(traces) == 2
    assert all(path.name[len("run-"):].isdigit() and is_complete(path) for path in traces)
    assert sorted(name for path in traces for name in calls(path) if name.endswith("_work")) == ["child_work", "parent_work"]


def test_children_of_the_cli_neither_fail_nor_write_into_codetracer_trace(tmp_path):
    script = parent_script(tmp_path)
    plain = run([str(script)])
    env_dir = tmp_path / "from-env"
    traced = run(["-m", "codetracer_python_recorder", "--out-dir", str(tmp_path / "cli"), "--format", "json",
                  str(script)], env=clean_env(CODETRACER_TRACE=str(env_dir)))
    assert (traced.returncode, traced.stdout) == (plain.returncode, plain.stdout), traced.describe()
    assert not env_dir.exists()
    assert "parent_work" in calls(tmp_path / "cli")
