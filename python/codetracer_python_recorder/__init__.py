"""Records CPython program execution into CodeTracer trace files.

>>> import codetracer_python_recorder as recorder
>>> with recorder.trace("trace-out/run", format=recorder.TRACE_JSON):  # doctest: +SKIP
...     main()

The public names and signatures are those of codetracer-python-recorder 0.3
(differences: ``docs/compatibility.md``). Importing the package applies the
``CODETRACER_*`` policy variables (never raising: a bad value is reported by
``start()`` and the CLI as ``UsageError``) and, when ``CODETRACER_TRACE`` is
set, starts recording until interpreter exit.

The public names load on first use (PEP 562), so importing the package costs
only the modules a recording needs. ``python -m codetracer_python_recorder``
imports nothing more than :mod:`.launcher` before it re-executes the
interpreter (the re-executed process applies the variables).
"""

from . import launcher as _launcher

__all__ = [
    "TraceSession",
    "DEFAULT_FORMAT",
    "TRACE_BINARY",
    "TRACE_JSON",
    "start",
    "stop",
    "is_tracing",
    "trace",
    "flush",
    "recover",
    "Recovery",
    "RecorderError",
    "UsageError",
    "EnvironmentError",
    "TargetError",
    "InternalError",
    "configure_policy",
    "configure_policy_from_env",
    "policy_snapshot",
    "install_metrics",
    "metrics_snapshot",
]

#: Where each public name lives (imported on first access).
_HOMES = {
    "TraceSession": "session",
    "start": "session",
    "stop": "session",
    "is_tracing": "session",
    "trace": "session",
    "flush": "session",
    "DEFAULT_FORMAT": "formats",
    "TRACE_BINARY": "formats",
    "TRACE_JSON": "formats",
    "recover": "recover",
    "Recovery": "recover",
    "RecorderError": "errors",
    "UsageError": "errors",
    "EnvironmentError": "errors",
    "TargetError": "errors",
    "InternalError": "errors",
    "configure_policy": "policy",
    "configure_policy_from_env": "policy",
    "policy_snapshot": "policy",
    "install_metrics": "policy",
    "metrics_snapshot": "policy",
    "auto_start_from_env": "auto_start",
}

#: The package's modules, reachable as attributes as after an eager import
#: (``codetracer_python_recorder`` is 0.3's import path of the native module).
_SUBMODULES = frozenset({
    "api", "auto_start", "cli", "codetracer_python_recorder", "errors", "filter_paths", "formats", "launcher",
    "native_bridge", "policy", "recover", "session", "target", "trace_balance", "usage_errors",
})


def _submodule(name: str) -> object:
    qualified = f"{__name__}.{name}"
    __import__(qualified)
    import sys

    return sys.modules[qualified]


def __getattr__(name: str) -> object:
    """Loads a public name (or a submodule) on first access and keeps it."""
    home = _HOMES.get(name)
    if home is not None:
        value = getattr(_submodule(home), name)
    elif name in _SUBMODULES:
        value = _submodule(name)
    else:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    globals()[name] = value
    return value


def __dir__() -> list[str]:
    return sorted({*globals(), *_HOMES, *_SUBMODULES})


def _apply_environment() -> None:
    """What importing the package does: the ``CODETRACER_*`` policy variables, then ``CODETRACER_TRACE``."""
    from .auto_start import auto_start_from_env
    from .policy import apply_env_quietly

    apply_env_quietly()
    auto_start_from_env()


if not _launcher.about_to_reexecute():
    _apply_environment()
