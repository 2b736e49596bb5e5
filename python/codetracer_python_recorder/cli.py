"""Command line: record a script (or ``-m module``) into a trace directory.

``python -m codetracer_python_recorder [options] (script.py | -m module) [args...]``

The exit status is the program's own (as plain ``python`` would give it)
unless the recorder fails under ``on_recorder_error=abort``: then it is the
error kind's code (Usage 2, Environment 10, Target 20, Internal 70). A bad
option or policy value exits 2 before anything runs. The recorder writes only
to stderr, never to stdout.
"""

from __future__ import annotations

import argparse
import importlib.util
import os
import runpy
import sys
import threading
import traceback
from dataclasses import dataclass, field
from typing import Any, Sequence

from . import _native
from .errors import RecorderError
from .policy import configure_policy, configure_policy_from_env
from .session import start, stop

__all__ = ["main", "DEFAULT_OUT_DIR"]

#: Trace directory when neither ``--out-dir`` nor ``--trace-dir`` is given
#: (relative to the working directory, as in codetracer-python-recorder 0.3).
DEFAULT_OUT_DIR = "trace-out"

PROG = "python -m codetracer_python_recorder"

#: Policy flags: key -> (spelling, 0.3 spelling, takes a value).
_POLICY_FLAGS = {
    "on_recorder_error": ("--codetracer-on-recorder-error", "--on-recorder-error", True),
    "require_trace": ("--codetracer-require-trace", "--require-trace", False),
    "keep_partial_trace": ("--codetracer-keep-partial-trace", "--keep-partial-trace", False),
    "log_level": ("--codetracer-log-level", "--log-level", True),
    "log_file": ("--codetracer-log-file", "--log-file", True),
    "json_errors": ("--codetracer-json-errors", "--json-errors", False),
    "io_capture": ("--codetracer-io-capture", "--io-capture", True),
}

_VALUE_OPTIONS = {"--out-dir", "--trace-dir", "--format", "--activation-path"} | {
    spelling for first, alias, takes_value in _POLICY_FLAGS.values() if takes_value for spelling in (first, alias)
}


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
    parser.add_argument("--format", choices=("json", "binary"), default="json", help="trace format (default: json)")
    parser.add_argument(
        "--activation-path",
        metavar="PATH",
        help="start recording when code from this file runs (default: the script itself)",
    )
    policy = parser.add_argument_group("recorder policy (also set by CODETRACER_* variables; flags win)")
    policy.add_argument(*_POLICY_FLAGS["on_recorder_error"][:2], dest="on_recorder_error", metavar="abort|disable",
                        help="after a recorder failure: abort with its exit code, or disable and run on")
    for key, help_text in (
        ("require_trace", "finishing without a trace is an error (ERR_TRACE_MISSING)"),
        ("keep_partial_trace", "on failure keep the staged files, marked partial"),
        ("json_errors", "one JSON trailer line on stderr per recorder error"),
    ):
        policy.add_argument(*_POLICY_FLAGS[key][:2], dest=key, nargs="?", const="true", metavar="BOOL", help=help_text)
    policy.add_argument(*_POLICY_FLAGS["log_level"][:2], dest="log_level", metavar="LEVEL",
                        help="error|warn|info|debug|trace|off or module=level,...")
    policy.add_argument(*_POLICY_FLAGS["log_file"][:2], dest="log_file", metavar="FILE",
                        help="append JSON log lines to FILE instead of stderr")
    policy.add_argument(*_POLICY_FLAGS["io_capture"][:2], dest="io_capture", metavar="off|proxies|proxies+fd",
                        help="record the program's stdout/stderr/stdin: off, through stream proxies (default), "
                        "or also what reaches descriptors 1 and 2 directly (Linux)")
    return parser


@dataclass
class _Invocation:
    options: list[str] = field(default_factory=list)
    script: str | None = None
    module: str | None = None
    args: list[str] = field(default_factory=list)


def _split(argv: Sequence[str]) -> _Invocation:
    """Separates the recorder's options from the target and its arguments."""
    found = _Invocation()
    index = 0
    while index < len(argv):
        arg = argv[index]
        if arg == "--":
            if index + 1 < len(argv):
                found.script, found.args = argv[index + 1], list(argv[index + 2 :])
            return found
        if arg == "-m" or (arg.startswith("-m") and not arg.startswith("--")):
            name = arg[2:] or (argv[index + 1] if index + 1 < len(argv) else None)
            rest = index + (1 if arg[2:] else 2)
            found.module, found.args = name, list(argv[rest:])
            return found
        if arg.startswith("-") and arg != "-":
            found.options.append(arg)
            if arg in _VALUE_OPTIONS and index + 1 < len(argv):
                found.options.append(argv[index + 1])
                index += 1
            index += 1
            continue
        found.script, found.args = arg, list(argv[index + 1 :])
        return found
    return found


