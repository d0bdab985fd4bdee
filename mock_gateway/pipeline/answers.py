"""Every answer the gateway pipeline can give, as bytes: no web framework here.

Two error shapes reach a client: the gateway's ``{"error", "message"}`` and, for what API
Management answers before the gateway sees the call, APIM's ``{"statusCode", "message"}``.
Fault rules answer in the shape the live gateway would use for each status, so a client's
error mapping is exercised for real.
"""

from __future__ import annotations

import json
from http import HTTPStatus
from typing import Any, NamedTuple

from mock_gateway.core import AuthFailure
from mock_gateway.core.wallet import format_usd
from mock_gateway.steering.faults import Call, FaultSpec

APIM_MISSING_KEY = (
    "Access denied due to missing subscription key. "
    "Make sure to include subscription key when making requests to an API."
)
APIM_INVALID_KEY = (
    "Access denied due to invalid subscription key. "
    "Make sure to provide a valid key for an active subscription."
)
MAX_SHOWN_ID = 200  # a request id echoed in a 404 is cut here, so a huge path stays small

Headers = tuple[tuple[str, str], ...]


class Answer(NamedTuple):
    """Status, headers and the exact body bytes of one HTTP answer (a NamedTuple, not a
    frozen dataclass: as immutable, and built several times faster, once per call)."""

    status: int
    body: bytes
    headers: Headers = ()


# Compact JSON, like the gateway sends, in encoders built once (``json.dumps`` with options
# builds one per call; every status body and answer is encoded here)
_COMPACT = json.JSONEncoder(ensure_ascii=False, separators=(",", ":"))
_COMPACT_ASCII = json.JSONEncoder(separators=(",", ":"))


def encode_json(content: Any) -> bytes:
    """Compact JSON, like the gateway sends."""
    try:
        return _COMPACT.encode(content).encode()
    except UnicodeEncodeError:
        # A lone surrogate a client sent (the journal echoes bodies) has no UTF-8 form;
        # ASCII-escaped JSON still carries it faithfully (and ASCII is UTF-8).
        return _COMPACT_ASCII.encode(content).encode()


def json_answer(status: int, content: Any, headers: Headers = ()) -> Answer:
    return Answer(status, encode_json(content), headers)


def accepted(request_id: str, polling_url: str) -> Answer:
    """A submit's 202: the bytes ``json_answer`` makes of ``{"request_id", "status":
    "QUEUED", "polling_url"}``, without encoding a dict on every submit."""
    try:
        body = b'{"request_id":%b,"status":"QUEUED","polling_url":%b}' % (
            _COMPACT.encode(request_id).encode("utf-8"),
            _COMPACT.encode(polling_url).encode("utf-8"),
        )
    except UnicodeEncodeError:  # a lone surrogate: encode_json's ASCII form, all of it
        fields = {"request_id": request_id, "status": "QUEUED", "polling_url": polling_url}
        return json_answer(202, fields)
    return Answer(202, body)


def gateway_error(status: int, error: str, message: str) -> Answer:
    return json_answer(status, {"error": error, "message": message})


def apim_error(status: int, message: str, headers: Headers = ()) -> Answer:
    return json_answer(status, {"statusCode": status, "message": message}, headers)


def quota_message(now: float) -> str:
    """APIM's 403 text; the quota is taken to renew at midnight UTC (mock time)."""
    remaining = int(86400 - (now % 86400))
    hours, rest = divmod(remaining, 3600)
    minutes, seconds = divmod(rest, 60)
    return (
        "Out of call volume quota. Quota will be replenished in "
        f"{hours:02d}:{minutes:02d}:{seconds:02d}."
    )


def auth_failure(failure: AuthFailure, now: float) -> Answer:
    if failure is AuthFailure.FORBIDDEN:
        return apim_error(403, quota_message(now))
    missing = failure is AuthFailure.MISSING_KEY
    return apim_error(401, APIM_MISSING_KEY if missing else APIM_INVALID_KEY)


def rate_limit_exceeded(retry_after: int) -> Answer:
    return apim_error(
        429,
        f"Rate limit is exceeded. Try again in {retry_after} seconds.",
        (("Retry-After", str(retry_after)),),
    )


def insufficient_balance(required_micros: int) -> Answer:
    message = f"Your wallet does not have enough balance. Required: {format_usd(required_micros)}"
    return gateway_error(402, "Insufficient Balance", message)


def request_not_found(request_id: str) -> Answer:
    return gateway_error(
        404, "Request not found", f"Request '{request_id[:MAX_SHOWN_ID]}' not found"
    )


def model_disabled(model: str) -> Answer:
    return gateway_error(400, "Model not found", f"Model '{model}' not found or is disabled")


def fault_answer(
    spec: FaultSpec, call: Call, now: float, price_micros: int, request_id: str
) -> Answer:
    """What a fault rule with a ``status`` answers: its own body and headers, or the body
    the live gateway would send with that status (read exactly like the real answer).
    Header names are matched without regard to case: the rule's own headers win, then its
    ``retry_after``, then the headers of the answer it stands in for."""
    status = spec.status or 500
    headers = {name.lower(): (name, value) for name, value in spec.headers}
    if spec.retry_after is not None:
        headers.setdefault("retry-after", ("Retry-After", str(spec.retry_after)))
    if spec.body is not None:
        return json_answer(status, spec.body, tuple(headers.values()))
    answer = _default_fault_answer(status, spec, call, now, price_micros, request_id)
    merged = {name.lower(): (name, value) for name, value in answer.headers} | headers
    return Answer(answer.status, answer.body, tuple(merged.values()))


def _default_fault_answer(
    status: int, spec: FaultSpec, call: Call, now: float, price_micros: int, request_id: str
) -> Answer:
    if status == 429:
        return rate_limit_exceeded(spec.retry_after if spec.retry_after is not None else 1)
    if status in (401, 403):
        failure = AuthFailure.INVALID_KEY if status == 401 else AuthFailure.FORBIDDEN
        return auth_failure(failure, now)
    if status == 402:
        return insufficient_balance(price_micros)
    if status == 404 and call.kind == "status":
        return request_not_found(request_id)
    if status == 404:
        return apim_error(404, "Resource not found")
    if status < 300:
        return json_answer(status, {})
    phrase = _phrase(status)
    return gateway_error(status, phrase, f"{phrase} (a fault injected into the mock)")


def _phrase(status: int) -> str:
    try:
        return HTTPStatus(status).phrase
    except ValueError:
        return "Error"
