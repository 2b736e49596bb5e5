"""The policy as 0.3 had it: ``policy_snapshot()`` keys, ``configure_policy``
keywords, every ``CODETRACER_*`` policy variable."""

from __future__ import annotations

import json

import pytest

from compat_support import differs, last_json, run_code

SNAPSHOT = "import json, codetracer_python_recorder as r\n{code}\nprint(json.dumps(r.policy_snapshot()))"
KEYS = {
    "on_recorder_error", "require_trace", "keep_partial_trace", "log_level", "log_file", "json_errors",
    "module_name_from_globals", "propagate_script_exit", "io_capture",
}
#: Keys this project adds to 0.3's (docs/compatibility.md, `policy-keys`).
ADDED_KEYS = {"follow_fork"}


def snapshot(code: str = "", **env: str) -> dict:
    return last_json(run_code(SNAPSHOT.format(code=code), **env))


def test_snapshot_keys_and_the_defaults_0_3_and_this_project_share():
    policy = snapshot()
    assert set(policy) - ADDED_KEYS == KEYS
    assert {key: policy[key] for key in ("on_recorder_error", "require_trace", "keep_partial_trace", "log_file",
                                         "json_errors", "module_name_from_globals", "io_capture")} == {
        "on_recorder_error": "abort",
        "require_trace": False,
        "keep_partial_trace": False,
        "log_file": None,
        "json_errors": False,
        "module_name_from_globals": True,
        "io_capture": {"line_proxies": True, "fd_fallback": False},
    }


@differs("propagate-default")
def test_the_program_exit_status_is_propagated_by_default():
    assert snapshot()["propagate_script_exit"] is True


@differs("log-level-snapshot")
def test_the_default_log_level_is_shown_as_the_filter_in_force():
    assert snapshot()["log_level"] == "warn"


def test_configure_policy_sets_every_key():
    policy = snapshot("""
r.configure_policy(on_recorder_error="disable", require_trace=True, keep_partial_trace=True, log_level="info",
                   log_file="/tmp/ct-compat.log", json_errors=True, io_capture_line_proxies=True,
                   io_capture_fd_fallback=True, module_name_from_globals=False, propagate_script_exit=True)
""")
    assert {key: value for key, value in policy.items() if key not in ADDED_KEYS} == {
        "on_recorder_error": "disable", "require_trace": True, "keep_partial_trace": True, "log_level": "info",
        "log_file": "/tmp/ct-compat.log", "json_errors": True, "module_name_from_globals": False,
        "propagate_script_exit": True, "io_capture": {"line_proxies": True, "fd_fallback": True},
    }


def test_none_leaves_keys_unchanged_and_empty_strings_clear_the_log_settings():
    default = snapshot()
    kept, cleared = last_json(run_code("""
        import json, codetracer_python_recorder as r
        r.configure_policy(json_errors=True, log_level="debug", log_file="/tmp/ct-compat.log")
        r.configure_policy(json_errors=None, log_level=None, log_file=None)
        kept = r.policy_snapshot()
        r.configure_policy(log_level="", log_file="")
        print(json.dumps([kept, r.policy_snapshot()]))
    """))
    assert (kept["json_errors"], kept["log_level"], kept["log_file"]) == (True, "debug", "/tmp/ct-compat.log")
    assert (cleared["log_level"], cleared["log_file"]) == (default["log_level"], None)


def test_fd_fallback_needs_the_line_proxies():
    assert snapshot("r.configure_policy(io_capture_line_proxies=False, io_capture_fd_fallback=True)")["io_capture"] == {
        "line_proxies": False,
        "fd_fallback": False,
    }


def test_a_bad_on_recorder_error_is_err_invalid_policy_value():
    found = last_json(run_code("""
        import json, codetracer_python_recorder as r
        try:
            r.configure_policy(on_recorder_error="explode")
        except r.UsageError as error:
            print(json.dumps([error.code, error.kind]))
    """))
    assert found == ["ERR_INVALID_POLICY_VALUE", "Usage"]


