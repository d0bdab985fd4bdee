"""Snapshots over the control API: ``POST /_mock/snapshot`` and ``POST /_mock/restore``.

A snapshot is the mock's whole state as JSON (``mock_gateway.persistence.codec``): a test
team prepares a state once, saves it, and every test starts from it. A restore checks the
whole snapshot before changing anything; a bad one gets a 400 naming the field, and the
mock keeps the state it had.
"""

from __future__ import annotations

import json
from typing import TYPE_CHECKING

import anyio
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from mock_gateway.web.parse import mock_state
from mock_gateway.web.responses import JSONBody
from mock_gateway.web.routes.control_input import BadInput, guarded, json_body, only
from mock_gateway.web.state import MockState
from mock_gateway.web.streams import read_limited

if TYPE_CHECKING:
    from mock_gateway.persistence.codec import Prepared

MAX_SNAPSHOT_BODY = 512 * 1024 * 1024  # a snapshot holds edit inputs and the journal
INLINE_CHECK = 256 * 1024  # bigger snapshots are parsed and checked in a worker thread


@guarded
async def take_snapshot(request: Request) -> Response:
    """The whole state as of now (jobs advanced to now first); ``{"without": ["journal"]}``
    leaves out sections a restore does not need (a prepared state to commit, say)."""
    from mock_gateway.persistence.codec import REQUIRED, SECTIONS, snapshot  # late: start-up

    state = mock_state(request)
    body = await json_body(request)
    only(body, ["without"])
    without = body.get("without", [])
    optional = [name for name in SECTIONS if name not in REQUIRED]
    if not isinstance(without, list) or any(name not in optional for name in without):
        raise BadInput(f"without: must be a list of sections from {', '.join(optional)}")
    state.advance()
    return JSONBody(snapshot(state, without))


def _checked(state: MockState, raw: bytes) -> Prepared:
    """The body parsed and checked whole; changes nothing, so a worker thread may run it."""
    from mock_gateway.persistence.codec import SnapshotRefused, prepare

    try:
        data = json.loads(raw)
    except (ValueError, RecursionError):
        raise BadInput("body: not valid JSON") from None
    try:
        return prepare(state, data)
    except SnapshotRefused as exc:
        raise BadInput(str(exc)) from None


@guarded
async def restore_snapshot(request: Request) -> Response:
    """Replace the whole state with a snapshot's; 400 naming the field, and no change, when
    any part of it does not fit. A big snapshot is parsed and checked in a worker thread,
    so other clients are answered meanwhile; it is then installed in one step."""
    from mock_gateway.persistence.codec import FORMAT, install  # late: start-up needs none

    state = mock_state(request)
    raw = await read_limited(request.stream(), MAX_SNAPSHOT_BODY)
    if raw is None:
        raise BadInput(f"body: a snapshot must be at most {MAX_SNAPSHOT_BODY} bytes")
    if not raw.strip():
        raise BadInput(
            f"body: must be a snapshot (POST /_mock/snapshot gives one; format {FORMAT})"
        )
    if len(raw) <= INLINE_CHECK:
        prepared = _checked(state, raw)
    else:
        prepared = await anyio.to_thread.run_sync(_checked, state, raw)
    install(state, prepared)
    state.advance()  # with --state the answer waits for the commit (web/persisted.py)
    from mock_gateway.web.routes.control import clock_document  # late: control imports us

    return JSONBody(
        {
            "restored": True,
            "jobs": state.world.job_count(),
            "keys": len(state.core.all_accounts()),
            "clock": clock_document(state),
        }
    )


def snapshot_routes() -> list[Route]:
    return [
        Route("/_mock/snapshot", take_snapshot, methods=["POST"]),
        Route("/_mock/restore", restore_snapshot, methods=["POST"]),
    ]
