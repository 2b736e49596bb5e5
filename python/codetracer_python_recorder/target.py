"""Running the recorded program exactly as ``python script.py`` / ``python -m module`` would.

A :class:`Program` is prepared without running anything: the code is read and
compiled first (a missing file or a syntax error is reported as python reports
it), then :meth:`Program.install` sets what python sets before the first line
runs: ``sys.argv``, ``sys.path[0]`` (unless ``-P``/``-I``), and a fresh
``__main__`` module with python's globals (``__file__`` absolute, ``__spec__``
``None``, ``__loader__`` a ``SourceFileLoader``...). The caller then makes one
call, ``program.runner(*program.runner_args)``: the builtin ``exec`` for a
script, or runpy's own ``_run_module_as_main`` (the function CPython itself
calls for ``-m``, a directory or a zip file), so no frame of this module is
on the program's stack.

:func:`outcome` turns how the program ended into its exit status the way
CPython does: ``sys.exit()`` is 0, ``sys.exit(n)`` is n, ``sys.exit("msg")``
prints ``msg`` and is 1, an uncaught exception goes to ``sys.excepthook``
(with the recorder's frames cut from its traceback) and is 1.
"""

from __future__ import annotations

import builtins
import importlib.machinery
import importlib.util
import marshal
import os
import sys
import zipimport

TYPE_CHECKING = False
if TYPE_CHECKING:
    import types
    from typing import Any, Callable

__all__ = ["Program", "prepare_script", "prepare_module", "outcome", "report_uncaught", "reraise_reported", "say"]

PROG = "codetracer-python-recorder"


def _write_stderr(text: str) -> None:
    stream = sys.stderr if sys.stderr is not None else sys.__stderr__
    if stream is None:
        return
    try:
        stream.write(text)
        stream.flush()
    except (OSError, ValueError):
        pass


def say(message: str) -> None:
    """One line of the recorder's own on file descriptor 2 (never stdout): the
    program may have closed or replaced ``sys.stderr``, the message still shows
    (after whatever the program's ``sys.stderr`` still buffers)."""
    try:
        if sys.stderr is not None:
            sys.stderr.flush()
    except (AttributeError, OSError, ValueError):
        pass
    data = os.fsencode(f"{PROG}: {message}\n")
    try:
        while data:
            data = data[os.write(2, data) :]
    except OSError:
        pass


def _interpreter_name() -> str:
    argv = getattr(sys, "orig_argv", None)
    return argv[0] if argv else (sys.executable or "python")


class _Saved:
    """What :meth:`Program.install` replaced."""

    __slots__ = ("argv", "path0", "main")

    def __init__(self, argv: list[str], path0: str | None, main: types.ModuleType | None) -> None:
        self.argv = argv
        self.path0 = path0
        self.main = main


class Program:
    """A program ready to run with one call: ``program.runner(*program.runner_args)``."""

    __slots__ = ("runner", "runner_args", "argv", "path0", "main_module", "activation_path", "saved")

    def __init__(
        self,
        *,
        runner: Callable[..., Any],
        runner_args: tuple[Any, ...],
        argv: list[str],
        path0: str,
        main_module: types.ModuleType,
        activation_path: str | None,
    ) -> None:
        self.runner = runner
        self.runner_args = runner_args
        #: ``sys.argv`` while it runs (``-m`` targets: runpy replaces ``-m`` by the module's path).
        self.argv = argv
        #: ``sys.path[0]`` while it runs, unless the interpreter runs with ``-P``/``-I``.
        self.path0 = path0
        #: The ``__main__`` module it runs in.
        self.main_module = main_module
        #: The file recording starts at (``None``: from the start, as for ``-m``, whose
        #: parent packages' code is the program's too).
        self.activation_path = activation_path
        #: The state :meth:`install` replaced.
        self.saved: _Saved | None = None

    def install(self) -> None:
        """Sets ``sys.argv``, ``sys.path[0]`` and ``sys.modules['__main__']`` as python would."""
        self.saved = _Saved(list(sys.argv), sys.path[0] if sys.path else None, sys.modules.get("__main__"))
        sys.argv = list(self.argv)
        if not sys.flags.safe_path:
            if sys.path:
                sys.path[0] = self.path0
            else:
                sys.path.insert(0, self.path0)
        sys.modules["__main__"] = self.main_module

    def restore(self) -> None:
        """Puts back what :meth:`install` replaced (for an in-process ``main(argv)`` call)."""
        saved, self.saved = self.saved, None
        if saved is None:
            return
        sys.argv = saved.argv
        if not sys.flags.safe_path and saved.path0 is not None and sys.path:
            sys.path[0] = saved.path0
        if saved.main is not None:
            sys.modules["__main__"] = saved.main

    def forget_file(self) -> None:
        """After a script ends (not by ``SystemExit``) python drops ``__file__`` and ``__cached__``."""
        if self.runner is exec:
            self.main_module.__dict__.pop("__file__", None)
            self.main_module.__dict__.pop("__cached__", None)


