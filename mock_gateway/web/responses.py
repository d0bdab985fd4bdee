"""The two error shapes a client meets: the gateway's ``{"error", "message"}`` and, for what
API Management answers before the gateway sees the call, APIM's ``{"statusCode", "message"}``."""

from __future__ import annotations

import json
from typing import Any

from starlette.responses import Response

from mock_gateway.core import AuthFailure

APIM_MISSING_KEY = (
    "Access denied due to missing subscription key. "
    "Make sure to include subscription key when making requests to an API."
)
APIM_INVALID_KEY = (
    "Access denied due to invalid subscription key. "
    "Make sure to provide a valid key for an active subscription."
)


class JSONBody(Response):
    """Compact JSON, like the gateway sends (and faster than re-encoding per field)."""

    media_type = "application/json"

    def render(self, content: Any) -> bytes:
        try:
            return json.dumps(content, ensure_ascii=False, separators=(",", ":")).encode("utf-8")
        except UnicodeEncodeError:
            # A lone surrogate a client sent (the journal echoes bodies) has no UTF-8 form;
            # ASCII-escaped JSON still carries it faithfully.
            return json.dumps(content, separators=(",", ":")).encode("ascii")


def gateway_error(status: int, error: str, message: str) -> JSONBody:
    return JSONBody({"error": error, "message": message}, status_code=status)


def apim_error(status: int, message: str, headers: dict[str, str] | None = None) -> JSONBody:
    return JSONBody({"statusCode": status, "message": message}, status_code=status, headers=headers)


def quota_message(now: float) -> str:
    """APIM's 403 text; the quota is taken to renew at midnight UTC (mock time)."""
    remaining = int(86400 - (now % 86400))
    hours, rest = divmod(remaining, 3600)
    minutes, seconds = divmod(rest, 60)
    return (
        "Out of call volume quota. Quota will be replenished in "
        f"{hours:02d}:{minutes:02d}:{seconds:02d}."
    )


def auth_failure(failure: AuthFailure, now: float) -> JSONBody:
    if failure is AuthFailure.MISSING_KEY:
        return apim_error(401, APIM_MISSING_KEY)
    if failure is AuthFailure.INVALID_KEY:
        return apim_error(401, APIM_INVALID_KEY)
    return apim_error(403, quota_message(now))


def rate_limited(retry_after: int) -> JSONBody:
    return apim_error(
        429,
        f"Rate limit is exceeded. Try again in {retry_after} seconds.",
        headers={"Retry-After": str(retry_after)},
    )


def not_found_route() -> JSONBody:
    return apim_error(404, "Resource not found")
