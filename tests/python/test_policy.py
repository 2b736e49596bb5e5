"""The policy: keys, values, environment, precedence, and import never raising."""

import json

import pytest

from conftest import clean_env, run, run_cli, write_script

DEFAULTS = {
    "on_recorder_error": "abort",
    "require_trace": False,
    "keep_partial_trace": False,
    "log_level": "warn",
    "log_file": None,
    "json_errors": False,
    "follow_fork": False,
    "module_name_from_globals": True,
    "propagate_script_exit": True,
    "io_capture": {"line_proxies": True, "fd_fallback": False},
}


def snapshot_after(code: str, **env: str) -> dict:
    """Runs ``code`` after importing the package and returns the policy snapshot."""
    result = run(
        ["-c", f"import json, codetracer_python_recorder as r\n{code}\nprint(json.dumps(r.policy_snapshot()))"],
        env=clean_env(**env),
    )
    assert result.returncode == 0, result.describe()
    return json.loads(result.stdout.splitlines()[-1])


def test_defaults():
    assert snapshot_after("") == DEFAULTS


def test_environment_is_applied_on_import():
    policy = snapshot_after(
        "",
        CODETRACER_ON_RECORDER_ERROR="Disable",
        CODETRACER_REQUIRE_TRACE="yes",
        CODETRACER_KEEP_PARTIAL_TRACE="ON",
        CODETRACER_LOG_LEVEL="info,runtime=debug",
        CODETRACER_LOG_FILE="/tmp/ct.log",
        CODETRACER_JSON_ERRORS="1",
        CODETRACER_CAPTURE_IO="proxies+fd",
        CODETRACER_FOLLOW_FORK="on",
    )
    assert policy == {
        **DEFAULTS,
        "on_recorder_error": "disable",
        "require_trace": True,
        "keep_partial_trace": True,
        "log_level": "info,runtime=debug",
        "log_file": "/tmp/ct.log",
        "json_errors": True,
        "io_capture": {"line_proxies": True, "fd_fallback": True},
        "follow_fork": True,
    }


@pytest.mark.parametrize(
    ("text", "value"),
    [("1", True), ("0", False), ("TRUE", True), ("False", False), ("yes", True), ("No", False), ("on", True), ("OFF", False)],
)
def test_boolean_spellings(text, value):
    assert snapshot_after("", CODETRACER_JSON_ERRORS=text)["json_errors"] is value


def test_explicit_settings_win_over_the_environment_even_after_refresh():
    policy = snapshot_after(
        "r.configure_policy(on_recorder_error='abort', json_errors=False)\nr.configure_policy_from_env()",
        CODETRACER_ON_RECORDER_ERROR="disable",
        CODETRACER_JSON_ERRORS="true",
        CODETRACER_REQUIRE_TRACE="true",
    )
    assert policy["on_recorder_error"] == "abort"
    assert policy["json_errors"] is False
    assert policy["require_trace"] is True  # not set explicitly: the environment shows


def test_empty_string_drops_an_explicit_setting():
    policy = snapshot_after(
        "r.configure_policy(require_trace=False)\nr.configure_policy(require_trace='')",
        CODETRACER_REQUIRE_TRACE="1",
    )
    assert policy["require_trace"] is True


def test_the_environment_is_reread_by_configure_policy_from_env():
    policy = snapshot_after(
        "import os\nos.environ['CODETRACER_KEEP_PARTIAL_TRACE'] = 'true'\nr.configure_policy_from_env()"
    )
    assert policy["keep_partial_trace"] is True


def test_api_accepts_bools_strings_and_paths(tmp_path):
    policy = snapshot_after(
        f"import pathlib\nr.configure_policy(require_trace='yes', keep_partial_trace=True,"
        f" log_file=pathlib.Path({str(tmp_path / 'x.log')!r}), on_recorder_error='DISABLE')"
    )
    assert policy["require_trace"] is True
    assert policy["keep_partial_trace"] is True
    assert policy["log_file"] == str(tmp_path / "x.log")
    assert policy["on_recorder_error"] == "disable"


@pytest.mark.parametrize(
    ("kwargs", "names"),
    [
        ("bogus=1", ["bogus", "on_recorder_error"]),
        ("require_trace='maybe'", ["require_trace", "maybe", "yes/no"]),
        ("on_recorder_error='ignore'", ["on_recorder_error", "abort, disable"]),
        ("on_recorder_error=True", ["on_recorder_error"]),
        ("log_level='loud'", ["log_level", "loud"]),
        ("json_errors=3", ["json_errors"]),
    ],
)
def test_bad_api_values_raise_usage_error_naming_key_and_accepted_values(kwargs, names):
    code = f"""
try:
    r.configure_policy({kwargs})
except r.UsageError as e:
    print(json.dumps([e.code, e.kind, str(e)]))
else:
    print(json.dumps(None))
"""
    result = run(["-c", f"import json, codetracer_python_recorder as r\n{code}\nprint(json.dumps(r.policy_snapshot()))"])
    assert result.returncode == 0, result.describe()
    raised, policy = (json.loads(line) for line in result.stdout.splitlines())
    assert raised is not None, "no UsageError"
    code_, kind, text = raised
    assert (code_, kind) == ("ERR_INVALID_POLICY_VALUE", "Usage")
    for name in names:
        assert name in text
    assert policy == DEFAULTS  # a rejected call changes nothing


