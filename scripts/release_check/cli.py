"""The command line of `./dev release-check` (which passes the interpreters it prepared)."""

from __future__ import annotations

import argparse
import shutil
import sys
from pathlib import Path

from . import gate, report
from .options import STEP_NAMES, Interpreter, Options, Partition

#: Exit status when a step failed.
EXIT_FAILED = 1
#: Exit status for bad usage.
EXIT_USAGE = 2
#: The repository root (this file is scripts/release_check/cli.py).
REPO = Path(__file__).resolve().parents[2]


def parser() -> argparse.ArgumentParser:
    """The argument parser."""
    parser = argparse.ArgumentParser(
        prog="./dev release-check",
        description="The regression gate: every suite, scenario, sweep and the benchmark, one report.",
    )
    parser.add_argument("--out", type=Path, metavar="DIR", help="report directory (default: target/release-check)")
    parser.add_argument("--partition", metavar="K/N", help="run the K-th of N nextest partitions (see docs/release-check.md)")
    parser.add_argument("--update-baseline", action="store_true", help="rewrite docs/benchmarks/baseline.json from this run")
    parser.add_argument("--only", metavar="STEPS", help=f"comma-separated steps to run ({','.join(STEP_NAMES)})")
    parser.add_argument("--python", action="append", default=[], metavar="LABEL=PATH",
                        help="an interpreter for the Python suite; the first is the main one")
    parser.add_argument("--unavailable-python", action="append", default=[], metavar="LABEL=REASON",
                        help="an interpreter that was found but could not be prepared (fails its step)")
    parser.add_argument("--fixtures-python", type=Path, metavar="PATH",
                        help="the interpreter with the failure-fixtures build")
    parser.add_argument("--bench-repeat", type=int, default=5, metavar="N", help="benchmark runs per measurement (best of N)")
    parser.add_argument("--root", type=Path, default=REPO, help=argparse.SUPPRESS)
    return parser


def options_from(args: argparse.Namespace) -> Options:
    """Options from parsed arguments; raises ValueError naming a bad value."""
    root = args.root.resolve()
    only = frozenset(STEP_NAMES)
    if args.only:
        only = frozenset(name.strip() for name in args.only.split(",") if name.strip())
        unknown = sorted(only - set(STEP_NAMES))
        if unknown or not only:
            raise ValueError(f"--only {args.only!r}: unknown step(s) {', '.join(unknown) or '(none given)'}; "
                             f"the steps are {', '.join(STEP_NAMES)}")
    if args.bench_repeat < 1:
        raise ValueError("--bench-repeat must be at least 1")
    return Options(
        root=root,
        out=(args.out or root / "target" / "release-check").resolve(),
        pythons=[Interpreter(label, Path(path)) for label, path in map(_pair("--python"), args.python)],
        unavailable=[_pair("--unavailable-python")(text) for text in args.unavailable_python],
        fixtures_python=args.fixtures_python,
        partition=Partition.parse(args.partition) if args.partition else None,
        update_baseline=args.update_baseline,
        only=only,
        bench_repeat=args.bench_repeat,
    )


def _pair(option: str):
    def split(text: str) -> tuple[str, str]:
        label, sep, value = text.partition("=")
        if not sep or not label or not value:
            raise ValueError(f"{option} {text!r}: expected LABEL=VALUE")
        return label, value

    return split


def prepare_out(out: Path) -> None:
    """Empties the report directory of an earlier run; refuses a non-empty directory that is not one."""
    if out.exists() and any(out.iterdir()):
        if not (out / report.JSON).is_file():
            raise ValueError(f"--out {out}: not empty and holds no earlier report ({report.JSON}); choose another")
        shutil.rmtree(out)
    out.mkdir(parents=True, exist_ok=True)


def main(argv: list[str] | None = None) -> int:
    """Runs the gate; 0 when no step failed, 1 when one did, 2 for bad usage."""
    args = parser().parse_args(argv)
    try:
        options = options_from(args)
        prepare_out(options.out)
    except ValueError as error:
        print(f"release-check: error: {error}", file=sys.stderr)
        return EXIT_USAGE
    result = gate.run(options)
    paths = report.write(options, result)
    sys.stdout.write(paths[0].read_text())
    print(f"release-check: {'PASS' if result.passed else 'FAIL'}; report in {options.out}", file=sys.stderr)
    return 0 if result.passed else EXIT_FAILED
