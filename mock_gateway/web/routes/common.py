"""What every gateway route reads from a request: its state and a bounded JSON body."""

from __future__ import annotations

from starlette.requests import Request

from mock_gateway.validation.request import Rejection, bad_request
from mock_gateway.web.state import MockState
from mock_gateway.web.streams import read_limited


def mock_state(request: Request) -> MockState:
    state: MockState = request.app.state.mock
    return state


def base_url(request: Request) -> str:
    """The URL the client used to reach the mock, so returned URLs lead back to it.

    Built from the scope directly: ``request.base_url`` parses a whole URL object per call,
    which showed up as the largest cost of a status poll.
    """
    scope = request.scope
    host = request.headers.get("host")
    if not host:
        server = scope.get("server") or ("127.0.0.1", 80)
        host = f"{server[0]}:{server[1]}"
    return f"{scope['scheme']}://{host}{scope.get('root_path', '')}".rstrip("/")


async def read_json_body(request: Request, limit: int) -> bytes | Rejection:
    """The raw body, refusing wrong content types and anything over ``limit`` bytes
    without reading it all into memory first."""
    content_type = request.headers.get("content-type", "")
    if content_type.split(";")[0].strip().lower() != "application/json":
        shown = content_type or "none"
        return bad_request(f"Content-Type: must be application/json (got {shown})")
    declared = request.headers.get("content-length")
    too_large = Rejection(413, "Payload Too Large", f"body: must be at most {limit} bytes")
    if declared is not None and declared.isdigit() and int(declared) > limit:
        return too_large
    body = await read_limited(request.stream(), limit)
    if body is None:
        return too_large
    return body
