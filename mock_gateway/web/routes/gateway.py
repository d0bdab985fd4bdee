"""The documented endpoints: five submits and the universal status endpoint.

Each route parses what the pipeline needs, asks the pipeline for the outcome and renders
it; the only things done here are the ones that need I/O (reading the body, fetching
remote inputs when opted in, holding an answer for an injected latency, hanging up).
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable

import anyio
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route
from starlette.types import Receive, Scope, Send

from mock_gateway import pipeline
from mock_gateway.pipeline import Outcome, StatusCall, SubmitCall
from mock_gateway.validation.contract import Operation
from mock_gateway.web.asgi import hand_outcome, key_of
from mock_gateway.web.responses import answer_response
from mock_gateway.web.routes.common import base_url, mock_state, read_json_body
from mock_gateway.web.state import MockState

Endpoint = Callable[[Request], Awaitable[Response]]


class DropConnection(Response):
    """Sends nothing: ``MockApp`` sees the outcome's ``drop`` and closes the connection."""

    def __init__(self) -> None:
        super().__init__(status_code=500)

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        return None


async def render(request: Request, state: MockState, outcome: Outcome) -> Response:
    """Carry out what the outcome asks for, then answer with its exact bytes."""
    state.carry_out(outcome.advanced)
    hand_outcome(request.scope, outcome)
    if outcome.delay_seconds:
        await anyio.sleep(outcome.delay_seconds)  # real time: it is network latency
    if outcome.drop:
        return DropConnection()
    return answer_response(outcome.answer)


def submit_endpoint(operation: Operation) -> Endpoint:
    async def submit(request: Request) -> Response:
        state = mock_state(request)
        call = SubmitCall(
            key=key_of(request.scope),
            operation=operation,
            body=await read_json_body(request, state.settings.max_body_bytes),
            webhook_url=request.headers.get("x-webhook-url"),
            base_url=base_url(request),
        )
        decided = pipeline.submit(state.world, call, state.now())
        if isinstance(decided, pipeline.FetchInputs):
            fetched = await state.remote_inputs.fetch(decided.urls)
            decided = decided.resume(fetched, state.now())
        return await render(request, state, decided)

    submit.__name__ = operation.operation_id
    return submit


async def status(request: Request) -> Response:
    state = mock_state(request)
    call = StatusCall(key_of(request.scope), request.path_params["request_id"], base_url(request))
    return await render(request, state, pipeline.status(state.world, call, state.now()))


def gateway_routes(operations: list[Operation]) -> list[Route]:
    routes = [
        Route(operation.path, submit_endpoint(operation), methods=["POST"])
        for operation in operations
    ]
    routes.append(Route("/v2/requests/status/{request_id}", status, methods=["GET"]))
    return routes
