"""Reading control-API input: token check, JSON bodies, query filters, each with a clear 4xx.

Bad control input is the test author's mistake, so every answer says which field is wrong
and why; nothing a caller sends can produce a 500.
"""

from __future__ import annotations

import hmac
import json
import math
from collections.abc import Awaitable, Callable, Iterable
from typing import Any

from starlette.requests import Request
from starlette.responses import Response

from mock_gateway.web.parse import mock_state
from mock_gateway.web.responses import JSONBody
from mock_gateway.web.streams import read_limited

Handler = Callable[[Request], Awaitable[Response]]
MAX_CONTROL_BODY = 1024 * 1024
PAGE_LIMIT = 1000  # the most entries one list answer carries (and the default page size)
PAGE_PARAMS = ("limit", "offset")
TOKEN_HEADER = "x-mock-control-token"


class BadInput(ValueError):
    """Raised by the readers below; ``guarded`` turns it into a 400."""


def problem(status: int, message: str) -> JSONBody:
    error = {400: "Bad Request", 401: "Unauthorized", 404: "Not Found"}.get(status, "Error")
    return JSONBody({"error": error, "message": message}, status_code=status)


def _authorised(request: Request, token: str) -> bool:
    sent = request.headers.get(TOKEN_HEADER)
    if sent is None:
        scheme, _, value = request.headers.get("authorization", "").partition(" ")
        sent = value.strip() if scheme.lower() == "bearer" else None
    return sent is not None and hmac.compare_digest(sent.encode(), token.encode())


def guarded(handler: Handler) -> Handler:
    """Check the control token (when one is set) and map ``BadInput`` to 400."""

    async def endpoint(request: Request) -> Response:
        token = mock_state(request).settings.control_token
        if token and not _authorised(request, token):
            return problem(
                401,
                "the control API needs the token given with --control-token: send "
                "'Authorization: Bearer <token>' or 'X-Mock-Control-Token: <token>'",
            )
        try:
            return await handler(request)
        except BadInput as exc:
            return problem(400, str(exc))

    endpoint.__name__ = handler.__name__
    endpoint.__doc__ = handler.__doc__
    return endpoint


async def json_body(request: Request, *, allow_list: bool = False) -> Any:
    """The parsed body; an empty body is ``{}``."""
    raw = await read_limited(request.stream(), MAX_CONTROL_BODY)
    if raw is None:
        raise BadInput(f"body: must be at most {MAX_CONTROL_BODY} bytes")
    if not raw.strip():
        return {}
    try:
        data = json.loads(raw)
    except (ValueError, RecursionError):
        raise BadInput("body: not valid JSON") from None
    if not isinstance(data, dict) and not (allow_list and isinstance(data, list)):
        kinds = "a JSON object or an array of objects" if allow_list else "a JSON object"
        raise BadInput(f"body: must be {kinds} (got {type(data).__name__})")
    return data


def only(data: dict[str, Any], allowed: Iterable[str]) -> None:
    names = list(allowed)
    unknown = sorted(set(data) - set(names))
    if unknown:
        raise BadInput(f"{unknown[0]}: unknown field (allowed: {', '.join(names) or 'none'})")


def number(value: Any, name: str, low: float, high: float) -> float:
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise BadInput(f"{name}: must be a number (got {json.dumps(value)[:60]})")
    if not math.isfinite(value) or not low <= value <= high:
        raise BadInput(f"{name}: must be between {low:g} and {high:g} (got {value})")
    return float(value)


def query(request: Request, allowed: Iterable[str]) -> dict[str, str]:
    params = dict(request.query_params)
    only(params, allowed)
    return params


def query_number(params: dict[str, str], name: str, low: float, high: float) -> float | None:
    if name not in params:
        return None
    try:
        value = float(params[name])
    except ValueError:
        raise BadInput(f"{name}: must be a number (got {params[name][:60]!r})") from None
    return number(value, name, low, high)


def query_int(params: dict[str, str], name: str, low: int, high: int) -> int | None:
    if name not in params:
        return None
    text = params[name]
    if not text.lstrip("-").isdigit():
        raise BadInput(f"{name}: must be an integer (got {text[:60]!r})")
    return int(number(int(text), name, low, high))


def query_bool(params: dict[str, str], name: str) -> bool:
    text = params.get(name, "false").lower()
    if text not in ("true", "false", "1", "0"):
        raise BadInput(f"{name}: must be true or false (got {text[:60]!r})")
    return text in ("true", "1")


def query_page(params: dict[str, str]) -> tuple[int, int | None]:
    """``limit`` (default and at most ``PAGE_LIMIT``) and ``offset`` (None when not sent)
    of a paged list; the answer then carries ``total`` and ``next_offset``."""
    limit = query_int(params, "limit", 0, PAGE_LIMIT)
    return (PAGE_LIMIT if limit is None else limit), query_int(params, "offset", 0, 2**62)
