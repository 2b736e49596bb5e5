"""Command line: record a script (or ``-m module``) into a trace directory.

``python -m codetracer_python_recorder [options] (script.py | -m module) [args...]``

``python -m codetracer_python_recorder recover DIR`` turns the trace directory
of a recording whose process died into a partial trace (see :mod:`.recover`);
a script named ``recover`` runs as ``./recover``.

Everything after the script (or the module name) belongs to the program; one
``--`` right after the script is a separator and is dropped (as in 0.3). The
program runs as under plain ``python``: same ``sys.argv``, ``sys.path[0]``,
``__file__``, ``__main__`` globals, tracebacks and exit status, with at most
two frames of the recorder's below it (see :mod:`.launcher`).

The exit status is the program's own unless ``--no-propagate-script-exit``
(then 0, with a note on stderr when the program's was not) or the recorder
fails under ``on_recorder_error=abort``: then it is the error kind's code
(Usage 2, Environment 10, Target 20, Internal 70). A bad option, policy value
or filter exits 2 before anything runs. The recorder writes only to stderr.
"""

from __future__ import annotations

import argparse
import os
import sys

from . import _native
from .auto_start import ENV_TRACE_FILTER
from .errors import RecorderError, report
from .filter_paths import normalize_trace_filter
from .formats import DEFAULT_FORMAT, SUPPORTED_FORMATS, normalize_format
from .policy import configure_policy, configure_policy_from_env, current, parse_io_capture
from .session import start, stop
from .target import Program, outcome, prepare_module, prepare_script, reraise_reported, say

TYPE_CHECKING = False
if TYPE_CHECKING:
    from collections.abc import Iterable, Sequence

__all__ = ["main", "RecorderCLIConfig", "DEFAULT_OUT_DIR"]

#: Trace directory when neither ``--out-dir`` nor ``--trace-dir`` is given
#: (relative to the working directory, as in codetracer-python-recorder 0.3).
DEFAULT_OUT_DIR = "trace-out"

PROG = "python -m codetracer_python_recorder"


def __getattr__(name: str) -> object:
    """``RecorderCLIConfig`` (0.3's frozen dataclass) is built on first access: the
    command line itself does not use it, and ``dataclasses`` imports ``inspect``."""
    if name != "RecorderCLIConfig":
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    from dataclasses import make_dataclass
    from pathlib import Path

    config = make_dataclass(
        "RecorderCLIConfig",
        [
            ("trace_dir", Path),
            ("format", str),
            ("activation_path", "Path | None"),
            ("script", "Path | None"),
            ("script_args", list[str]),
            ("trace_filter", tuple[str, ...]),
            ("policy_overrides", dict[str, object]),
            ("module", "str | None", None),
        ],
        frozen=True,
        module=__name__,
    )
    config.__doc__ = "The resolved options of one invocation (0.3's fields, plus ``module`` for ``-m``)."
    globals()[name] = config
    return config


#: Policy flags with a value: key -> (spelling, 0.3 spelling).
_VALUE_FLAGS = {
    "on_recorder_error": ("--codetracer-on-recorder-error", "--on-recorder-error"),
    "log_level": ("--codetracer-log-level", "--log-level"),
    "log_file": ("--codetracer-log-file", "--log-file"),
}
#: Boolean policy flags that 0.3 spelled as switches: key -> (spelling, 0.3 switch).
_SWITCH_FLAGS = {
    "require_trace": ("--codetracer-require-trace", "--require-trace"),
    "keep_partial_trace": ("--codetracer-keep-partial-trace", "--keep-partial-trace"),
    "json_errors": ("--codetracer-json-errors", "--json-errors"),
    "follow_fork": ("--codetracer-follow-fork", "--follow-fork"),
}
#: Boolean policy flags that 0.3 spelled ``--X``/``--no-X``: key -> (spelling, 0.3 spelling).
_TOGGLE_FLAGS = {
    "module_name_from_globals": ("--codetracer-module-name-from-globals", "--module-name-from-globals"),
    "propagate_script_exit": ("--codetracer-propagate-script-exit", "--propagate-script-exit"),
}


def _io_capture(text: str) -> str:
    """argparse type of ``--io-capture``: 0.3's ``off``/``proxies``/``proxies+fd`` (and the variable's spellings)."""
    try:
        parse_io_capture(text, "--io-capture")
    except RecorderError as error:
        raise argparse.ArgumentTypeError(str(error)) from None
    return text


