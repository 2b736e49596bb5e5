"""Every cell of the policy x outcome table (README), against real processes.

Start failures use the normal build (an output path that cannot be a trace
directory); callback and finish failures need the failure-fixtures build
(``FAILPOINTS``, ``CODETRACER_FAULTFS_PLAN``) and are skipped without it.
"""

import json

import pytest

from conftest import clean_env, is_absent, is_complete, is_partial, run, run_cli, write_script

from codetracer_python_recorder.errors import EXIT_CODES as EXIT

PROGRAM = """
def step(i):
    return i * i

total = 0
for i in range(4):
    total += step(i)
    print("step", i, flush=True)
print("total", total)
"""
PROGRAM_STDOUT = "step 0\nstep 1\nstep 2\nstep 3\ntotal 14\n"

CALLBACK_FAILS = {"FAILPOINTS": "recorder::callback=return"}
CALLBACK_PANICS = {"FAILPOINTS": "recorder::callback=panic"}
FINISH_FAILS = {"CODETRACER_FAULTFS_PLAN": "fail=rename#1:EIO"}


@pytest.fixture
def program(tmp_path):
    return write_script(tmp_path, PROGRAM)


def only_trailer(result):
    trailers = result.trailers()
    assert len(trailers) == 1, result.describe()
    return trailers[0]


# --- failure at start (normal build) -------------------------------------------------


def unusable_out_dir(tmp_path):
    """A path whose parent is a regular file: the directory cannot be created."""
    blocker = tmp_path / "blocker"
    blocker.write_text("x")
    return blocker / "trace"


def test_abort_at_start_exits_with_the_kind_code_before_the_program_runs(tmp_path, program):
    result = run_cli(["--codetracer-json-errors", "--out-dir", str(unusable_out_dir(tmp_path)), str(program)])
    trailer = only_trailer(result)
    assert trailer["error_kind"] == "Environment"
    # One code for "the output directory cannot be created"; the precise cause in the context.
    assert trailer["error_code"] == "ERR_TRACE_DIR_CREATE_FAILED", trailer
    assert trailer["context"]["cause"] == "ERR_IO", trailer
    assert trailer["context"]["errno"] == "20", trailer  # ENOTDIR: the parent is a file
    assert result.returncode == EXIT["Environment"], result.describe()
    assert result.stdout == ""
    assert "recorder error" in result.stderr


def test_disable_at_start_runs_the_program_untraced_with_one_warning(tmp_path, program):
    result = run_cli(
        ["--codetracer-on-recorder-error", "disable", "--out-dir", str(unusable_out_dir(tmp_path)), str(program)]
    )
    assert result.returncode == 0, result.describe()
    assert result.stdout == PROGRAM_STDOUT
    warnings = [line for line in result.logs() if line["level"] == "WARN"]
    assert len(warnings) == 1, result.stderr
    assert warnings[0]["error_code"] == "ERR_TRACE_DIR_CREATE_FAILED", warnings


def test_api_start_failure_raises_under_abort_and_returns_under_disable(tmp_path):
    out = unusable_out_dir(tmp_path)
    code = f"""
import codetracer_python_recorder as r
try:
    r.start({str(out)!r})
    print("started", r.is_tracing())
except r.RecorderError as error:
    print("raised", error.kind, error.code, error.context["cause"])
r.stop()
"""
    assert run(["-c", code]).stdout == "raised Environment ERR_TRACE_DIR_CREATE_FAILED ERR_IO\n"
    disabled = run(["-c", code], env=clean_env(CODETRACER_ON_RECORDER_ERROR="disable"))
    assert disabled.stdout == "started False\n", disabled.describe()


def test_require_trace_turns_an_untraced_run_into_trace_missing(tmp_path, program):
    result = run_cli(
        [
            "--codetracer-on-recorder-error=disable",
            "--codetracer-require-trace",
            "--codetracer-json-errors",
            "--out-dir", str(unusable_out_dir(tmp_path)),
            str(program),
        ]
    )
    assert result.stdout == PROGRAM_STDOUT  # disable: the program ran
    codes = [t["error_code"] for t in result.trailers()]
    assert codes[-1] == "ERR_TRACE_MISSING", result.describe()
    assert result.returncode == EXIT["Environment"]


