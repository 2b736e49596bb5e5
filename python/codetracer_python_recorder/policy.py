"""Recorder policy: what happens when the recorder itself fails, how it reports,
and which of the program's standard streams it records.

The policy in force is one global snapshot in the native module, made of three
layers, later ones winning: the defaults, the ``CODETRACER_*`` environment
variables, and explicit settings from :func:`configure_policy` (or the CLI
flags). Keys and environment variables:

================== ================================ ======================================
key                variable                         values
================== ================================ ======================================
on_recorder_error  CODETRACER_ON_RECORDER_ERROR     ``abort`` (default) or ``disable``
require_trace      CODETRACER_REQUIRE_TRACE         boolean (default false)
keep_partial_trace CODETRACER_KEEP_PARTIAL_TRACE    boolean (default false)
log_level          CODETRACER_LOG_LEVEL             ``error``/``warn``/``info``/``debug``/
                                                    ``trace``/``off`` or ``module=level,...``
log_file           CODETRACER_LOG_FILE              path; empty or unset means stderr
json_errors        CODETRACER_JSON_ERRORS           boolean (default false)
io_capture         CODETRACER_CAPTURE_IO            ``off``, ``proxies`` (default) or
                                                    ``proxies,fd`` (also ``proxies+fd``)
================== ================================ ======================================

Booleans accept ``1/0``, ``true/false``, ``yes/no``, ``on/off`` in any case
(and Python ``bool`` through the API). ``io_capture`` sets the two keys 0.3
also accepts, ``io_capture_line_proxies`` and ``io_capture_fd_fallback``
(booleans, API only); the snapshot shows them as
``{"io_capture": {"line_proxies": ..., "fd_fallback": ...}}``. A bad key or value raises
:class:`~codetracer_python_recorder.errors.UsageError` with code
``ERR_INVALID_POLICY_VALUE`` naming the key or variable and the accepted values.
"""

from __future__ import annotations

from typing import Any

from . import _native

__all__ = [
    "configure_policy",
    "configure_policy_from_env",
    "policy_snapshot",
    "install_metrics",
    "metrics_snapshot",
    "apply_env_quietly",
]

#: Explicit settings win over the environment; ``key=None`` drops an explicit setting.
configure_policy = _native.configure_policy
#: Re-reads the ``CODETRACER_*`` policy variables; a bad one raises ``UsageError``.
configure_policy_from_env = _native.configure_policy_from_env
#: The policy in force as a dict.
policy_snapshot = _native.policy_snapshot
#: Installs a metrics collector: a callable ``f(metric, name)`` or an object with
#: ``record_dropped_event``/``record_detach``/``record_panic`` methods (``None`` removes it).
install_metrics = _native.install_metrics
#: Counters of dropped events, detaches and caught panics since the process started.
metrics_snapshot = _native.metrics_snapshot


def apply_env_quietly() -> str | None:
    """Applies the environment policy without raising (used on import).

    Returns the text of the first bad variable's error, or ``None``. The error
    is raised for real (as ``UsageError``) by the next ``start()`` or by the CLI.
    """
    return _native.apply_env_policy()


def current(key: str) -> Any:
    """One value of the policy in force."""
    return policy_snapshot()[key]