def _say(message: str) -> None:
    print(f"codetracer-python-recorder: {message}", file=sys.stderr, flush=True)


def _flush_std_streams() -> None:
    for stream in (sys.stdout, sys.stderr):
        try:
            stream.flush()
        except (AttributeError, OSError, ValueError):
            pass


def _recorder_failed(error: RecorderError, operation: str) -> int:
    """The abort path: the program's output first, then the error, then its exit code."""
    _flush_std_streams()
    _say(f"recorder error during {operation}: {error}")
    return error.exit_code


@dataclass
class _Target:
    run: Any
    argv0: str
    path0: str
    activation_path: str | None


def _resolve(invocation: _Invocation) -> _Target | int:
    if invocation.module is not None:
        try:
            spec = importlib.util.find_spec(invocation.module)
            if spec is not None and spec.submodule_search_locations is not None:
                spec = importlib.util.find_spec(invocation.module + ".__main__")
        except (ImportError, ValueError) as error:
            _say(f"error while finding module {invocation.module!r}: {error}")
            return 1
        if spec is None:
            _say(f"no module named {invocation.module!r}")
            return 1
        module = invocation.module
        return _Target(
            run=lambda: runpy.run_module(module, run_name="__main__", alter_sys=True),
            argv0=spec.origin or module,
            path0=os.getcwd(),
            activation_path=spec.origin if spec.has_location else None,
        )
    script = invocation.script or ""
    if not os.path.exists(script):
        _say(f"can't open file {os.path.abspath(script)!r}: no such file or directory")
        return 2
    return _Target(
        run=lambda: runpy.run_path(script, run_name="__main__"),
        argv0=script,
        path0=os.path.dirname(os.path.realpath(script)),
        activation_path=os.path.abspath(script) if os.path.isfile(script) else None,
    )


def _print_program_traceback(error: BaseException) -> None:
    """Prints the program's traceback as plain Python would, without the CLI's frames."""
    tb = error.__traceback__
    own = {os.path.normcase(__file__), os.path.normcase(runpy.__file__)}
    while tb is not None and os.path.normcase(tb.tb_frame.f_code.co_filename) in own:
        tb = tb.tb_next
    traceback.print_exception(type(error), error, tb, file=sys.stderr)
    _flush_std_streams()


def _wait_for_threads() -> None:
    """Joins non-daemon threads before the trace is finished, as interpreter exit would."""
    current = threading.current_thread()
    for thread in threading.enumerate():
        if thread is not current and not thread.daemon and thread.is_alive():
            thread.join()


def main(argv: Sequence[str] | None = None) -> Any:
    """Runs the CLI; returns the value for ``sys.exit`` (an int, or a message string)."""
    invocation = _split(list(sys.argv[1:] if argv is None else argv))
    parser = _parser()
    options = parser.parse_args(invocation.options)
    if invocation.script is None and invocation.module is None:
        parser.error("a script path or -m module is required")

    settings = {key: getattr(options, key) for key in _POLICY_FLAGS if getattr(options, key) is not None}
    try:
        configure_policy_from_env()
        configure_policy(**settings)
    except RecorderError as error:
        _say(f"error: {error}")
        return error.exit_code

    target = _resolve(invocation)
    if isinstance(target, int):
        return target

    _native.set_exit_on_abort(True)
    try:
        start(options.out_dir or DEFAULT_OUT_DIR, options.format, options.activation_path or target.activation_path)
    except RecorderError as error:
        return _recorder_failed(error, "start")

    sys.argv[:] = [target.argv0, *invocation.args]
    sys.path[0] = target.path0
    exit_value: Any = 0
    interrupted: KeyboardInterrupt | None = None
    try:
        target.run()
    except SystemExit as error:
        exit_value = error.code
    except KeyboardInterrupt as error:
        interrupted = error
    except BaseException as error:  # the program's own uncaught exception
        _print_program_traceback(error)
        exit_value = 1
    _wait_for_threads()
    _flush_std_streams()

    try:
        stop()
    except RecorderError as error:
        return _recorder_failed(error, "stop")
    if interrupted is not None:
        raise interrupted  # Python's own handling: traceback, then death by SIGINT
    return exit_value
