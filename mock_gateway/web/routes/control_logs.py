"""Control API, continued: fault rules, the request journal and the webhook log."""

from __future__ import annotations

from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from mock_gateway.steering.bounded import page_bounds
from mock_gateway.steering.faults import FaultError, FaultSpec, describe, parse_rule
from mock_gateway.steering.journal import JournalFilter
from mock_gateway.web.parse import mock_state
from mock_gateway.web.responses import JSONBody
from mock_gateway.web.routes.control_input import (
    PAGE_PARAMS,
    BadInput,
    guarded,
    json_body,
    problem,
    query,
    query_bool,
    query_int,
    query_number,
    query_page,
)

WEBHOOK_STATES = ("pending", "in_flight", "delivered", "failed", "blocked")
MAX_WAIT_SECONDS = 30.0


@guarded
async def add_faults(request: Request) -> Response:
    """One rule (an object) or several (an array); all are checked before any is added."""
    state = mock_state(request)
    body = await json_body(request, allow_list=True)
    rules = body if isinstance(body, list) else [body]
    specs: list[FaultSpec] = []
    for position, rule in enumerate(rules):
        try:
            specs.append(parse_rule(rule, state.fault_endpoints))
        except FaultError as exc:
            where = f"[{position}] " if isinstance(body, list) else ""
            raise BadInput(f"{where}{exc}") from None
    try:
        added = [describe(state.faults.add(spec)) for spec in specs]
    except FaultError as exc:
        raise BadInput(str(exc)) from None
    state.waker.wake()
    return JSONBody(added[0] if isinstance(body, dict) else {"faults": added}, status_code=201)


@guarded
async def list_faults(request: Request) -> Response:
    state = mock_state(request)
    key = query(request, ["key"]).get("key")
    rules = [rule for rule in state.faults.rules() if key is None or rule.spec.key == key]
    return JSONBody({"faults": [describe(rule) for rule in rules]})


@guarded
async def clear_faults(request: Request) -> Response:
    """Every rule, or with ``?key=K`` only the rules scoped to that key."""
    state = mock_state(request)
    key = query(request, ["key"]).get("key")
    return JSONBody({"removed": state.faults.clear(key)})


@guarded
async def delete_fault(request: Request) -> Response:
    state = mock_state(request)
    if not state.faults.remove(request.path_params["rule_id"]):
        return problem(404, "no such fault rule (GET /_mock/faults lists them)")
    return Response(status_code=204)


def journal_filter(params: dict[str, str]) -> JournalFilter:
    limit, offset = query_page(params)
    return JournalFilter(
        key=params.get("key"),
        path=params.get("path"),
        method=params["method"].upper() if "method" in params else None,
        status=query_int(params, "status", 0, 599),
        since=query_number(params, "since", 0, 1e12),
        request_id=params.get("request_id"),
        warned=query_bool(params, "warned"),
        limit=limit,
        offset=offset,
    )


@guarded
async def list_requests(request: Request) -> Response:
    """The journal, oldest first; filters combine (key, path prefix, status, since ...)."""
    state = mock_state(request)
    names = ["key", "path", "method", "status", "since", "request_id", "warned", *PAGE_PARAMS]
    where = journal_filter(query(request, names))
    journal = state.journal
    page = journal.page(where)
    return JSONBody(
        {
            "requests": page.entries,
            "recorded": journal.recorded,
            "capacity": journal.capacity,
            "total": page.total,
            "next_offset": page.next_offset,
            "kept_bytes": journal.total_bytes,
            "max_bytes": journal.max_bytes,
        }
    )


@guarded
async def clear_requests(request: Request) -> Response:
    state = mock_state(request)
    state.journal.clear()
    return Response(status_code=204)


@guarded
async def list_webhooks(request: Request) -> Response:
    """Every delivery with its attempts. ``?wait=S`` first waits (up to S real seconds) until
    no attempt is in flight or due, so a test reads a settled log."""
    state = mock_state(request)
    params = query(request, ["key", "request_id", "state", "wait", *PAGE_PARAMS])
    limit, offset = query_page(params)
    wanted = params.get("state")
    if wanted is not None and wanted not in WEBHOOK_STATES:
        raise BadInput(f"state: must be one of {', '.join(WEBHOOK_STATES)}")
    await state.settle(query_number(params, "wait", 0, MAX_WAIT_SECONDS) or 0.0)
    found = state.webhooks.matching(
        key=params.get("key"), request_id=params.get("request_id"), state=wanted
    )
    start, stop, next_offset = page_bounds(len(found), limit, offset or 0)
    shown = [delivery.to_json() for delivery in found[start:stop]]
    return JSONBody({"webhooks": shown, "total": len(found), "next_offset": next_offset})


def log_routes() -> list[Route]:
    return [
        Route("/_mock/faults", add_faults, methods=["POST"]),
        Route("/_mock/faults", list_faults, methods=["GET"]),
        Route("/_mock/faults", clear_faults, methods=["DELETE"]),
        Route("/_mock/faults/{rule_id}", delete_fault, methods=["DELETE"]),
        Route("/_mock/requests", list_requests, methods=["GET"]),
        Route("/_mock/requests", clear_requests, methods=["DELETE"]),
        Route("/_mock/webhooks", list_webhooks, methods=["GET"]),
    ]
