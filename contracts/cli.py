"""Command line: run the suite against a target, or compare two reports or recordings.

``python -m seedream_contracts --gateway-url URL --api-key KEY [...]`` runs exactly the pytest suite
in this directory (``pytest contracts/`` with the same options), and exits non-zero on any
contract violation. Without ``--gateway-url`` it starts the mock itself.
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence
from pathlib import Path

from seedream_contracts.extras import missing_message, missing_modules
from seedream_contracts.options import SPECS, argparse_kwargs

SUITE_DIR = Path(__file__).parent  # not resolved: a checkout runs it as seedream_contracts/


def run_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="python -m seedream_contracts",
        description="Run the Seedream gateway contract suite against the mock or a live gateway. "
        "Use 'python -m seedream_contracts diff OLD NEW' to compare two reports or recordings.",
    )
    for spec in SPECS:
        parser.add_argument(spec.flag, **argparse_kwargs(spec))
    parser.add_argument(
        "-k",
        dest="keyword",
        metavar="EXPR",
        help="only checks matching this pytest keyword expression",
    )
    parser.add_argument("-q", "--quiet", action="store_true", help="less pytest output")
    parser.add_argument(
        "pytest_args",
        nargs="*",
        metavar="-- PYTEST_ARGS",
        help="extra arguments for pytest, after --",
    )
    return parser


def diff_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="python -m seedream_contracts diff",
        description="List behavioural drift between two reports (.json) or recordings (dirs). "
        "Exit status 1 when there is drift.",
    )
    parser.add_argument("old", type=Path, help="the reference report or recording")
    parser.add_argument("new", type=Path, help="the report or recording to compare")
    parser.add_argument("--json", action="store_true", help="print the drift as JSON")
    parser.add_argument(
        "--coverage", action="store_true", help="list every scenario only one side exercised"
    )
    parser.add_argument(
        "--timing-tolerance",
        type=float,
        default=0.5,
        metavar="FRACTION",
        help="relative change of a timing median that counts as drift (0.5)",
    )
    return parser


def pytest_arguments(args: argparse.Namespace) -> list[str]:
    # -W: `python -m seedream_contracts` imported this package before pytest could rewrite it.
    # --assert=plain: the suite asserts through its clause book, and rewriting every module
    # of every plugin costs seconds per run. --tb=line: the report holds the evidence.
    arguments = [
        str(SUITE_DIR),
        "-p",
        "no:cacheprovider",
        "--assert=plain",
        "--tb=line",
        "-W",
        "ignore::pytest.PytestAssertRewriteWarning",
    ]
    for spec in SPECS:
        value = getattr(args, spec.dest)
        if value is not None:
            arguments.append(f"{spec.flag}={value}")
    if args.keyword:
        arguments += ["-k", args.keyword]
    if args.quiet:
        arguments.append("-q")
    return arguments + list(args.pytest_args)


def main(argv: Sequence[str] | None = None) -> int:
    argv = list(sys.argv[1:] if argv is None else argv)
    if argv[:1] == ["diff"]:
        from seedream_contracts.diff import run_diff

        return run_diff(diff_parser().parse_args(argv[1:]))
    if argv[:1] == ["documented"]:
        from seedream_contracts.documented import main as documented

        return documented(argv[1:])
    args = run_parser().parse_args(argv)
    missing = missing_modules()
    if missing:
        print(f"seedream_contracts: {missing_message(missing)}", file=sys.stderr)
        return 2
    import pytest

    code = int(pytest.main(pytest_arguments(args)))
    if code == int(pytest.ExitCode.NO_TESTS_COLLECTED):
        print("contracts: no check selected", file=sys.stderr)
    return code
