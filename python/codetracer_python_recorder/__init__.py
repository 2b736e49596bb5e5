"""Records CPython program execution into CodeTracer trace files.

>>> import codetracer_python_recorder as recorder
>>> with recorder.trace("trace-out/run"):      # doctest: +SKIP
...     main()

Importing the package applies the ``CODETRACER_*`` policy variables (never
raising: a bad value is reported by ``start()`` and the CLI as ``UsageError``)
and, when ``CODETRACER_TRACE`` is set, starts recording until interpreter exit.
"""

from __future__ import annotations

from . import _native
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
from .session import TraceSession, flush, is_tracing, start, stop, trace

__all__ = [
    "start",
    "stop",
    "flush",
    "is_tracing",
    "trace",
    "recover",
    "Recovery",
    "TraceSession",
    "configure_policy",
    "configure_policy_from_env",
    "policy_snapshot",
    "install_metrics",
    "metrics_snapshot",
    "RecorderError",
    "UsageError",
    "EnvironmentError",
    "TargetError",
    "InternalError",
]


def _on_import() -> None:
    from .autostart import autostart_from_env
    from .policy import apply_env_quietly

    apply_env_quietly()
    autostart_from_env()


_on_import()
del _on_import