def _format(text: str) -> str:
    normalized = normalize_format(text)
    if normalized not in SUPPORTED_FORMATS:
        raise argparse.ArgumentTypeError(
            f"unsupported trace format '{text}'. Expected one of: {', '.join(sorted(SUPPORTED_FORMATS))}"
        )
    return normalized


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog=PROG,
        usage=f"{PROG} [options] (script.py | -m module) [args...]",
        description="Record a Python program into a CodeTracer trace directory.",
        allow_abbrev=False,
    )
    where = parser.add_mutually_exclusive_group()
    where.add_argument("--out-dir", dest="out_dir", metavar="DIR", help=f"trace directory (default: ./{DEFAULT_OUT_DIR})")
    where.add_argument("--trace-dir", dest="out_dir", metavar="DIR", help="0.3 spelling of --out-dir")
    parser.add_argument("--format", type=_format, default=DEFAULT_FORMAT,
                        help=f"trace format: binary or json (default: {DEFAULT_FORMAT})")
    parser.add_argument("--activation-path", metavar="PATH",
                        help="start recording when code from this file runs (default: the script itself)")
    parser.add_argument("--trace-filter", action="append", default=[], metavar="FILE[::FILE...]",
                        help="trace filter file; repeat or join with '::' to chain (after CODETRACER_TRACE_FILTER)")
    policy = parser.add_argument_group("recorder policy (also set by CODETRACER_* variables; flags win)")
    policy.add_argument(*_VALUE_FLAGS["on_recorder_error"], dest="on_recorder_error", metavar="abort|disable",
                        help="after a recorder failure: abort with its exit code, or disable and run on")
    for key, help_text in (
        ("require_trace", "finishing without a trace is an error (ERR_TRACE_MISSING, exit 10)"),
        ("keep_partial_trace", "on failure keep the staged files, marked partial"),
        ("json_errors", "one JSON trailer line on stderr per recorder error"),
        ("follow_fork", "record each forked child into <out-dir>.fork-<pid>"),
    ):
        policy.add_argument(*_SWITCH_FLAGS[key], dest=key, nargs="?", const="true", metavar="BOOL", help=help_text)
    policy.add_argument(*_VALUE_FLAGS["log_level"], dest="log_level", metavar="LEVEL",
                        help="error|warn|info|debug|trace|off or module=level,...")
    policy.add_argument(*_VALUE_FLAGS["log_file"], dest="log_file", metavar="FILE",
                        help="append JSON log lines to FILE instead of stderr")
    policy.add_argument("--io-capture", "--codetracer-io-capture", dest="io_capture", type=_io_capture,
                        metavar="off|proxies|proxies+fd", help="capture of stdout/stderr (default: proxies)")
    for key, help_text in (
        ("module_name_from_globals", "name module-level code after the frame's __name__ (default: on)"),
        ("propagate_script_exit", "exit with the program's status (default: on; off exits 0 after a note)"),
    ):
        spelling, old = _TOGGLE_FLAGS[key]
        policy.add_argument(spelling, dest=key, nargs="?", const="true", metavar="BOOL", help=help_text)
        # BooleanOptionalAction adds the ``--no-`` spelling itself.
        policy.add_argument(old, dest=key, action=argparse.BooleanOptionalAction, help=f"0.3 spelling of {spelling}")
    return parser


def _value_options(parser: argparse.ArgumentParser) -> frozenset[str]:
    """The option strings that take the next argument as their value."""
    return frozenset(
        spelling
        for action in parser._actions  # noqa: SLF001 - argparse keeps its actions there
        if action.nargs is None and action.option_strings and not isinstance(action, argparse.BooleanOptionalAction)
        for spelling in action.option_strings
    )


class _Invocation:
    """The command line split: the recorder's options, then the script or module and its arguments."""

    __slots__ = ("options", "script", "module", "args")

    def __init__(self) -> None:
        self.options: list[str] = []
        self.script: str | None = None
        self.module: str | None = None
        self.args: list[str] = []


def _split(argv: Sequence[str], value_options: frozenset[str]) -> _Invocation:
    """Separates the recorder's options from the target and its arguments."""
    found = _Invocation()
    index = 0
    while index < len(argv):
        arg = argv[index]
        if arg == "--":
            if index + 1 < len(argv):
                found.script, found.args = argv[index + 1], list(argv[index + 2 :])
            break
        if arg == "-m" or (arg.startswith("-m") and not arg.startswith("--")):
            found.module = arg[2:] or (argv[index + 1] if index + 1 < len(argv) else None)
            found.args = list(argv[index + (1 if arg[2:] else 2) :])
            return found
        if arg.startswith("-") and arg != "-":
            found.options.append(arg)
            if arg in value_options and index + 1 < len(argv):
                found.options.append(argv[index + 1])
                index += 1
            index += 1
            continue
        found.script, found.args = arg, list(argv[index + 1 :])
        break
    if found.script is not None and found.args[:1] == ["--"]:
        found.args = found.args[1:]
    return found


def _policy_overrides(options: argparse.Namespace) -> dict[str, object]:
    overrides: dict[str, object] = {}
    for key in (*_VALUE_FLAGS, *_SWITCH_FLAGS, *_TOGGLE_FLAGS):
        value = getattr(options, key)
        if value is not None:
            overrides[key] = value
    if "log_file" in overrides:
        overrides["log_file"] = os.path.abspath(os.path.expanduser(str(overrides["log_file"])))
    if options.io_capture is not None:
        capture = parse_io_capture(options.io_capture, "--io-capture")
        if capture is not None:
            overrides["io_capture_line_proxies"] = capture.line_proxies
            overrides["io_capture_fd_fallback"] = capture.fd_fallback
    return overrides


