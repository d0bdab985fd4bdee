"""Requests that end without an answer, told apart from the mock's own failures.

A client hanging up mid-body is the client's doing: the journal records it (status null,
``error``: "client disconnected") and the log stays quiet. A request still running when the
server stops (its body still arriving, say) is answered 503 and ended quietly, instead of
uvicorn printing a ``CancelledError`` traceback for each one.
"""

from __future__ import annotations

import contextlib

import anyio
from starlette.requests import ClientDisconnect, Request
from starlette.responses import Response
from starlette.types import Scope, Send

ERROR_KEY = "mock.error"  # set in the scope: the request got no (deliverable) answer
CLIENT_DISCONNECTED = "client disconnected"
STOPPED = "the mock stopped before the request completed"
# The gateway's error shape, written out: this module sits below the response helpers.
SHUTTING_DOWN = b'{"error":"Service Unavailable","message":"The mock is shutting down."}'


async def client_disconnected(request: Request, exc: Exception) -> Response:
    """Exception handler for ``ClientDisconnect``: there is nobody left to answer."""
    request.scope[ERROR_KEY] = CLIENT_DISCONNECTED
    return Response(status_code=400)  # never delivered; uvicorn drops it


async def stopped_mid_request(scope: Scope, send: Send, answered: bool) -> None:
    """The request's task was cancelled (the server is stopping): answer 503 if nothing
    was sent yet, shielded from the cancellation, and note it for the journal."""
    scope[ERROR_KEY] = STOPPED
    if answered:
        return
    response = Response(SHUTTING_DOWN, 503, {"connection": "close"}, "application/json")
    # The connection may be gone already: then there is nothing more to do.
    with anyio.CancelScope(shield=True), contextlib.suppress(Exception):
        await response({"type": "http"}, _no_body, send)


async def _no_body() -> dict[str, object]:
    return {"type": "http.disconnect"}


__all__ = ["ClientDisconnect", "client_disconnected", "stopped_mid_request"]
