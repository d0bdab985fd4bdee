"""The HTTP side of ``--state FILE``: a control call answers once its change is committed,
and a commit that fails is answered 503 in the gateway's shape, never a 500.

A submit whose 202 could not be made durable gets the 503 instead: it was never
acknowledged, so its charge goes back at once and its job ends in ERROR (nobody learned its
id). A control call's change stays in memory; the 503 says it is not on disk, and the next
commit that succeeds writes it (the changes of a failed commit are carried into the next).
"""

from __future__ import annotations

from collections.abc import Sequence

from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import BaseRoute, Route

from mock_gateway.core import Job
from mock_gateway.pipeline import answers
from mock_gateway.pipeline.answers import Answer
from mock_gateway.web.asgi import outcome_of
from mock_gateway.web.parse import mock_state
from mock_gateway.web.responses import answer_response
from mock_gateway.web.routes.gateway import Endpoint
from mock_gateway.web.state import MockState

READ_ONLY = frozenset({"GET", "HEAD"})


def _committed(endpoint: Endpoint) -> Endpoint:
    async def handler(request: Request) -> Response:
        response = await endpoint(request)
        durability = mock_state(request).durability
        if durability is not None:
            await durability.commit_all()  # durable before answered
        return response

    handler.__name__ = getattr(endpoint, "__name__", "control")
    return handler


def durable_control(routes: Sequence[BaseRoute]) -> list[BaseRoute]:
    """The control routes, each that changes state answering only after its commit."""
    wrapped: list[BaseRoute] = []
    for route in routes:
        if isinstance(route, Route) and route.methods and route.methods - READ_ONLY:
            route = Route(
                route.path,
                _committed(route.endpoint),
                methods=sorted(route.methods - {"HEAD"}),
                name=route.name,
            )
        wrapped.append(route)
    return wrapped


def unsaved_answer(state: MockState, queued: Job | None, problem: Exception) -> Answer:
    """The answer instead of one whose commit failed (``StateWriteError``): for a submit
    (``queued``: its job) the job is given up and its charge returned; a control call's
    change stays in memory. Any path that awaits ``durability.wait()`` answers this."""
    if queued is not None:
        state.unacknowledged(queued)
        message = (
            f"The request was not accepted and nothing was charged: {problem}. "
            "Free some space and try again."
        )
    else:
        message = f"The change was made in memory but is not saved yet: {problem}."
    refused = answers.gateway_error(503, "Service Unavailable", message)
    return refused._replace(headers=(("Retry-After", "1"),))


async def unsaved(request: Request, exc: Exception) -> Response:
    """The app's handler of ``StateWriteError`` (a full disk, an I/O error): 503."""
    outcome = outcome_of(request.scope)
    queued = None if outcome is None else outcome.queued
    return answer_response(unsaved_answer(mock_state(request), queued, exc))
