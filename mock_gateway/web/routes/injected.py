"""Turning a fault decision into what the client meets: a delay, an answer, a dropped line.

Default bodies follow the shape the live gateway would use for each status: API
Management's ``{"statusCode", "message"}`` for 401/403/429 and the gateway's
``{"error", "message"}`` for the rest, so a client's error mapping is exercised for real.
"""

from __future__ import annotations

from http import HTTPStatus

import anyio
from starlette.requests import Request
from starlette.responses import Response
from starlette.types import Receive, Scope, Send

from mock_gateway.core import AuthFailure
from mock_gateway.steering.faults import Call, Decision, FaultSpec
from mock_gateway.steering.journal import Flag
from mock_gateway.web.answers import insufficient_balance, request_not_found
from mock_gateway.web.responses import (
    JSONBody,
    auth_failure,
    gateway_error,
    not_found_route,
    rate_limited,
)
from mock_gateway.web.state import MockState


class DropConnection(Response):
    """Sends nothing: ``MockApp`` sees the mark and closes the connection instead."""

    def __init__(self) -> None:
        super().__init__(status_code=500)

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        scope["mock.drop"] = True


def fault_answer(
    spec: FaultSpec, call: Call, now: float, price_micros: int, request_id: str = ""
) -> Response:
    status = spec.status or 500
    headers = dict(spec.headers)
    if spec.retry_after is not None:
        headers.setdefault("Retry-After", str(spec.retry_after))
    if spec.body is not None:
        return JSONBody(spec.body, status_code=status, headers=headers or None)
    response: Response
    if status == 429:
        response = rate_limited(spec.retry_after if spec.retry_after is not None else 1)
    elif status == 401:
        response = auth_failure(AuthFailure.INVALID_KEY, now)
    elif status == 403:
        response = auth_failure(AuthFailure.FORBIDDEN, now)
    elif status == 402:
        response = insufficient_balance(price_micros)
    elif status == 404 and call.kind == "status":
        response = request_not_found(request_id)
    elif status == 404:
        response = not_found_route()
    elif status < 300:
        response = JSONBody({}, status_code=status)
    else:
        phrase = _phrase(status)
        response = gateway_error(status, phrase, f"{phrase} (a fault injected into the mock)")
    response.headers.update(headers)
    return response


def _phrase(status: int) -> str:
    try:
        return HTTPStatus(status).phrase
    except ValueError:
        return "Error"


def note_warning(request: Request, warning: Flag | None) -> None:
    """Attach a hygiene warning to this call's journal entry."""
    if warning is not None:
        request.scope.setdefault("mock.warnings", []).append(warning)


async def apply_faults(
    request: Request, state: MockState, call: Call, price_micros: int
) -> Response | Decision | None:
    """A Response to send instead of the real answer, or the decision (its ``outcome``
    forces how the job ends), or None when no rule fired."""
    if not state.faults.armed:
        return None
    decision = state.faults.decide(call)
    if decision is None:
        return None
    request.scope["mock.faults"] = decision.rule_ids
    if decision.latency_ms:
        await anyio.sleep(decision.latency_ms / 1000)  # real time: it is network latency
    if decision.drop:
        return DropConnection()
    if decision.answer is not None:
        now = state.now()
        if decision.answer.status == 429 and call.key is not None:
            retry_after = decision.answer.retry_after
            state.hygiene.rate_limited(call.key, call.kind, now, retry_after or 1)
        return fault_answer(
            decision.answer, call, now, price_micros, request.scope.get("mock.request_id", "")
        )
    return decision
