"""One proxied exchange, from the caller's request to the answer it gets.

The steps are the same for every call: check the request (report; with
``--reject-invalid`` refuse), price a submit against the limit (refuse when over), forward
to the upstream, check the answer, follow the job, rewrite ``polling_url``, report and
record. Local answers carry ``X-Mock-Proxy`` saying why the upstream never saw the call.
"""

from __future__ import annotations

import json
import logging
import time
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

from starlette.requests import Request
from starlette.responses import Response

from mock_gateway.proxy.answers import STATUS_OPERATION
from mock_gateway.proxy.findings import Finding
from mock_gateway.proxy.forwarding import Upstream, forwarded_headers, relayed_headers, status_path
from mock_gateway.proxy.inbound import Inbound, check_status_id, check_submit
from mock_gateway.proxy.record import scenario_of
from mock_gateway.proxy.rules import check_accepted, check_answer, parse_body
from mock_gateway.proxy.spend import SpendRefusal
from mock_gateway.proxy.state import ProxyState
from mock_gateway.validation.contract import Operation
from mock_gateway.validation.request import Rejection
from mock_gateway.web.asgi import key_of
from mock_gateway.web.responses import JSONBody, gateway_error
from mock_gateway.web.streams import read_limited
from seedream_contracts.document import STATUS_PREFIX
from seedream_contracts.exchange import Exchange

log = logging.getLogger("mock_gateway.proxy")
LOCAL_HEADER = "X-Mock-Proxy"  # on every answer the proxy gave itself


@dataclass
class Call:
    """What one exchange has gathered so far."""

    seq: int
    operation_id: str
    method: str
    path: str
    headers: list[tuple[str, str]]
    key: str | None
    body: bytes | None = None
    findings: list[Finding] = field(default_factory=list)
    cost: Decimal = Decimal(0)
    request_id: str | None = None


def proxy_base(request: Request) -> str:
    """Where the caller reached this proxy, from the socket it connected to (never from
    its ``Host`` header), so a rewritten ``polling_url`` leads back here."""
    scope = request.scope
    host, port = scope.get("server") or ("127.0.0.1", 80)
    shown = f"[{host}]" if ":" in str(host) else host
    return f"{scope['scheme']}://{shown}:{port}{scope.get('root_path', '')}".rstrip("/")


def _begin(state: ProxyState, request: Request, operation_id: str, path: str) -> Call:
    key = key_of(request.scope)
    state.sanitizer.learn_key(key)
    headers = forwarded_headers(
        (name.decode("latin-1"), value.decode("latin-1")) for name, value in request.headers.raw
    )
    return Call(state.report.next_seq(), operation_id, request.method, path, headers, key)


async def submit(state: ProxyState, operation: Operation, request: Request) -> Response:
    call = _begin(state, request, operation.operation_id, operation.path)
    call.body = await _read_body(request, state.settings.max_body_bytes)
    if call.body is None:  # never buffered beyond the limit, never forwarded
        limit = state.settings.max_body_bytes
        too_large = Rejection(413, "Payload Too Large", f"body: must be at most {limit} bytes")
        call.findings.append(Finding("request-body-size", too_large.message))
        return _refuse(state, call, "body-too-large", too_large.status, too_large.body())
    headers = request.headers
    inbound = check_submit(
        state.contract,
        operation,
        headers.get("content-type", ""),
        call.body,
        headers.get("x-webhook-url"),
    )
    refused = _check_inbound(state, call, inbound)
    if refused is not None:
        return refused
    num_images = inbound.num_images(operation)
    reservation = None
    if call.key:  # without a key API Management answers 401: nothing can be billed
        reserved = state.spend.reserve(operation, num_images)
        if isinstance(reserved, SpendRefusal):
            body = {"error": "Proxy spend limit reached", "message": reserved.message}
            return _refuse(state, call, "spend-cap", 402, body)
        reservation, call.cost = reserved, reserved.amount
    upstream = await _forward(state, call, request)
    if reservation is not None:
        state.spend.settle(reservation, upstream.status)
    answer = _check_upstream(state, call, upstream)
    rewritten = None
    if upstream.status is not None and 200 <= upstream.status < 300:
        call.findings += check_accepted(operation, state.settings.upstream, answer)
        _follow(state, call, operation, answer, num_images)
        rewritten = _rewritten(answer, proxy_base(request))
    label = scenario_of(operation, call.key is not None, upstream.status, inbound.body, num_images)
    return _finish(state, call, upstream, label, rewritten)


async def status(state: ProxyState, request: Request) -> Response:
    request_id: str = request.path_params["request_id"]
    call = _begin(state, request, STATUS_OPERATION, status_path(request_id))
    call.request_id = request_id
    refused = _check_inbound(state, call, check_status_id(request_id))
    if refused is not None:
        return refused
    upstream = await _forward(state, call, request)
    answer = _check_upstream(state, call, upstream)
    if upstream.status == 200 and isinstance(answer, dict):
        call.findings += state.tracker.observe(request_id, answer, time.monotonic())
    label = scenario_of(None, call.key is not None, upstream.status, None, None)
    return _finish(state, call, upstream, label, None)


