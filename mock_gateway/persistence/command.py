"""The command line of persistent state: ``serve --state FILE`` and its options, and
``mock-gateway state export|import`` (imports nothing heavy until it runs)."""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path
from typing import Any

from mock_gateway.persistence.options import (
    SYNC_LEVELS,
    StateFileError,
    StateWriteError,
    StoreOptions,
)

MEGABYTE = 1024 * 1024


def add_state_options(serve: argparse.ArgumentParser) -> None:
    serve.add_argument(
        "--state",
        metavar="FILE",
        help="keep the mock's state in FILE (SQLite; created if missing) so it survives "
        "restarts; without it everything stays in memory",
    )
    serve.add_argument(
        "--state-sync",
        choices=SYNC_LEVELS,
        default="normal",
        help="normal (default): a commit survives the mock being killed; full: it survives "
        "a power cut too (one fsync per group commit, slower)",
    )
    serve.add_argument(
        "--state-max-mb",
        type=_megabytes,
        metavar="MB",
        help="refuse changes (503) once FILE would grow past MB",
    )


def _megabytes(text: str) -> float:
    try:
        value = float(text)
    except ValueError:
        value = 0.0
    if not 0.1 <= value < 1e9:
        raise argparse.ArgumentTypeError(f"{text!r} is not a size in MB (0.1 or more)")
    return value


def store_options(args: argparse.Namespace) -> StoreOptions:
    limit = getattr(args, "state_max_mb", None)
    return StoreOptions(
        synchronous=getattr(args, "state_sync", "normal"),
        max_bytes=None if limit is None else int(limit * MEGABYTE),
    )


def add_state_parser(commands: Any) -> None:
    state = commands.add_parser(
        "state",
        help="export or import a state file's content as JSON (a snapshot)",
        description="Copy the state a `serve --state FILE` keeps to JSON, or replace it with "
        "a snapshot (the JSON of POST /_mock/snapshot). The mock must not be running on FILE.",
    )
    actions = state.add_subparsers(dest="action", required=True)
    export = actions.add_parser("export", help="write FILE's state to OUT.json")
    export.add_argument("--state", metavar="FILE", required=True)
    export.add_argument("out", metavar="OUT.json", help="where to write ('-': standard output)")
    load = actions.add_parser("import", help="replace FILE's state with IN.json")
    load.add_argument("--state", metavar="FILE", required=True)
    load.add_argument("source", metavar="IN.json", help="a snapshot ('-': standard input)")
    load.add_argument("--config", metavar="FILE", help="the config the mock serves with")


def _read_snapshot(source: str) -> Any:
    try:
        text = sys.stdin.read() if source == "-" else Path(source).read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        raise ValueError(f"{source}: cannot be read ({exc})") from None
    try:
        return json.loads(text)
    except ValueError as exc:
        raise ValueError(f"{source}: not JSON ({exc})") from None


def run_state(args: argparse.Namespace) -> int:
    """``state export`` / ``state import``; a problem is one line and status 2."""
    from mock_gateway.config.settings import ConfigError, Settings
    from mock_gateway.persistence.attach import replace_file
    from mock_gateway.persistence.store import StateStore
    from mock_gateway.web.app import build_state

    if args.action == "export" and not Path(args.state).is_file():
        return _fail(f"state file {args.state}: does not exist")
    try:
        store = StateStore.open(args.state)
    except StateFileError as exc:
        return _fail(str(exc))
    try:
        if args.action == "export":
            saved = store.saved()
            if saved is None:
                return _fail(f"state file {args.state}: holds no state yet")
            text = json.dumps(saved.data, indent=1, ensure_ascii=False) + "\n"
            if args.out == "-":
                sys.stdout.write(text)
            else:
                Path(args.out).write_text(text, encoding="utf-8")
                jobs = len(saved.data.get("jobs", []))
                print(f"exported {jobs} jobs from {args.state} to {args.out}", file=sys.stderr)
            return 0
        data = _read_snapshot(args.source)
        state = build_state(Settings.load(args.config))
        jobs = replace_file(state, store, data)
        print(f"imported {jobs} jobs into {args.state}", file=sys.stderr)
        return 0
    except (StateFileError, StateWriteError, ConfigError, ValueError, OSError) as exc:
        return _fail(str(exc))
    finally:
        store.close()


def _fail(message: str) -> int:
    print(f"mock-gateway: {message}", file=sys.stderr)
    return 2
