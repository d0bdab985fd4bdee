"""Snapshots over the control API: ``POST /_mock/snapshot`` and ``POST /_mock/restore``.

A snapshot is the mock's whole state as JSON (``mock_gateway.persistence.codec``): a test
team prepares a state once, saves it, and every test starts from it. A restore checks the
whole snapshot before changing anything; a bad one gets a 400 naming the field, and the
mock keeps the state it had.
"""

from __future__ import annotations

import json
from typing import Any

import anyio
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from mock_gateway.persistence.codec import FORMAT, SnapshotRefused, restore, snapshot
from mock_gateway.web.parse import mock_state
from mock_gateway.web.responses import JSONBody
from mock_gateway.web.routes.control_input import BadInput, guarded, json_body, only
from mock_gateway.web.state import MockState
from mock_gateway.web.streams import read_limited

MAX_SNAPSHOT_BODY = 512 * 1024 * 1024  # a snapshot holds edit inputs and the journal
INLINE_PARSE = 1024 * 1024  # bigger snapshots are parsed in a worker thread


async def _committed(state: MockState) -> None:
    """A control-API change is on disk before its answer (with ``--state``)."""
    if state.durability is not None:
        await state.durability.wait()


@guarded
async def take_snapshot(request: Request) -> Response:
    """The whole state as of now (jobs advanced to now first)."""
    state = mock_state(request)
    only(await json_body(request), [])
    state.advance()
    return JSONBody(snapshot(state))


async def _snapshot_body(request: Request) -> Any:
    raw = await read_limited(request.stream(), MAX_SNAPSHOT_BODY)
    if raw is None:
        raise BadInput(f"body: a snapshot must be at most {MAX_SNAPSHOT_BODY} bytes")
    if not raw.strip():
        raise BadInput(
            f"body: must be a snapshot (POST /_mock/snapshot gives one; format {FORMAT})"
        )
    try:
        if len(raw) <= INLINE_PARSE:
            return json.loads(raw)
        return await anyio.to_thread.run_sync(json.loads, raw)
    except (ValueError, RecursionError):
        raise BadInput("body: not valid JSON") from None


@guarded
async def restore_snapshot(request: Request) -> Response:
    """Replace the whole state with a snapshot's; 400 naming the field, and no change, when
    any part of it does not fit."""
    state = mock_state(request)
    data = await _snapshot_body(request)
    try:
        restore(state, data)
    except SnapshotRefused as exc:
        raise BadInput(str(exc)) from None
    state.advance()
    await _committed(state)
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
