"""Every public name of 0.3 at 0.3's import path, constants and exception classes."""

from __future__ import annotations

import pytest

from compat_support import last_json, run_code

API_NAMES = ["TraceSession", "DEFAULT_FORMAT", "TRACE_BINARY", "TRACE_JSON", "start", "stop", "is_tracing", "trace", "flush"]
ERROR_NAMES = ["RecorderError", "UsageError", "EnvironmentError", "TargetError", "InternalError"]
POLICY_NAMES = ["configure_policy", "configure_policy_from_env", "policy_snapshot"]

#: module -> names it exports in 0.3.
MODULES = {
    "codetracer_python_recorder": [*API_NAMES, *ERROR_NAMES, *POLICY_NAMES, "auto_start_from_env"],
    "codetracer_python_recorder.api": API_NAMES,
    "codetracer_python_recorder.session": ["TraceSession", "start", "stop", "is_tracing", "trace", "flush"],
    "codetracer_python_recorder.formats": [
        "DEFAULT_FORMAT", "TRACE_BINARY", "TRACE_JSON", "SUPPORTED_FORMATS", "is_supported", "normalize_format",
    ],
    "codetracer_python_recorder.auto_start": ["ENV_TRACE_PATH", "ENV_TRACE_FORMAT", "ENV_TRACE_FILTER", "auto_start_from_env"],
    "codetracer_python_recorder.cli": ["main", "RecorderCLIConfig"],
    "codetracer_python_recorder.trace_balance": [
        "TraceBalanceError", "TraceBalanceResult", "load_trace_events", "summarize_trace_balance",
    ],
    "codetracer_python_recorder.codetracer_python_recorder": [
        *ERROR_NAMES, "start_tracing", "stop_tracing", "is_tracing", "flush_tracing", *POLICY_NAMES,
    ],
}


@pytest.mark.parametrize("module", sorted(MODULES))
def test_every_03_name_is_importable_from_its_module(module):
    names = MODULES[module]
    found = last_json(run_code(f"""
        import importlib, json
        module = importlib.import_module({module!r})
        print(json.dumps([name for name in {names!r} if not hasattr(module, name)]))
    """))
    assert found == [], f"{module} lacks {found}"


@pytest.mark.parametrize("module", ["codetracer_python_recorder", "codetracer_python_recorder.api",
                                    "codetracer_python_recorder.formats", "codetracer_python_recorder.cli",
                                    "codetracer_python_recorder.trace_balance"])
def test_all_lists_every_03_export(module):
    listed = last_json(run_code(f"""
        import importlib, json
        print(json.dumps(list(importlib.import_module({module!r}).__all__)))
    """))
    expected = {
        "codetracer_python_recorder": [*API_NAMES, *ERROR_NAMES, *POLICY_NAMES],
        "codetracer_python_recorder.api": API_NAMES,
        "codetracer_python_recorder.formats": MODULES["codetracer_python_recorder.formats"],
        "codetracer_python_recorder.cli": MODULES["codetracer_python_recorder.cli"],
        "codetracer_python_recorder.trace_balance": MODULES["codetracer_python_recorder.trace_balance"],
    }[module]
    assert set(expected) <= set(listed)


def test_format_constants_and_helpers():
    assert last_json(run_code("""
        import json
        import codetracer_python_recorder as r
        from codetracer_python_recorder import formats as f
        print(json.dumps([r.TRACE_JSON, r.TRACE_BINARY, r.DEFAULT_FORMAT, sorted(f.SUPPORTED_FORMATS),
                          f.normalize_format(None), f.normalize_format("JSON"), f.normalize_format("Xml"),
                          f.is_supported("Binary"), f.is_supported("json"), f.is_supported("xml")]))
    """)) == ["json", "binary", "binary", ["binary", "json"], "binary", "json", "xml", True, True, False]


def test_auto_start_variable_names():
    assert last_json(run_code("""
        import json
        from codetracer_python_recorder import auto_start as a
        print(json.dumps([a.ENV_TRACE_PATH, a.ENV_TRACE_FORMAT, a.ENV_TRACE_FILTER]))
    """)) == ["CODETRACER_TRACE", "CODETRACER_FORMAT", "CODETRACER_TRACE_FILTER"]


def test_exception_hierarchy_and_attributes_are_shared_with_the_native_path():
    found = last_json(run_code("""
        import json
        import codetracer_python_recorder as r
        import codetracer_python_recorder.codetracer_python_recorder as native
        names = ["UsageError", "EnvironmentError", "TargetError", "InternalError"]
        same = [getattr(r, n) is getattr(native, n) for n in ["RecorderError", *names]]
        subclass = [issubclass(getattr(r, n), r.RecorderError) for n in names]
        try:
            r.configure_policy(on_recorder_error="explode")
        except r.UsageError as error:
            caught = [error.code, error.kind, isinstance(error.context, dict), isinstance(error, Exception)]
        print(json.dumps([same, subclass, caught]))
    """))
    assert found == [[True] * 5, [True] * 4, ["ERR_INVALID_POLICY_VALUE", "Usage", True, True]]


def test_recorder_cli_config_has_03s_fields():
    fields = last_json(run_code("""
        import dataclasses, json
        from codetracer_python_recorder.cli import RecorderCLIConfig
        print(json.dumps([dataclasses.is_dataclass(RecorderCLIConfig),
                          RecorderCLIConfig.__dataclass_params__.frozen,
                          [f.name for f in dataclasses.fields(RecorderCLIConfig)]]))
    """))
    assert fields[:2] == [True, True]
    assert ["trace_dir", "format", "activation_path", "script", "script_args", "trace_filter",
            "policy_overrides"] == fields[2][:7]
