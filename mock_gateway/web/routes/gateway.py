"""The documented endpoints: five submits and the universal status endpoint.

Each route parses what the pipeline needs (``web.parse``), asks the pipeline for the
outcome and renders it (``web.responses.render``). What the pipeline hands back as pending
is carried out here: fetching remote input images (when the user opted in) and parsing a
big body in a worker thread.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable

import anyio.to_thread
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from mock_gateway import pipeline
from mock_gateway.pipeline import FetchInputs, Outcome, Pending
from mock_gateway.validation.contract import Operation
from mock_gateway.web.parse import mock_state, status_call, submit_call
from mock_gateway.web.responses import render
from mock_gateway.web.state import MockState

Endpoint = Callable[[Request], Awaitable[Response]]


async def carry_out(state: MockState, decided: Outcome | Pending) -> Outcome:
    """Run what the pipeline could not (I/O, heavy CPU) and resume it until it decides."""
    while not isinstance(decided, Outcome):
        if isinstance(decided, FetchInputs):
            decided = decided.resume(await state.remote_inputs.fetch(decided.urls), state.now())
        else:
            result = await anyio.to_thread.run_sync(decided.work, limiter=state.compute_limiter())
            decided = decided.resume(result, state.now())
    return decided


def submit_endpoint(operation: Operation) -> Endpoint:
    async def submit(request: Request) -> Response:
        state = mock_state(request)
        call = await submit_call(request, operation, state.settings.max_body_bytes)
        decided = pipeline.submit(state.world, call, state.now())
        return await render(request, state, await carry_out(state, decided))

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