def test_require_trace_with_no_event_recorded_is_trace_missing(tmp_path, program):
    never_runs = write_script(tmp_path, "pass\n", name="never.py")
    out = tmp_path / "out"
    result = run_cli(
        ["--codetracer-require-trace", "--activation-path", str(never_runs), "--out-dir", str(out), str(program)]
    )
    assert result.stdout == PROGRAM_STDOUT
    assert result.returncode == EXIT["Environment"], result.describe()
    assert "ERR_TRACE_MISSING" in result.stderr
    assert not is_complete(out)


def test_require_trace_is_satisfied_by_a_normal_run(tmp_path, program):
    out = tmp_path / "out"
    result = run_cli(["--codetracer-require-trace", "--out-dir", str(out), str(program)])
    assert result.returncode == 0, result.describe()
    assert is_complete(out)


# --- failure inside a monitoring callback (failure-fixtures build) ----------------------


def test_abort_in_a_callback_detaches_settles_and_exits_with_the_kind_code(tmp_path, program, fixtures_python):
    out = tmp_path / "out"
    result = run_cli(
        ["--codetracer-json-errors", "--out-dir", str(out), str(program)],
        python=fixtures_python,
        env=clean_env(**CALLBACK_FAILS),
    )
    trailer = only_trailer(result)
    assert result.returncode == EXIT[trailer["error_kind"]], result.describe()
    assert result.returncode != 0
    assert PROGRAM_STDOUT.startswith(result.stdout)  # stopped early, flushed what it printed
    assert is_absent(out)


def test_abort_in_a_callback_with_keep_partial_trace_leaves_a_marked_partial_trace(tmp_path, program, fixtures_python):
    out = tmp_path / "out"
    result = run_cli(
        ["--codetracer-keep-partial-trace", "--out-dir", str(out), str(program)],
        python=fixtures_python,
        env=clean_env(**CALLBACK_FAILS),
    )
    assert result.returncode in EXIT.values(), result.describe()
    assert is_partial(out), sorted(p.name for p in out.iterdir()) if out.exists() else "no dir"


def test_disable_in_a_callback_lets_the_program_finish_with_its_own_output(tmp_path, program, fixtures_python):
    out = tmp_path / "out"
    result = run_cli(
        ["--codetracer-on-recorder-error", "disable", "--out-dir", str(out), str(program)],
        python=fixtures_python,
        env=clean_env(**CALLBACK_FAILS),
    )
    assert result.returncode == 0, result.describe()
    assert result.stdout == PROGRAM_STDOUT
    assert len([line for line in result.logs() if line["level"] == "WARN"]) == 1, result.stderr
    assert is_absent(out)


def test_disable_in_a_callback_with_keep_partial_trace(tmp_path, program, fixtures_python):
    out = tmp_path / "out"
    result = run_cli(
        ["--codetracer-on-recorder-error", "disable", "--codetracer-keep-partial-trace", "--out-dir", str(out), str(program)],
        python=fixtures_python,
        env=clean_env(**CALLBACK_FAILS),
    )
    assert result.returncode == 0, result.describe()
    assert result.stdout == PROGRAM_STDOUT
    assert is_partial(out)


FAIL_FAST = """
import codetracer_python_recorder as r
r.start({out!r})

def work(x):
    return x + 1

work(1)
print("program continues", flush=True)
try:
    r.stop()
except r.RecorderError as e:
    print(e)
    print(type(e).__name__, e.code, flush=True)
print("tracing", r.is_tracing())
r.stop()
print("done")
"""


def test_fail_fast_issue_007_error_surfaces_once_and_print_e_works(tmp_path, fixtures_python):
    out = tmp_path / "out"
    result = run(["-c", FAIL_FAST.format(out=str(out))], python=fixtures_python, env=clean_env(**CALLBACK_FAILS))
    assert result.returncode == 0, result.describe()
    lines = result.stdout.splitlines()
    assert lines[0] == "program continues"  # never raised inside the program's own code
    assert lines[1].startswith("[ERR_"), lines  # print(e) is readable and raises nothing
    name, code = lines[2].split()
    assert name in {"UsageError", "EnvironmentError", "TargetError", "InternalError"}
    assert lines[1].startswith(f"[{code}]")
    assert lines[3:] == ["tracing False", "done"]
    assert is_absent(out)