@pytest.mark.parametrize(
    ("variable", "value", "key", "expected"),
    [
        ("CODETRACER_ON_RECORDER_ERROR", "DISABLE", "on_recorder_error", "disable"),
        ("CODETRACER_REQUIRE_TRACE", "true", "require_trace", True),
        ("CODETRACER_REQUIRE_TRACE", "1", "require_trace", True),
        ("CODETRACER_KEEP_PARTIAL_TRACE", "yes", "keep_partial_trace", True),
        ("CODETRACER_LOG_LEVEL", "debug", "log_level", "debug"),
        ("CODETRACER_LOG_FILE", "/tmp/ct-compat.log", "log_file", "/tmp/ct-compat.log"),
        ("CODETRACER_JSON_ERRORS", "true", "json_errors", True),
        ("CODETRACER_MODULE_NAME_FROM_GLOBALS", "0", "module_name_from_globals", False),
        ("CODETRACER_PROPAGATE_SCRIPT_EXIT", "false", "propagate_script_exit", False),
        ("CODETRACER_PROPAGATE_SCRIPT_EXIT", "true", "propagate_script_exit", True),
        ("CODETRACER_CAPTURE_IO", "proxies,fd", "io_capture", {"line_proxies": True, "fd_fallback": True}),
        ("CODETRACER_CAPTURE_IO", "proxies+fd", "io_capture", {"line_proxies": True, "fd_fallback": True}),
        ("CODETRACER_CAPTURE_IO", "PROXIES", "io_capture", {"line_proxies": True, "fd_fallback": False}),
        ("CODETRACER_CAPTURE_IO", "fd", "io_capture", {"line_proxies": True, "fd_fallback": True}),
        ("CODETRACER_CAPTURE_IO", "off", "io_capture", {"line_proxies": False, "fd_fallback": False}),
        ("CODETRACER_CAPTURE_IO", "0", "io_capture", {"line_proxies": False, "fd_fallback": False}),
        ("CODETRACER_CAPTURE_IO", "none", "io_capture", {"line_proxies": False, "fd_fallback": False}),
        ("CODETRACER_CAPTURE_IO", "1", "io_capture", {"line_proxies": True, "fd_fallback": False}),
        ("CODETRACER_CAPTURE_IO", "", "io_capture", {"line_proxies": True, "fd_fallback": False}),
    ],
)
def test_each_policy_variable_is_read_on_import(variable, value, key, expected):
    assert snapshot(**{variable: value})[key] == expected


def test_configure_policy_from_env_rereads_the_variables():
    found = last_json(run_code("""
        import json, os, codetracer_python_recorder as r
        os.environ["CODETRACER_KEEP_PARTIAL_TRACE"] = "true"
        r.configure_policy_from_env()
        print(json.dumps(r.policy_snapshot()["keep_partial_trace"]))
    """))
    assert found is True


@differs("explicit-wins")
def test_explicit_settings_win_over_a_later_reading_of_the_environment():
    found = last_json(run_code("""
        import json, codetracer_python_recorder as r
        r.configure_policy(on_recorder_error="abort")
        r.configure_policy_from_env()
        print(json.dumps(r.policy_snapshot()["on_recorder_error"]))
    """, CODETRACER_ON_RECORDER_ERROR="disable"))
    assert found == "abort"


@pytest.mark.parametrize(
    ("variable", "value"),
    [("CODETRACER_REQUIRE_TRACE", "maybe"), ("CODETRACER_CAPTURE_IO", "bogus"), ("CODETRACER_PROPAGATE_SCRIPT_EXIT", "x")],
)
def test_a_bad_variable_is_err_invalid_policy_value_from_configure_policy_from_env(variable, value):
    found = last_json(run_code(f"""
        import json, os
        value = os.environ.pop({variable!r})
        import codetracer_python_recorder as r
        os.environ[{variable!r}] = value
        try:
            r.configure_policy_from_env()
        except r.UsageError as error:
            print(json.dumps([error.code, {variable!r} in str(error) or value in str(error)]))
    """, **{variable: value}))
    assert found == ["ERR_INVALID_POLICY_VALUE", True]


@differs("import-never-raises")
def test_a_bad_variable_never_breaks_import():
    result = run_code("import codetracer_python_recorder\nprint('imported')", CODETRACER_REQUIRE_TRACE="maybe")
    assert (result.returncode, result.stdout) == (0, "imported\n"), result.describe()


@differs("policy-value-types")
def test_boolean_keys_also_take_the_variables_spellings():
    policy = snapshot("r.configure_policy(require_trace='yes', json_errors='off')")
    assert (policy["require_trace"], policy["json_errors"]) == (True, False)


@differs("policy-value-types")
def test_an_unknown_policy_key_is_a_usage_error():
    found = last_json(run_code("""
        import json, codetracer_python_recorder as r
        try:
            r.configure_policy(no_such_key=True)
        except r.UsageError as error:
            print(json.dumps([error.code, "no_such_key" in str(error)]))
    """))
    assert found == ["ERR_INVALID_POLICY_VALUE", True]


def test_json_errors_writes_one_trailer_per_error_with_03s_fields():
    result = run_code("""
        import codetracer_python_recorder as r
        try:
            r.configure_policy(on_recorder_error="explode")
        except r.UsageError:
            print("raised")
    """, CODETRACER_JSON_ERRORS="true")
    assert result.stdout == "raised\n", result.describe()
    trailers = [json.loads(line) for line in result.stderr.splitlines()
                if line.startswith("{") and "error_kind" in line]
    assert len(trailers) == 1, result.stderr
    assert set(trailers[0]) == {"run_id", "trace_id", "error_code", "error_kind", "message", "context"}
    assert (trailers[0]["error_code"], trailers[0]["error_kind"]) == ("ERR_INVALID_POLICY_VALUE", "Usage")
