"""Rendering for Starlette: a gateway call's ``Outcome`` (exact bytes, latency, hang-up),
and the JSON bodies of the mock's own routes (control API, media) in the gateway's style.

The bodies themselves are built in ``mock_gateway.pipeline.answers``; this module only
wraps them, so the gateway and the HTTP layer can never word an error differently.
"""

from __future__ import annotations

from typing import Any

import anyio
from starlette.requests import Request
from starlette.responses import Response
from starlette.types import Receive, Scope, Send

from mock_gateway.pipeline import Outcome, answers
from mock_gateway.pipeline.answers import Answer
from mock_gateway.web.asgi import hand_outcome
from mock_gateway.web.state import MockState


class JSONBody(Response):
    """Compact JSON, like the gateway sends (and faster than re-encoding per field)."""

    media_type = "application/json"

    def render(self, content: Any) -> bytes:
        return answers.encode_json(content)


def answer_response(answer: Answer) -> Response:
    """The pipeline's answer as it is, byte for byte (a header it names wins)."""
    headers = dict(answer.headers) if answer.headers else None
    return Response(answer.body, answer.status, headers, media_type="application/json")


def gateway_error(status: int, error: str, message: str) -> Response:
    return answer_response(answers.gateway_error(status, error, message))


# A bug in the mock: the app's error handler and the protocol fast path give this same 500.
MOCK_FAILED = answers.gateway_error(500, "Internal Server Error", "The mock failed unexpectedly.")


def not_found_route() -> Response:
    return answer_response(answers.apim_error(404, "Resource not found"))


class DropConnection(Response):
    """Sends nothing: ``MockApp`` sees the outcome's ``drop`` and closes the connection."""

    def __init__(self) -> None:
        super().__init__(status_code=500)

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        return None


async def render(request: Request, state: MockState, outcome: Outcome) -> Response:
    """Carry out what a gateway call's outcome asks for, then answer with its exact bytes."""
    state.carry_out(outcome.advanced)
    hand_outcome(request.scope, outcome)
    if outcome.delay_seconds:
        await anyio.sleep(outcome.delay_seconds)  # real time: it is network latency
    if outcome.drop:
        return DropConnection()
    durability = state.commit_to_await(outcome)
    if durability is not None:
        await durability.wait()  # durable before acknowledged
    return answer_response(outcome.answer)