async def _read_body(request: Request, limit: int) -> bytes | None:
    """The request body, or None when it is (or says it is) larger than ``limit``."""
    declared = request.headers.get("content-length", "")
    if declared.isdigit() and int(declared) > limit:
        return None
    return await read_limited(request.stream(), limit)


def _check_upstream(state: ProxyState, call: Call, upstream: Upstream) -> Any:
    """The answer's JSON (None: none or not JSON), after checking it against the contract."""
    if upstream.status is None:
        return None
    call.findings += check_answer(
        state.answers, call.operation_id, upstream.status, upstream.headers, upstream.body
    )
    return parse_body(upstream.body)


def _check_inbound(state: ProxyState, call: Call, inbound: Inbound) -> Response | None:
    if inbound.finding is not None:
        call.findings.append(inbound.finding)
    if inbound.rejection is not None and state.settings.reject_invalid:
        rejection = inbound.rejection
        return _refuse(state, call, "invalid-request", rejection.status, rejection.body())
    return None


def _follow(
    state: ProxyState, call: Call, operation: Operation, answer: Any, num_images: Any
) -> None:
    """A queued job: remember what it must produce, for the rules on its status reads."""
    request_id = answer.get("request_id") if isinstance(answer, dict) else None
    if isinstance(request_id, str):
        call.request_id = request_id
        counted = isinstance(num_images, int | float) and not isinstance(num_images, bool)
        images = int(num_images) if counted else 1
        state.tracker.submitted(request_id, operation, images, time.monotonic())


def _rewritten(answer: Any, base: str) -> bytes | None:
    """The 202 body with ``polling_url`` pointing back at the proxy (None: unchanged)."""
    if not isinstance(answer, dict) or not isinstance(answer.get("polling_url"), str):
        return None
    url: str = answer["polling_url"]
    if STATUS_PREFIX not in url:
        return None
    rewritten = {**answer, "polling_url": base + STATUS_PREFIX + url.rsplit(STATUS_PREFIX, 1)[1]}
    # ASCII escapes: equal JSON, and safe for any string the upstream sent (lone surrogates)
    return json.dumps(rewritten, separators=(",", ":")).encode("ascii")


async def _forward(state: ProxyState, call: Call, request: Request) -> Upstream:
    assert state.forwarder is not None, "the proxy app is not running (no lifespan)"
    return await state.forwarder.send(
        call.method, call.path, request.scope.get("query_string", b""), call.headers, call.body
    )


def _exchange(call: Call, url: str, label: str) -> Exchange:
    return Exchange(
        seq=call.seq,
        check="proxy",
        scenario=label,
        operation=call.operation_id,
        method=call.method,
        url=url,
        request_headers=dict(call.headers),
        request_body=call.body,
        cost=call.cost,
    )


def _finish(
    state: ProxyState, call: Call, upstream: Upstream, label: str, body: bytes | None
) -> Response:
    exchange = _exchange(call, upstream.url, label)
    exchange.status, exchange.elapsed = upstream.status, upstream.elapsed
    exchange.error = upstream.error
    exchange.response_headers, exchange.response_body = upstream.headers, upstream.body
    _keep(state, call, exchange, local=False)
    if upstream.status is None:
        status = 504 if upstream.timed_out else 502
        message = state.sanitizer.text(
            f"The proxy got no answer from the upstream: {upstream.error}"
        )
        error = "Gateway Timeout" if upstream.timed_out else "Bad Gateway"
        return _local(gateway_error(status, error, message), "upstream-error")
    headers = relayed_headers(upstream.headers)
    return Response(body if body is not None else upstream.body, upstream.status, headers=headers)


def _keep(state: ProxyState, call: Call, exchange: Exchange, local: bool) -> None:
    """Report (and, for forwarded calls, record) the exchange. A failure here is the
    proxy's own bug: it is logged, and the caller still gets its answer."""
    try:
        for finding in call.findings:
            state.report.violation(call.seq, call.operation_id, finding, call.request_id)
        fixture = state.sanitizer.exchange(exchange)
        state.report.exchange(fixture, len(call.findings), local=local)
        if state.recorder is not None and not local:
            state.recorder.write(fixture)
    except Exception as exc:  # never let bookkeeping break the caller's traffic
        shown = state.sanitizer.text(str(exc)) if isinstance(exc, OSError) else type(exc).__name__
        log.error("proxy could not report or record exchange #%d: %s", call.seq, shown)


def _refuse(
    state: ProxyState, call: Call, reason: str, status: int, body: dict[str, str]
) -> Response:
    """Answer locally; the upstream never sees the call (and nothing is recorded)."""
    state.report.refusal(call.seq, call.operation_id, reason, status, body["message"])
    exchange = _exchange(call, state.settings.upstream + call.path, "proxy.refused")
    exchange.status = status
    exchange.response_body = json.dumps(body).encode()
    exchange.response_headers = {"content-type": "application/json", LOCAL_HEADER: reason}
    _keep(state, call, exchange, local=True)
    return _local(JSONBody(body, status_code=status), reason)


def _local(response: Response, reason: str) -> Response:
    response.headers[LOCAL_HEADER] = reason
    return response
