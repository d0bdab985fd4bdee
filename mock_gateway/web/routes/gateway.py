"""The documented endpoints: five submits and the universal status endpoint.

Each route parses what the pipeline needs (``web.parse``), asks the pipeline for the
outcome and renders it (``web.responses.render``). The only thing done here that needs I/O
is fetching remote input images, when the user opted in.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable

from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from mock_gateway import pipeline
from mock_gateway.validation.contract import Operation
from mock_gateway.web.parse import mock_state, status_call, submit_call
from mock_gateway.web.responses import render

Endpoint = Callable[[Request], Awaitable[Response]]


def submit_endpoint(operation: Operation) -> Endpoint:
    async def submit(request: Request) -> Response:
        state = mock_state(request)
        call = await submit_call(request, operation, state.settings.max_body_bytes)
        decided = pipeline.submit(state.world, call, state.now())
        if isinstance(decided, pipeline.FetchInputs):
            fetched = await state.remote_inputs.fetch(decided.urls)
            decided = decided.resume(fetched, state.now())
        return await render(request, state, decided)

    submit.__name__ = operation.operation_id
    return submit


async def status(request: Request) -> Response:
    state = mock_state(request)
    outcome = pipeline.status(state.world, status_call(request), state.now())
    return await render(request, state, outcome)


def gateway_routes(operations: list[Operation]) -> list[Route]:
    routes = [
        Route(operation.path, submit_endpoint(operation), methods=["POST"])
        for operation in operations
    ]
    routes.append(Route("/v2/requests/status/{request_id}", status, methods=["GET"]))
    return routes
