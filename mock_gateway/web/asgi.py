"""The ASGI entry point: Starlette plus the journal and the ability to drop a connection.

The journal is recorded here rather than in a middleware class: one ``send`` wrapper and a
bounded ``deque`` append per call is all the hot status path pays (Starlette's
``BaseHTTPMiddleware`` would cost a task and a stream per request). Control-API calls and
the readiness probe stay out of the journal: it shows gateway traffic only.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any
from urllib.parse import parse_qs

import anyio
from starlette.applications import Starlette
from starlette.types import Message, Receive, Scope, Send

from mock_gateway.web.aborts import ERROR_KEY, stopped_mid_request

if TYPE_CHECKING:
    from mock_gateway.web.state import MockState

UNJOURNALED = ("/_mock", "/_health")
KEY_HEADER = b"ocp-apim-subscription-key"


def key_of(scope: Scope) -> str | None:
    """The subscription key as sent (header first, then APIM's query parameter); the one
    reading of it, for authentication and for the journal alike."""
    for name, value in scope["headers"]:
        if name == KEY_HEADER and value:
            return bytes(value).decode("latin-1")
    query: bytes = scope.get("query_string", b"")
    if b"subscription-key=" in query:
        values = parse_qs(query.decode("latin-1")).get("subscription-key")
        return values[0] if values else None
    return None


async def drop_connection(send: Send) -> None:
    """Close the client's connection without an answer, as a crashed gateway would.

    Under uvicorn, ``send`` is bound to the request cycle, which holds the transport. In
    process (httpx's ASGI transport) there is no socket: raise what httpx raises when a
    server hangs up, so the client under test sees the same exception either way.
    """
    cycle: Any = getattr(send, "__self__", None)
    transport = getattr(cycle, "transport", None)
    if transport is None:
        import httpx  # late: only the in-process transport needs it

        raise httpx.RemoteProtocolError("Server disconnected without sending a response.")
    transport.close()
    for _ in range(20):  # let uvicorn notice, so it does not try to answer 500 instead
        if getattr(cycle, "disconnected", True):
            break
        await anyio.sleep(0)


class MockApp(Starlette):
    def __init__(self, state: MockState, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self._mock = state

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or scope["path"].startswith(UNJOURNALED):
            await super().__call__(scope, receive, send)
            return
        state = self._mock
        started = state.clock.now()
        status: int | None = None

        async def tap(message: Message) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = message["status"]
            await send(message)

        try:
            await super().__call__(scope, receive, tap)
        except anyio.get_cancelled_exc_class():
            # The server is stopping: answer 503 and end quietly (re-raising would only
            # have uvicorn print a traceback per request still running).
            await stopped_mid_request(scope, send, answered=status is not None)
        finally:
            dropped = scope.get("mock.drop", False)
            error = scope.get(ERROR_KEY)
            if error is not None:
                status = None
            elif status is None and not dropped:
                status = 500  # an exception escaped before any answer
            state.journal.record(
                started, scope["method"], scope["path"], key_of(scope), status, scope, error
            )
        if dropped:
            await drop_connection(send)
