"""Recorder policy: what happens when the recorder itself fails, how it reports,
and how the command line and capture behave.

The policy in force is made of three layers, later ones winning: the defaults,
the ``CODETRACER_*`` environment variables, and explicit settings from
:func:`configure_policy` (or the CLI flags). Keys and environment variables:

======================== ==================================== ==========================================
key                      variable                             values (default first)
======================== ==================================== ==========================================
on_recorder_error        CODETRACER_ON_RECORDER_ERROR         ``abort``, ``disable``
require_trace            CODETRACER_REQUIRE_TRACE             boolean (false)
keep_partial_trace       CODETRACER_KEEP_PARTIAL_TRACE        boolean (false)
log_level                CODETRACER_LOG_LEVEL                 ``warn``; ``off``/``error``/``info``/
                                                              ``debug``/``trace`` or ``module=level,...``
log_file                 CODETRACER_LOG_FILE                  path; unset means stderr
json_errors              CODETRACER_JSON_ERRORS               boolean (false)
module_name_from_globals CODETRACER_MODULE_NAME_FROM_GLOBALS  boolean (true)
propagate_script_exit    CODETRACER_PROPAGATE_SCRIPT_EXIT     boolean (true; 0.3: false)
io_capture_line_proxies  CODETRACER_CAPTURE_IO                boolean (true)
io_capture_fd_fallback   (same variable)                      boolean (false; needs line proxies)
======================== ==================================== ==========================================

Booleans accept ``1/0``, ``true/false``, ``yes/no``, ``on/off`` in any case
(and ``bool`` through the API). ``CODETRACER_CAPTURE_IO`` takes ``off`` (also
``0``, ``false``, ``none``, ``disabled``), ``proxies`` (also ``1``, ``true``,
``on``), or ``proxies,fd`` / ``proxies+fd`` (``fd`` alone implies proxies).

:func:`configure_policy` has 0.3's signature: ``None`` leaves a key as it is,
``""`` drops the explicit setting so the environment or the default shows
again. A bad key or value raises :class:`~codetracer_python_recorder.errors.UsageError`
(``ERR_INVALID_POLICY_VALUE``) naming the key or variable and the accepted
values, and changes nothing.

The first six keys live in the native module; the last four are kept here
(:data:`SURFACE_KEYS`) until the native layer takes them: the CLI applies
``propagate_script_exit`` itself, and :mod:`.native_bridge` hands the capture
and naming settings to the native ``start``.
"""

from __future__ import annotations

import os

from . import _native
from .errors import UsageError, reports_errors

TYPE_CHECKING = False
if TYPE_CHECKING:
    from typing import Any, Mapping

__all__ = [
    "configure_policy",
    "configure_policy_from_env",
    "policy_snapshot",
    "install_metrics",
    "metrics_snapshot",
    "apply_env_quietly",
    "IoCapture",
    "parse_bool",
    "parse_io_capture",
    "io_capture_setting",
]

#: Keys the native module stores and validates.
NATIVE_KEYS = ("on_recorder_error", "require_trace", "keep_partial_trace", "log_level", "log_file", "json_errors")
#: Keys this module stores (the native layer does not take them yet), with their defaults.
SURFACE_KEYS: dict[str, bool] = {
    "module_name_from_globals": True,
    "propagate_script_exit": True,
    "io_capture_line_proxies": True,
    "io_capture_fd_fallback": False,
}
ENV_MODULE_NAME_FROM_GLOBALS = "CODETRACER_MODULE_NAME_FROM_GLOBALS"
ENV_PROPAGATE_SCRIPT_EXIT = "CODETRACER_PROPAGATE_SCRIPT_EXIT"
ENV_CAPTURE_IO = "CODETRACER_CAPTURE_IO"

_BOOLEANS = {"1": True, "true": True, "yes": True, "on": True, "0": False, "false": False, "no": False, "off": False}
_BOOLEAN_VALUES = "1/0, true/false, yes/no, on/off (any case)"
_CAPTURE_OFF = {"off", "0", "false", "none", "disabled"}
_CAPTURE_ON = {"1", "true", "on"}
_CAPTURE_TOKENS = {"proxies": False, "proxy": False, "fd": True, "mirror": True}
_CAPTURE_VALUES = "off, proxies, proxies,fd (or proxies+fd)"


