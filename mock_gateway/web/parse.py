"""Reading what the gateway pipeline needs from an HTTP request, and nothing more.

The subscription key (header first, then APIM's query parameter), the base URL the client
used, and a bounded JSON body: the one reading of each, for the pipeline and the journal.
"""

from __future__ import annotations

from collections.abc import Iterable
from urllib.parse import parse_qs

from starlette.requests import Request
from starlette.types import Scope

from mock_gateway.pipeline import StatusCall, SubmitCall
from mock_gateway.validation.contract import Operation
from mock_gateway.validation.request import Rejection, check_content_type
from mock_gateway.web.state import MockState
from mock_gateway.web.streams import read_limited

KEY_HEADER = b"ocp-apim-subscription-key"


def mock_state(request: Request) -> MockState:
    state: MockState = request.app.state.mock
    return state


def key_of(scope: Scope) -> str | None:
    """The subscription key as sent (header first, then APIM's query parameter)."""
    return key_from(scope["headers"], scope.get("query_string", b""))


def key_from(headers: Iterable[tuple[bytes, bytes]], query: bytes) -> str | None:
    """``key_of`` for raw (lower-cased) header pairs and a raw query string."""
    for name, value in headers:
        if name == KEY_HEADER and value:
            return bytes(value).decode("latin-1")
    if b"subscription-key=" in query:
        values = parse_qs(query.decode("latin-1")).get("subscription-key")
        return values[0] if values else None
    return None


def base_url(request: Request) -> str:
    """The URL the client used to reach the mock, so returned URLs lead back to it.

    Built from the scope directly: ``request.base_url`` parses a whole URL object per call,
    which showed up as the largest cost of a status poll.
    """
    scope = request.scope
    host = request.headers.get("host")
    return base_url_from(scope["scheme"], host, scope.get("server"), scope.get("root_path", ""))


def base_url_from(
    scheme: str, host: str | None, server: tuple[str, int | None] | None, root_path: str
) -> str:
    """``base_url`` from its parts (the Host header's value, the bound address)."""
    if not host:
        server = server or ("127.0.0.1", 80)
        host = f"{server[0]}:{server[1]}"
    return f"{scheme}://{host}{root_path}".rstrip("/")


async def read_json_body(request: Request, limit: int) -> bytes | Rejection:
    """The raw body, refusing wrong content types and anything over ``limit`` bytes
    without reading it all into memory first."""
    wrong_type = check_content_type(request.headers.get("content-type", ""))
    if wrong_type is not None:
        return wrong_type
    declared = request.headers.get("content-length")
    too_large = Rejection(413, "Payload Too Large", f"body: must be at most {limit} bytes")
    if declared is not None and declared.isdigit() and int(declared) > limit:
        return too_large
    body = await read_limited(request.stream(), limit)
    if body is None:
        return too_large
    return body


def status_call(request: Request) -> StatusCall:
    return StatusCall(key_of(request.scope), request.path_params["request_id"], base_url(request))


async def submit_call(request: Request, operation: Operation, limit: int) -> SubmitCall:
    return SubmitCall(
        key=key_of(request.scope),
        operation=operation,
        body=await read_json_body(request, limit),
        webhook_url=request.headers.get("x-webhook-url"),
        base_url=base_url(request),
    )
