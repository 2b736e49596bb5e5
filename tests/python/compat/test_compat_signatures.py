"""Signatures as 0.3 had them (``inspect.signature``): every 0.3 call is valid here.

Each 0.3 parameter must be here with the same name, kind, position and
default. Extra parameters are allowed only where no 0.3 call can reach them:
keyword-only with a default, ``**kwargs``, or (``TraceSession``) a default for
a parameter 0.3 required.
"""

from __future__ import annotations

import pytest

from compat_support import last_json, run_code

REQUIRED = "<required>"
PK, KW = "POSITIONAL_OR_KEYWORD", "KEYWORD_ONLY"
POLICY_KEYS = [
    "on_recorder_error", "require_trace", "keep_partial_trace", "log_level", "log_file", "json_errors",
    "io_capture_line_proxies", "io_capture_fd_fallback", "module_name_from_globals", "propagate_script_exit",
]

#: "module:qualified name" -> 0.3's parameters as (name, kind, default repr).
SIGNATURES_03 = {
    "codetracer_python_recorder:start": [
        ("path", PK, REQUIRED), ("format", KW, "'binary'"), ("start_on_enter", KW, "None"),
        ("trace_filter", KW, "None"), ("policy", KW, "None"), ("apply_env_policy", KW, "True"),
    ],
    "codetracer_python_recorder:stop": [("exit_code", KW, "None")],
    "codetracer_python_recorder:is_tracing": [],
    "codetracer_python_recorder:flush": [],
    "codetracer_python_recorder:trace": [
        ("path", PK, REQUIRED), ("format", KW, "'binary'"), ("trace_filter", KW, "None"),
        ("policy", KW, "None"), ("apply_env_policy", KW, "True"),
    ],
    "codetracer_python_recorder:TraceSession": [("path", PK, REQUIRED), ("format", PK, REQUIRED)],
    "codetracer_python_recorder:TraceSession.stop": [("self", PK, REQUIRED), ("exit_code", KW, "None")],
    "codetracer_python_recorder:TraceSession.flush": [("self", PK, REQUIRED)],
    "codetracer_python_recorder:TraceSession.__enter__": [("self", PK, REQUIRED)],
    "codetracer_python_recorder:TraceSession.__exit__": [
        ("self", PK, REQUIRED), ("exc_type", PK, REQUIRED), ("exc", PK, REQUIRED), ("tb", PK, REQUIRED),
    ],
    "codetracer_python_recorder:configure_policy": [(key, PK, "None") for key in POLICY_KEYS],
    "codetracer_python_recorder:configure_policy_from_env": [],
    "codetracer_python_recorder:policy_snapshot": [],
    "codetracer_python_recorder:auto_start_from_env": [],
    "codetracer_python_recorder.formats:normalize_format": [("value", PK, REQUIRED)],
    "codetracer_python_recorder.formats:is_supported": [("value", PK, REQUIRED)],
    "codetracer_python_recorder.cli:main": [("argv", PK, "None")],
    "codetracer_python_recorder.trace_balance:load_trace_events": [("trace_path", PK, REQUIRED)],
    "codetracer_python_recorder.trace_balance:summarize_trace_balance": [("events", PK, REQUIRED)],
    "codetracer_python_recorder.codetracer_python_recorder:start_tracing": [
        ("path", PK, REQUIRED), ("format", PK, REQUIRED), ("activation_path", PK, "None"), ("trace_filter", PK, "None"),
    ],
    "codetracer_python_recorder.codetracer_python_recorder:stop_tracing": [("exit_code", PK, "None")],
    "codetracer_python_recorder.codetracer_python_recorder:is_tracing": [],
    "codetracer_python_recorder.codetracer_python_recorder:flush_tracing": [],
}

#: Where a default for a parameter 0.3 required is accepted (a superset of 0.3's calls).
NEWLY_OPTIONAL = {("codetracer_python_recorder:TraceSession", "format")}


def _signature_here(target: str) -> list[list[str]]:
    module, qualname = target.split(":")
    return last_json(run_code(f"""
        import importlib, inspect, json
        obj = importlib.import_module({module!r})
        for part in {qualname!r}.split("."):
            obj = getattr(obj, part)
        params = inspect.signature(obj).parameters.values()
        print(json.dumps([[p.name, p.kind.name, "{REQUIRED}" if p.default is p.empty else repr(p.default)]
                          for p in params]))
    """))


def _problems(target: str, old: list[tuple[str, str, str]], new: list[list[str]]) -> list[str]:
    problems = []
    here = {name: (index, kind, default) for index, (name, kind, default) in enumerate(new)}
    for index, (name, kind, default) in enumerate(old):
        if name not in here:
            problems.append(f"missing parameter {name}")
            continue
        position, kind_here, default_here = here[name]
        if kind_here != kind:
            problems.append(f"{name}: kind {kind_here}, 0.3 {kind}")
        if kind == PK and position != index:
            problems.append(f"{name}: position {position}, 0.3 {index}")
        if default_here != default and not (default == REQUIRED and (target, name) in NEWLY_OPTIONAL):
            problems.append(f"{name}: default {default_here}, 0.3 {default}")
    known = {name for name, _, _ in old}
    for name, kind, default in new:
        if name in known or kind == "VAR_KEYWORD" or (kind == KW and default != REQUIRED):
            continue
        problems.append(f"extra parameter {name} ({kind}, default {default}) changes 0.3 calls")
    return problems


@pytest.mark.parametrize("target", sorted(SIGNATURES_03))
def test_signature_accepts_every_03_call(target):
    assert _problems(target, SIGNATURES_03[target], _signature_here(target)) == []