class IoCapture:
    """How the program's stdout/stderr/stdin are captured into the trace."""

    __slots__ = ("line_proxies", "fd_fallback")

    #: Stream proxies over ``sys.stdout``/``sys.stderr``/``sys.stdin``.
    line_proxies: bool
    #: Also mirror raw file-descriptor writes the proxies did not see (needs the proxies).
    fd_fallback: bool

    def __init__(self, line_proxies: bool = True, fd_fallback: bool = False) -> None:
        self.line_proxies = line_proxies
        self.fd_fallback = fd_fallback

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, IoCapture):
            return NotImplemented
        return (self.line_proxies, self.fd_fallback) == (other.line_proxies, other.fd_fallback)

    def __repr__(self) -> str:
        return f"IoCapture(line_proxies={self.line_proxies!r}, fd_fallback={self.fd_fallback!r})"


def _invalid(key: str, source: str, value: object, accepted: str) -> UsageError:
    return UsageError(
        f"invalid value {value!r} for {source}: accepted values are {accepted}",
        code="ERR_INVALID_POLICY_VALUE",
        context={"key": key, "value": str(value)},
    )


def parse_bool(text: str, key: str, source: str) -> bool:
    """Parses a policy boolean (``1/0``, ``true/false``, ``yes/no``, ``on/off``, any case)."""
    value = _BOOLEANS.get(text.strip().lower())
    if value is None:
        raise _invalid(key, source, text, _BOOLEAN_VALUES)
    return value


def parse_io_capture(text: str, source: str = f"environment variable {ENV_CAPTURE_IO}") -> IoCapture | None:
    """Parses a ``CODETRACER_CAPTURE_IO`` / ``--io-capture`` value; ``None`` for an empty one (the default)."""
    value = text.strip().lower()
    if not value:
        return None
    if value in _CAPTURE_OFF:
        return IoCapture(line_proxies=False, fd_fallback=False)
    if value in _CAPTURE_ON:
        return IoCapture(line_proxies=True, fd_fallback=False)
    fd_fallback = False
    for token in (part.strip() for part in value.replace("+", ",").split(",")):
        if token not in _CAPTURE_TOKENS:
            raise _invalid("io_capture", source, token or text, _CAPTURE_VALUES)
        fd_fallback = fd_fallback or _CAPTURE_TOKENS[token]
    return IoCapture(line_proxies=True, fd_fallback=fd_fallback)


class _SurfaceStore:
    """The layers (environment, explicit) of the keys in :data:`SURFACE_KEYS`."""

    def __init__(self) -> None:
        self.env: dict[str, bool] = {}
        self.explicit: dict[str, bool] = {}

    def value(self, key: str) -> bool:
        if key in self.explicit:
            return self.explicit[key]
        return self.env.get(key, SURFACE_KEYS[key])

    def read_env(self) -> UsageError | None:
        """Re-reads the variables: the good ones apply, the first bad one is returned."""
        env: dict[str, bool] = {}
        first_error: UsageError | None = None
        for key, name in (("module_name_from_globals", ENV_MODULE_NAME_FROM_GLOBALS),
                          ("propagate_script_exit", ENV_PROPAGATE_SCRIPT_EXIT)):
            text = os.environ.get(name)
            if text is None:
                continue
            try:
                env[key] = parse_bool(text, key, f"environment variable {name}")
            except UsageError as error:
                first_error = first_error or error
        capture_text = os.environ.get(ENV_CAPTURE_IO)
        if capture_text is not None:
            try:
                capture = parse_io_capture(capture_text)
            except UsageError as error:
                first_error = first_error or error
            else:
                if capture is not None:
                    env["io_capture_line_proxies"] = capture.line_proxies
                    env["io_capture_fd_fallback"] = capture.fd_fallback
        self.env = env
        return first_error


_surface = _SurfaceStore()