def _config(parser: argparse.ArgumentParser, argv: list[str]) -> argparse.Namespace:
    """The resolved options: the fields of :class:`RecorderCLIConfig`, paths as ``str``."""
    invocation = _split(argv, _value_options(parser))
    options = parser.parse_args(invocation.options)
    if invocation.script is None and invocation.module is None:
        parser.error("a script path or -m module is required")
    activation = options.activation_path
    return argparse.Namespace(
        trace_dir=os.path.abspath(os.path.expanduser(options.out_dir or DEFAULT_OUT_DIR)),
        format=options.format,
        activation_path=None if activation is None else os.path.abspath(os.path.expanduser(activation)),
        script=invocation.script,
        script_args=invocation.args,
        trace_filter=tuple(options.trace_filter),
        policy_overrides=_policy_overrides(options),
        module=invocation.module,
    )


class _Run:
    """A program that is about to run, recorded."""

    __slots__ = ("program", "in_process")

    def __init__(self, program: Program, in_process: bool) -> None:
        self.program = program
        #: ``main(argv)`` called from other code: put the interpreter state back afterwards.
        self.in_process = in_process


def _flush_std_streams() -> None:
    for stream in (sys.stdout, sys.stderr):
        try:
            stream.flush()
        except (AttributeError, OSError, ValueError):
            pass


def _recorder_failed(error: RecorderError, operation: str) -> int:
    """The abort path: the program's output first, then the error, then its exit code."""
    _flush_std_streams()
    report(error)
    say(f"recorder error during {operation}: {error}")
    return error.exit_code


def _prepare(argv: list[str], in_process: bool) -> _Run | int:
    """Everything before the program's first line: options, policy, filters, target, recording."""
    config = _config(_parser(), argv)
    try:
        configure_policy_from_env()
        configure_policy(**config.policy_overrides)
        env_filter = os.environ.get(ENV_TRACE_FILTER)
        filters = normalize_trace_filter([*([env_filter] if env_filter else []), *config.trace_filter] or None)
    except RecorderError as error:
        report(error)
        say(f"error: {error}")
        return error.exit_code
    if config.module is not None:
        program: Program | int = prepare_module(config.module, config.script_args)
    else:
        program = prepare_script(str(config.script), config.script_args)
    if isinstance(program, int):
        return program
    program.install()
    _native.set_exit_on_abort(True)
    try:
        start(config.trace_dir, format=config.format, start_on_enter=config.activation_path or program.activation_path,
              trace_filter=filters or None, apply_env_policy=False)
    except RecorderError as error:
        program.restore()
        return _recorder_failed(error, "start")
    return _Run(program, in_process)


def _wait_for_threads() -> None:
    """Joins non-daemon threads before the trace is finished, as interpreter exit would.

    Like interpreter exit, only when the program imported ``threading``: a
    program that never did has no threads to join.
    """
    threading = sys.modules.get("threading")
    if threading is None:
        return
    current_thread = threading.current_thread()
    for thread in threading.enumerate():
        if thread is not current_thread and not thread.daemon and thread.is_alive():
            thread.join()


def _conclude(run: _Run, error: BaseException | None) -> int:
    """After the program: its exit status as python gives it, then the finished trace."""
    status = outcome(error, skip=main.__code__)
    if not isinstance(error, SystemExit):
        run.program.forget_file()
    _wait_for_threads()
    _flush_std_streams()
    try:
        stop(exit_code=status if isinstance(status, int) else None)
    except RecorderError as failure:
        if run.in_process:
            run.program.restore()
        return _recorder_failed(failure, "stop")
    if run.in_process:
        run.program.restore()
    if isinstance(status, KeyboardInterrupt):
        reraise_reported(status)
    if status != 0 and not current("propagate_script_exit"):
        say(f"the program exited with status {status}; exiting 0 because propagate_script_exit is off")
        return 0
    return status


def main(argv: Iterable[str] | None = None) -> int:
    """Records a program; returns the exit status for ``sys.exit``.

    With ``argv`` (a list of command-line arguments) it runs in this process
    and puts ``sys.argv``, ``sys.path[0]`` and ``__main__`` back afterwards;
    without, it is the process's entry point and reads ``sys.argv``.
    """
    arguments = list(sys.argv[1:] if argv is None else argv)
    if arguments[:1] == ["recover"]:
        from .recover import main as recover_main

        return recover_main(arguments[1:])
    run = _prepare(arguments, in_process=argv is not None)
    if isinstance(run, int):
        return run
    try:
        run.program.runner(*run.program.runner_args)
    except BaseException as error:  # noqa: BLE001 - the program's own ending, whatever it is
        return _conclude(run, error)
    return _conclude(run, None)
