"""Steps every gateway route shares: the APIM checks and reading a bounded JSON body."""

from __future__ import annotations

from starlette.requests import Request
from starlette.responses import Response

from mock_gateway.core.gateway import Account, AuthFailure
from mock_gateway.validation.request import Rejection, check_content_type
from mock_gateway.web.asgi import key_of
from mock_gateway.web.responses import auth_failure, gateway_error, rate_limited
from mock_gateway.web.state import MockState
from mock_gateway.web.streams import read_limited


def mock_state(request: Request) -> MockState:
    state: MockState = request.app.state.mock
    return state


def apim_gate(request: Request, state: MockState, group: str, now: float) -> Account | Response:
    """What API Management decides before the gateway sees the call: key, then rate limit.

    Rejected calls never reach the wallet. A call made before the ``Retry-After`` this key
    was given is flagged in the journal (client hygiene).
    """
    account = state.core.authenticate(key_of(request.scope))
    if isinstance(account, AuthFailure):
        return auth_failure(account, now)
    if account.auto:
        state.core.idle_accounts.touch(account.key, now)
    early = state.hygiene.before_call(account.key, group, now)
    if early is not None:
        request.scope.setdefault("mock.warnings", []).append(early)
    limited = state.core.check_rate(account, group, now)
    if limited is not None:
        state.hygiene.rate_limited(account.key, group, now, limited.retry_after)
        return rate_limited(limited.retry_after)
    return account


def rejection_response(rejection: Rejection) -> Response:
    return gateway_error(rejection.status, rejection.error, rejection.message)


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
    request.scope["mock.body"] = body  # the journal shows what the client sent
    return body