def _fresh_main() -> types.ModuleType:
    module = type(sys)("__main__")
    module.__dict__["__builtins__"] = builtins
    return module


def _runnable_directory(path: str) -> bool:
    """A directory or a zip file: what python runs as ``sys.path[0]`` with its ``__main__``
    (python asks its path hooks; the zip importer is the one that takes a file)."""
    if os.path.isdir(path):
        return True
    try:
        zipimport.zipimporter(path)
    except (ImportError, OSError):
        return False
    return True


def _run_module_as_main() -> Callable[..., Any]:
    """runpy's ``_run_module_as_main``: what CPython itself runs for ``-m``, a directory or a zip file."""
    import runpy

    return runpy._run_module_as_main  # noqa: SLF001 - CPython's own entry


def prepare_script(path: str, args: list[str]) -> Program | int:
    """A script, a directory or a zip file with ``__main__.py``; an int exit status when it cannot run."""
    absolute = os.path.abspath(path)
    main_module = _fresh_main()
    if os.path.exists(path) and _runnable_directory(path):
        inner = os.path.join(absolute, "__main__.py")
        return Program(
            runner=_run_module_as_main(),
            runner_args=("__main__", False),
            argv=[path, *args],
            path0=absolute,
            main_module=main_module,
            activation_path=inner if os.path.isfile(inner) else None,
        )
    try:
        with open(path, "rb") as source:
            data = source.read()
    except OSError as error:
        _write_stderr(f"{_interpreter_name()}: can't open file {absolute!r}: [Errno {error.errno}] {error.strerror}\n")
        return 2
    try:
        if data[:4] == importlib.util.MAGIC_NUMBER:
            code = marshal.loads(data[16:])
            loader: object = importlib.machinery.SourcelessFileLoader("__main__", absolute)
        else:
            code = compile(data, absolute, "exec", dont_inherit=True)
            loader = importlib.machinery.SourceFileLoader("__main__", absolute)
    except (SyntaxError, ValueError, EOFError, TypeError) as error:
        report_uncaught(error.with_traceback(None), skip=None)
        return 1
    main_module.__dict__.update(__file__=absolute, __cached__=None, __loader__=loader)
    return Program(
        runner=exec,
        runner_args=(code, main_module.__dict__),
        argv=[path, *args],
        path0=os.path.dirname(os.path.realpath(path)),
        main_module=main_module,
        activation_path=absolute,
    )


def prepare_module(name: str, args: list[str]) -> Program:
    """``-m name``: runpy's own ``_run_module_as_main``, with ``sys.argv[0]`` ``-m`` while it locates."""
    return Program(
        runner=_run_module_as_main(),
        runner_args=(name,),
        argv=["-m", *args],
        path0=os.getcwd(),
        main_module=_fresh_main(),
        activation_path=None,
    )


def report_uncaught(error: BaseException, skip: types.CodeType | None) -> None:
    """Hands an uncaught exception to ``sys.excepthook`` as CPython does, without the
    leading traceback entries of the code object ``skip`` (the CLI's own frame)."""
    tb = error.__traceback__
    while skip is not None and tb is not None and tb.tb_frame.f_code is skip:
        tb = tb.tb_next
    error = error.with_traceback(tb)
    sys.last_exc = error  # type: ignore[attr-defined]  # 3.12+, as PyErr_Print sets it
    sys.last_type, sys.last_value, sys.last_traceback = type(error), error, tb
    hook = getattr(sys, "excepthook", None)
    if hook is None:
        _write_stderr("sys.excepthook is missing\n")
        sys.__excepthook__(type(error), error, tb)
        return
    try:
        hook(type(error), error, tb)
    except BaseException as hook_error:  # noqa: BLE001 - reported as CPython reports it
        _write_stderr("Error in sys.excepthook:\n")
        sys.__excepthook__(type(hook_error), hook_error, hook_error.__traceback__)
        _write_stderr("\nOriginal exception was:\n")
        sys.__excepthook__(type(error), error, tb)


def outcome(error: BaseException | None, skip: types.CodeType | None) -> int | KeyboardInterrupt:
    """The exit status of a program that ended with ``error`` (``None``: it returned).

    A ``KeyboardInterrupt`` is reported and returned: the caller re-raises it
    after finishing the trace, so the process dies by SIGINT as under python.
    """
    if error is None:
        return 0
    if isinstance(error, SystemExit):
        code = error.code
        if code is None:
            return 0
        if isinstance(code, int):
            return code
        _write_stderr(f"{code}\n")
        return 1
    report_uncaught(error, skip)
    if isinstance(error, KeyboardInterrupt):
        return error
    return 1


def reraise_reported(interrupt: KeyboardInterrupt) -> None:
    """Raises an already reported ``KeyboardInterrupt`` so the interpreter ends by
    SIGINT after its normal shutdown, without printing it a second time."""
    previous = sys.excepthook

    def once(exc_type: type[BaseException], exc: BaseException, tb: types.TracebackType | None) -> None:
        sys.excepthook = previous
        if exc is not interrupt:
            previous(exc_type, exc, tb)

    sys.excepthook = once
    raise interrupt