def _surface_value(key: str, value: object) -> bool | None:
    """Validates an explicit setting of a surface key; ``None`` means "drop the explicit setting"."""
    if isinstance(value, bool):
        return value
    if isinstance(value, str):
        return None if value == "" else parse_bool(value, key, f"policy key `{key}`")
    raise _invalid(key, f"policy key `{key}`", value, _BOOLEAN_VALUES)


@reports_errors
def configure_policy(
    on_recorder_error: str | None = None,
    require_trace: bool | str | None = None,
    keep_partial_trace: bool | str | None = None,
    log_level: str | None = None,
    log_file: str | os.PathLike[str] | None = None,
    json_errors: bool | str | None = None,
    io_capture_line_proxies: bool | str | None = None,
    io_capture_fd_fallback: bool | str | None = None,
    module_name_from_globals: bool | str | None = None,
    propagate_script_exit: bool | str | None = None,
    **others: Any,
) -> None:
    """Sets policy keys explicitly: they win over the environment.

    ``None`` leaves a key unchanged; ``""`` drops its explicit setting. A bad
    value or an unknown key raises ``UsageError`` (``ERR_INVALID_POLICY_VALUE``)
    naming it; a rejected call changes nothing.
    """
    given = dict(locals())
    native = {key: (None if given[key] == "" else given[key]) for key in NATIVE_KEYS if given[key] is not None}
    native.update(others)  # unknown keys: the native layer refuses them by name
    surface = {key: _surface_value(key, given[key]) for key in SURFACE_KEYS if given[key] is not None}
    _native.configure_policy(**native)
    for key, value in surface.items():
        if value is None:
            _surface.explicit.pop(key, None)
        else:
            _surface.explicit[key] = value


@reports_errors
def configure_policy_from_env() -> None:
    """Re-reads the ``CODETRACER_*`` policy variables. The good ones apply; a bad one raises ``UsageError`` naming it."""
    surface_error = _surface.read_env()
    _native.configure_policy_from_env()
    if surface_error is not None:
        raise surface_error


def apply_env_quietly() -> str | None:
    """Applies the environment policy without raising (used on import).

    Returns the text of the first bad variable's error, or ``None``. The error
    is raised for real (as ``UsageError``) by the next ``start()`` or by the CLI.
    """
    surface_error = _surface.read_env()
    native_error = _native.apply_env_policy()
    return native_error or (None if surface_error is None else str(surface_error))


def io_capture_setting() -> IoCapture:
    """The capture settings in force (the descriptor mirror only with the proxies on)."""
    proxies = _surface.value("io_capture_line_proxies")
    return IoCapture(line_proxies=proxies, fd_fallback=proxies and _surface.value("io_capture_fd_fallback"))


def policy_snapshot() -> dict[str, Any]:
    """The policy in force as a dict (0.3's keys, ``io_capture`` as a nested dict)."""
    snapshot: dict[str, Any] = dict(_native.policy_snapshot())
    snapshot["module_name_from_globals"] = _surface.value("module_name_from_globals")
    snapshot["propagate_script_exit"] = _surface.value("propagate_script_exit")
    capture = io_capture_setting()
    snapshot["io_capture"] = {"line_proxies": capture.line_proxies, "fd_fallback": capture.fd_fallback}
    return snapshot


def current(key: str) -> Any:
    """One value of the policy in force."""
    return policy_snapshot()[key]


def coerce_overrides(policy: Mapping[str, object]) -> dict[str, object]:
    """The ``policy=`` mapping of ``start()``/``trace()`` as ``configure_policy`` keywords."""
    coerced: dict[str, object] = {}
    for key, value in policy.items():
        if key == "log_file" and value is not None:
            coerced[key] = os.fspath(value)  # type: ignore[arg-type]
        elif key in ("on_recorder_error", "log_level") and value is not None:
            coerced[key] = str(value)
        else:
            coerced[key] = value
    return coerced


#: Installs a metrics collector: a callable ``f(metric, name)`` or an object with
#: ``record_dropped_event``/``record_detach``/``record_panic`` methods (``None`` removes it).
install_metrics = _native.install_metrics
#: Counters of dropped events, detaches and caught panics since the process started.
metrics_snapshot = _native.metrics_snapshot
