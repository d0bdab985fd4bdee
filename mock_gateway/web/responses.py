"""Rendering answers for Starlette: the pipeline's ``Answer`` (exact bytes) and the JSON
bodies of the mock's own routes (control API, media), in the gateway's compact style.

The bodies themselves are built in ``mock_gateway.pipeline.answers``; this module only
wraps them, so the gateway and the HTTP layer can never word an error differently.
"""

from __future__ import annotations

from typing import Any

from starlette.responses import Response

from mock_gateway.pipeline import answers
from mock_gateway.pipeline.answers import Answer


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


def not_found_route() -> Response:
    return answer_response(answers.apim_error(404, "Resource not found"))
