"""How ``python -m codetracer_python_recorder`` starts the program with almost no frames of its own.

Under ``python -m``, runpy and the package's ``__main__`` sit below any code
they run: three frames the program would inherit (fewer levels before
``RecursionError``, runpy in ``traceback.print_stack()``). So on POSIX the
``-m`` entry re-executes the same interpreter, with the same interpreter
options and arguments, as ``python [options] -c BOOT args...``: the program
then runs under two frames of the recorder's (``<string>`` and
:func:`~codetracer_python_recorder.cli.main`), the same as the
``codetracer-python-recorder`` console script. The process keeps its pid, its
file descriptors and its environment; ``sys.orig_argv`` is set back to the
command line as typed. Where re-executing is not possible (no
``sys.executable``, not POSIX, an unusual launch), the CLI runs in place.

This module imports only ``os`` and ``sys``: under ``-m`` the package's
``__init__`` imports it alone (see :func:`about_to_reexecute`), so the
process that re-executes loads nothing it would throw away.
"""

from __future__ import annotations

import os
import sys

TYPE_CHECKING = False
if TYPE_CHECKING:
    from typing import NoReturn

__all__ = ["launch", "launched_by_cli", "about_to_reexecute", "restore_orig_argv", "BOOT_PREFIX"]

PACKAGE = __package__ or "codetracer_python_recorder"
CONSOLE_SCRIPT = "codetracer-python-recorder"
#: The start of the ``-c`` code of a re-executed CLI (the rest carries the original command line).
BOOT_PREFIX = f"import sys; from {PACKAGE} import cli, launcher; launcher.restore_orig_argv("
_BOOT_SUFFIX = "); sys.exit(cli.main())"


#: Interpreter options whose value is the next argument.
_OPTIONS_WITH_VALUE = {"-W", "-X", "--check-hash-based-pycs"}


def _dash_m_index(argv: list[str]) -> int | None:
    """Where ``-m PACKAGE`` (or ``-mPACKAGE``) follows the interpreter options of a command line."""
    index = 1
    while index < len(argv):
        arg = argv[index]
        if arg == "-m":
            return index if argv[index + 1 : index + 2] == [PACKAGE] else None
        if arg == f"-m{PACKAGE}":
            return index
        if not arg.startswith("-") or arg == "-" or arg.startswith(("-c", "-m")):
            return None
        index += 2 if arg in _OPTIONS_WITH_VALUE else 1
    return None


def _child_command() -> list[str] | None:
    """``[python, options..., -c, BOOT, args...]``, or ``None`` when the CLI should run in place."""
    if os.name != "posix" or not sys.executable:
        return None
    orig = list(getattr(sys, "orig_argv", []))
    index = _dash_m_index(orig)
    if index is None:
        return None
    launch_tokens = 2 if orig[index] == "-m" else 1
    args = sys.argv[1:]
    if orig[index + launch_tokens :] != args:
        return None
    boot = f"{BOOT_PREFIX}{orig[: index + launch_tokens]!r}{_BOOT_SUFFIX}"
    return [sys.executable, *orig[1:index], "-c", boot, *args]


def about_to_reexecute() -> bool:
    """Whether this process is the ``-m`` entry that will re-execute the interpreter.

    True while runpy imports the package for ``python -m codetracer_python_recorder``
    (``sys.argv[0]`` is still ``-m``) on a platform where :func:`launch` re-executes.
    """
    return sys.argv[:1] == ["-m"] and _child_command() is not None


def launch() -> NoReturn:
    """The ``-m`` entry: re-executes into the minimal-frame child, or runs the CLI in place."""
    command = _child_command()
    if command is not None:
        try:
            os.execv(command[0], command)
        except OSError:
            # Run in place below, after what importing the package deferred to the child.
            from . import _apply_environment

            _apply_environment()
    from .cli import main

    sys.exit(main())


def restore_orig_argv(prefix: list[str]) -> None:
    """In the re-executed child: ``sys.orig_argv`` as the user typed it (``prefix`` + the CLI arguments)."""
    sys.orig_argv[:] = [*prefix, *sys.argv[1:]]


def launched_by_cli() -> bool:
    """Whether this process is the recorder's command line (which ignores ``CODETRACER_TRACE``)."""
    argv = list(getattr(sys, "orig_argv", []))
    for flag, value in zip(argv, argv[1:]):
        if flag == "-c" and value.startswith(BOOT_PREFIX):
            return True
    if _dash_m_index(argv) is not None:
        return True
    return os.path.basename(sys.argv[0] if sys.argv else "") == CONSOLE_SCRIPT
