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

from mock_gateway.web.asgi import outcome_of
from mock_gateway.web.parse import mock_state
from mock_gateway.web.responses import gateway_error
from mock_gateway.web.routes.gateway import Endpoint

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


async def unsaved(request: Request, exc: Exception) -> Response:
    """``StateWriteError`` (a full disk, an I/O error) -> 503."""
    state = mock_state(request)
    outcome = outcome_of(request.scope)
    if outcome is not None and outcome.queued is not None:
        state.unacknowledged(outcome.queued)
        message = (
            f"The request was not accepted and nothing was charged: {exc}. "
            "Free some space and try again."
        )
    else:
        message = f"The change was made in memory but is not saved yet: {exc}."
    response = gateway_error(503, "Service Unavailable", message)
    response.headers["Retry-After"] = "1"
    return response
