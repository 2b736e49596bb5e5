"""Records CPython program execution into CodeTracer trace files.

>>> import codetracer_python_recorder as recorder
>>> with recorder.trace("trace-out/run", format=recorder.TRACE_JSON):  # doctest: +SKIP
...     main()

The public names and signatures are those of codetracer-python-recorder 0.3
(differences: ``docs/compatibility.md``). Importing the package applies the
``CODETRACER_*`` policy variables (never raising: a bad value is reported by
``start()`` and the CLI as ``UsageError``) and, when ``CODETRACER_TRACE`` is
set, starts recording until interpreter exit.
"""

from __future__ import annotations

from . import codetracer_python_recorder  # noqa: F401 - 0.3's import path of the native module
from .api import (
    DEFAULT_FORMAT,
    TRACE_BINARY,
    TRACE_JSON,
    TraceSession,
    flush,
    is_tracing,
    start,
    stop,
    trace,
)
from .auto_start import auto_start_from_env
from .errors import (
    EnvironmentError,
    InternalError,
    RecorderError,
    TargetError,
    UsageError,
)
from .policy import (
    configure_policy,
    configure_policy_from_env,
    install_metrics,
    metrics_snapshot,
    policy_snapshot,
)
from .recover import Recovery, recover

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


def _on_import() -> None:
    from .policy import apply_env_quietly

    apply_env_quietly()
    auto_start_from_env()


_on_import()
del _on_import
