"""Exceptions raised by the recorder.

Every failure is a :class:`RecorderError` (or one of its four subclasses, one
per error kind) carrying a stable ``code`` (``ERR_*``), a ``kind``
(``Usage``/``Environment``/``Target``/``Internal``) and a ``context`` dict.
The native module instantiates these classes, so ``except UsageError`` works
for errors raised from Rust and from the package's own Python code alike.

With the policy's ``json_errors`` on, every error that leaves the package
writes one JSON trailer line on stderr: the native layer writes it for the
errors it raises, and the package's public functions (decorated with
:func:`reports_errors`) for the errors its Python code raises.
"""

from __future__ import annotations

from . import _native

TYPE_CHECKING = False
if TYPE_CHECKING:
    from typing import Any, Callable, Mapping, TypeVar

    _Function = TypeVar("_Function", bound=Callable[..., Any])

__all__ = [
    "RecorderError",
    "UsageError",
    "EnvironmentError",
    "TargetError",
    "InternalError",
    "EXIT_CODES",
    "report",
    "reports_errors",
]

#: Process exit code of a run aborted by an error of each kind (``"Usage"`` ->
#: 2, ...), as the native module defines them.
EXIT_CODES: dict[str, int] = dict(_native.EXIT_CODES)


class RecorderError(Exception):
    """Base class of every recorder error.

    ``str(e)`` reads ``[ERR_CODE] message (key=value, ...)``.
    """

    default_kind = "Internal"
    #: Whether the error's JSON trailer was dealt with when it surfaced (the
    #: native layer sets it on the errors it raises, :func:`report` on the others).
    _reported = False

    def __init__(
        self,
        message: str,
        *,
        code: str = "ERR_UNKNOWN",
        kind: str | None = None,
        context: Mapping[str, Any] | None = None,
    ) -> None:
        super().__init__(message)
        self.message = str(message)
        self.code = code
        self.kind = kind or self.default_kind
        self.context = dict(context or {})

    @property
    def exit_code(self) -> int:
        """The documented exit code of a run aborted by this error."""
        return EXIT_CODES.get(self.kind, EXIT_CODES["Internal"])

    def __str__(self) -> str:
        text = f"[{self.code}] {self.message}"
        if self.context:
            details = ", ".join(f"{key}={value}" for key, value in self.context.items())
            text = f"{text} ({details})"
        return text

    def __repr__(self) -> str:
        return f"{type(self).__name__}({self.message!r}, code={self.code!r}, kind={self.kind!r}, context={self.context!r})"

    def __reduce__(self):
        return (_rebuild, (type(self), self.message, self.code, self.kind, self.context))


def _rebuild(cls, message, code, kind, context):
    return cls(message, code=code, kind=kind, context=context)


def report(error: RecorderError) -> None:
    """Writes ``error``'s JSON trailer on stderr (when ``json_errors`` is on), once per error."""
    if error._reported:
        return
    error._reported = True
    _native.write_error_trailer(error.code, error.kind, error.message, {str(k): str(v) for k, v in error.context.items()})


#: What ``functools.wraps`` copies (the decorator avoids importing ``functools``
#: and what it pulls in: the package loads on the program's start-up path).
_WRAPPED_ATTRIBUTES = ("__module__", "__name__", "__qualname__", "__doc__", "__annotations__", "__type_params__")


def reports_errors(function: _Function) -> _Function:
    """Decorates a public function: a ``RecorderError`` leaving it gets its JSON trailer (:func:`report`)."""

    def wrapper(*args: Any, **kwargs: Any) -> Any:
        try:
            return function(*args, **kwargs)
        except RecorderError as error:
            report(error)
            raise

    for attribute in _WRAPPED_ATTRIBUTES:
        setattr(wrapper, attribute, getattr(function, attribute))
    wrapper.__dict__.update(function.__dict__)
    wrapper.__wrapped__ = function  # type: ignore[attr-defined]
    return wrapper  # type: ignore[return-value]


class UsageError(RecorderError):
    """The recorder was used wrongly: bad argument, policy value or output path (exit code 2)."""

    default_kind = "Usage"


class EnvironmentError(RecorderError):  # noqa: A001 - the contract's name
    """The environment failed: disk full, permission denied, signal (exit code 10)."""

    default_kind = "Environment"


class TargetError(RecorderError):
    """The traced program or its objects misbehaved (exit code 20)."""

    default_kind = "Target"


class InternalError(RecorderError):
    """A recorder bug, e.g. a caught Rust panic (exit code 70)."""

    default_kind = "Internal"