def test_a_bad_environment_value_never_breaks_import_but_start_and_cli_report_it(tmp_path):
    env = clean_env(CODETRACER_REQUIRE_TRACE="perhaps", CODETRACER_JSON_ERRORS="1")
    imported = run(["-c", "import codetracer_python_recorder; print('imported')"], env=env)
    assert imported.returncode == 0, imported.describe()
    assert imported.stdout == "imported\n"
    assert imported.trailers() == []  # nothing surfaced, nothing reported

    started = run(
        ["-c", f"""
import codetracer_python_recorder as r
try:
    r.start({str(tmp_path / 'api')!r})
except r.UsageError as e:
    print(e.code, e.context.get('variable'))
"""],
        env=env,
    )
    assert started.stdout.split() == ["ERR_INVALID_POLICY_VALUE", "CODETRACER_REQUIRE_TRACE"], started.describe()
    assert not (tmp_path / "api").exists()

    script = write_script(tmp_path, "print('should not run')")
    cli = run_cli(["--out-dir", str(tmp_path / "cli"), str(script)], env=env)
    assert cli.returncode == 2, cli.describe()
    assert cli.stdout == ""
    assert "CODETRACER_REQUIRE_TRACE" in cli.stderr and "perhaps" in cli.stderr
    assert [t["error_code"] for t in cli.trailers()] == ["ERR_INVALID_POLICY_VALUE"]
    assert not (tmp_path / "cli").exists()


def test_cli_flags_win_over_the_environment(tmp_path):
    script = write_script(
        tmp_path,
        """
        import json, codetracer_python_recorder as r
        print(json.dumps(r.policy_snapshot()))
        """,
    )
    env = clean_env(
        CODETRACER_ON_RECORDER_ERROR="abort",
        CODETRACER_JSON_ERRORS="0",
        CODETRACER_REQUIRE_TRACE="0",
        CODETRACER_LOG_LEVEL="error",
    )
    result = run_cli(
        [
            "--out-dir", str(tmp_path / "out"),
            "--codetracer-on-recorder-error", "disable",
            "--codetracer-json-errors",
            "--require-trace=yes",  # 0.3 spelling, with an explicit value
            "--log-level=debug",
            str(script),
        ],
        env=env,
    )
    assert result.returncode == 0, result.describe()
    policy = json.loads(result.stdout.splitlines()[-1])
    assert policy["on_recorder_error"] == "disable"
    assert policy["json_errors"] is True
    assert policy["require_trace"] is True
    assert policy["log_level"] == "debug"
    assert policy["keep_partial_trace"] is False


def test_cli_without_flags_uses_the_environment(tmp_path):
    script = write_script(tmp_path, "import json, codetracer_python_recorder as r\nprint(json.dumps(r.policy_snapshot()))\n")
    result = run_cli(
        ["--out-dir", str(tmp_path / "out"), str(script)],
        env=clean_env(CODETRACER_ON_RECORDER_ERROR="disable", CODETRACER_KEEP_PARTIAL_TRACE="true"),
    )
    assert result.returncode == 0, result.describe()
    policy = json.loads(result.stdout.splitlines()[-1])
    assert policy["on_recorder_error"] == "disable"
    assert policy["keep_partial_trace"] is True


@pytest.mark.parametrize(
    "flags",
    [
        ["--codetracer-on-recorder-error", "explode"],
        ["--codetracer-log-level", "chatty"],
        ["--codetracer-json-errors=sometimes"],
    ],
)
def test_bad_cli_values_exit_2_before_running_anything(tmp_path, flags):
    script = write_script(tmp_path, "print('ran')")
    result = run_cli([*flags, "--out-dir", str(tmp_path / "out"), str(script)])
    assert result.returncode == 2, result.describe()
    assert result.stdout == ""
    assert "ERR_INVALID_POLICY_VALUE" in result.stderr
    assert not (tmp_path / "out").exists()


def test_trace_session_applies_overrides_after_refreshing_the_environment(tmp_path):
    code = f"""
import json, codetracer_python_recorder as r
session = r.TraceSession({str(tmp_path / 'out')!r}, policy=dict(on_recorder_error='disable', keep_partial_trace=True))
session.start()
policy = r.policy_snapshot()
session.stop()
print(json.dumps(policy))
"""
    result = run(
        ["-c", code],
        env=clean_env(CODETRACER_ON_RECORDER_ERROR="abort", CODETRACER_LOG_LEVEL="error"),
    )
    assert result.returncode == 0, result.describe()
    policy = json.loads(result.stdout.splitlines()[-1])
    assert policy["on_recorder_error"] == "disable"
    assert policy["keep_partial_trace"] is True
    assert policy["log_level"] == "error"
