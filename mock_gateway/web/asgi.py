"""The ASGI entry point: Starlette plus the journal and the ability to drop a connection.

A gateway route hands its pipeline ``Outcome`` over with ``hand_outcome``; the journal
entry is made from the outcome's typed note. The journal is recorded here rather than in a
middleware class: one ``send`` wrapper and a bounded ``deque`` append per call is all the
hot status path pays (Starlette's ``BaseHTTPMiddleware`` would cost a task and a stream
per request). Control-API calls and the readiness probe stay out of the journal: it shows
gateway traffic only.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import anyio
from starlette.applications import Starlette
from starlette.types import Message, Receive, Scope, Send

from mock_gateway.web.aborts import ERROR_KEY, stopped_mid_request
from mock_gateway.web.parse import key_of

if TYPE_CHECKING:
    from mock_gateway.pipeline import Outcome
    from mock_gateway.web.state import MockState

UNJOURNALED = ("/_mock", "/_health")
OUTCOME = "mock.outcome"  # the one thing a route leaves in the scope for the journal


def hand_outcome(scope: Scope, outcome: Outcome) -> None:
    """Give this call's decided outcome to ``MockApp`` (for the journal, and to hang up)."""
    scope[OUTCOME] = outcome


def outcome_of(scope: Scope) -> Outcome | None:
    outcome: Outcome | None = scope.get(OUTCOME)
    return outcome


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

    @property
    def mock_state(self) -> MockState:
        """The state behind this app (``web.fast`` answers hot routes from it directly)."""
        return self._mock

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
            outcome = outcome_of(scope)
            dropped = outcome is not None and outcome.drop
            error = scope.get(ERROR_KEY)
            if error is not None:
                status = None
            elif status is None and not dropped:
                status = 500  # an exception escaped before any answer
            note = None if outcome is None else outcome.note
            key = key_of(scope) if note is None else note.key
            state.journal.record(started, scope["method"], scope["path"], key, status, note, error)
        if dropped:
            await drop_connection(send)