def test_fail_fast_under_disable_stop_is_quiet(tmp_path, fixtures_python):
    out = tmp_path / "out"
    result = run(
        ["-c", FAIL_FAST.format(out=str(out))],
        python=fixtures_python,
        env=clean_env(CODETRACER_ON_RECORDER_ERROR="disable", **CALLBACK_FAILS),
    )
    assert result.returncode == 0, result.describe()
    assert result.stdout.splitlines() == ["program continues", "tracing False", "done"]


def test_a_panic_in_a_callback_is_an_internal_error_with_exit_70(tmp_path, program, fixtures_python):
    result = run_cli(
        ["--codetracer-json-errors", "--out-dir", str(tmp_path / "out"), str(program)],
        python=fixtures_python,
        env=clean_env(**CALLBACK_PANICS),
    )
    trailer = only_trailer(result)
    assert (trailer["error_kind"], trailer["error_code"]) == ("Internal", "ERR_PANIC"), result.describe()
    assert result.returncode == EXIT["Internal"]
    assert "panicked" not in result.stdout


METRICS = """
import json, codetracer_python_recorder as r
seen = []
class Collector:
    def record_detach(self, reason):
        seen.append("detach")
    def record_panic(self, label):
        seen.append("panic")
r.install_metrics({collector})
r.configure_policy(on_recorder_error="disable")
r.start({out!r})
def work(x):
    return x
work(1)
r.stop()
print(json.dumps({{"counters": r.metrics_snapshot(), "seen": seen}}))
"""


@pytest.mark.parametrize("collector", ["lambda metric, name: seen.append(metric)", "Collector()"])
@pytest.mark.parametrize(("env", "counter"), [(CALLBACK_FAILS, "detaches"), (CALLBACK_PANICS, "panics")])
def test_metrics_move_on_detach_and_panic(tmp_path, fixtures_python, env, counter, collector):
    code = METRICS.format(out=str(tmp_path / "out"), collector=collector)
    result = run(["-c", code], python=fixtures_python, env=clean_env(**env))
    assert result.returncode == 0, result.describe()
    data = json.loads(result.stdout.splitlines()[-1])
    assert sum(data["counters"][counter].values()) >= 1, data
    assert {"detaches": "detach", "panics": "panic"}[counter] in data["seen"]


# --- failure at finish (failure-fixtures build) ------------------------------------------


def test_abort_at_finish_exits_with_the_kind_code_after_the_program_output(tmp_path, program, fixtures_python):
    out = tmp_path / "out"
    result = run_cli(
        ["--codetracer-json-errors", "--out-dir", str(out), str(program)],
        python=fixtures_python,
        env=clean_env(**FINISH_FAILS),
    )
    assert result.stdout == PROGRAM_STDOUT
    trailer = only_trailer(result)
    assert trailer["error_kind"] == "Environment"
    assert result.returncode == EXIT["Environment"], result.describe()
    assert is_absent(out)


def test_disable_at_finish_keeps_the_program_exit_code(tmp_path, fixtures_python):
    script = write_script(tmp_path, PROGRAM + "raise SystemExit(5)\n")
    out = tmp_path / "out"
    result = run_cli(
        ["--codetracer-on-recorder-error", "disable", "--out-dir", str(out), str(script)],
        python=fixtures_python,
        env=clean_env(**FINISH_FAILS),
    )
    assert result.returncode == 5, result.describe()
    assert result.stdout == PROGRAM_STDOUT
    assert is_absent(out)


def test_disable_stdout_is_identical_to_an_untraced_run_under_any_fault(tmp_path, program, fixtures_python):
    plain = run([str(program)], python=fixtures_python)
    for index, env in enumerate((CALLBACK_FAILS, CALLBACK_PANICS, FINISH_FAILS)):
        traced = run_cli(
            ["--codetracer-on-recorder-error", "disable", "--out-dir", str(tmp_path / f"o{index}"), str(program)],
            python=fixtures_python,
            env=clean_env(**env),
        )
        assert (traced.returncode, traced.stdout) == (plain.returncode, plain.stdout), traced.describe()
