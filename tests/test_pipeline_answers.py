"""The exact bytes and headers of every answer the pipeline gives, real or injected.

tests/test_injected_answers.py checks that an injected answer equals the real one; these pin
what both are, byte for byte, in the gateway's compact JSON (API Management's
``{"statusCode", "message"}`` before the gateway sees a call, the gateway's
``{"error", "message"}`` after), so a change to either shape fails here.
"""

from __future__ import annotations

import dataclasses
from typing import Any

import pytest

from gateway_helpers import BP_T2I, T0, T2I
from mock_gateway.config.settings import Settings
from mock_gateway.pipeline import StatusCall, status, submit
from mock_gateway.pipeline.answers import encode_json
from mock_gateway.steering.clock import VirtualClock
from mock_gateway.web.app import build_state
from pipeline_helpers import BASE, arm, body_of, decided, polled, submit_call, submitted, world

MISSING = (
    b'{"statusCode":401,"message":"Access denied due to missing subscription key. Make sure '
    b'to include subscription key when making requests to an API."}'
)
INVALID = (
    b'{"statusCode":401,"message":"Access denied due to invalid subscription key. Make sure '
    b'to provide a valid key for an active subscription."}'
)
MIDNIGHT = T0 - T0 % 86400  # 2026-04-17T00:00:00Z; T0 is 11:41:06.171 that day


def quota(left: str) -> bytes:
    return (
        b'{"statusCode":403,"message":"Out of call volume quota. Quota will be replenished in '
        + left.encode()
        + b'."}'
    )


def test_api_management_answers_are_byte_exact() -> None:
    w = world()
    missing = submitted(w, key=None).answer
    invalid = submitted(w, key="no-such-key").answer
    assert (missing.status, missing.body, missing.headers) == (401, MISSING, ())
    assert (invalid.status, invalid.body, invalid.headers) == (401, INVALID, ())


@pytest.mark.parametrize(
    ("now", "left"),
    [
        (T0, "12:18:53"),  # 44,333.829 s to midnight: whole seconds, rounded down
        (T0 + 0.9, "12:18:52"),
        (MIDNIGHT + 23 * 3600, "01:00:00"),
        (MIDNIGHT + 86399.5, "00:00:00"),
        (MIDNIGHT + 86400 + 59, "23:59:01"),  # the next day counts from its own midnight
    ],
)
def test_a_forbidden_key_is_told_when_its_quota_renews(now: float, left: str) -> None:
    answer = submitted(world(), key="forbidden-key", at=now).answer
    assert (answer.status, answer.body) == (403, quota(left))


@pytest.mark.parametrize(("path", "price"), [(T2I, "$0.035"), (BP_T2I, "$0.2")])
def test_an_empty_wallet_gets_the_402_with_the_operations_price(path: str, price: str) -> None:
    answer = submitted(world(), key="broke-key", path=path).answer
    expected = (
        '{"error":"Insufficient Balance","message":"Your wallet does not have enough balance.'
        f' Required: {price}"}}'
    )
    assert (answer.status, answer.body) == (402, expected.encode())


def injected(rule: dict[str, Any], *, now: float = T0) -> tuple[int, bytes, tuple[Any, ...]]:
    w = world()
    arm(w, endpoint="submit", **rule)
    answer = submitted(w, at=now).answer
    return answer.status, answer.body, answer.headers


@pytest.mark.parametrize(
    ("status", "body"),
    [
        (500, b'{"error":"Internal Server Error","message":"Internal Server Error (a fault'),
        (503, b'{"error":"Service Unavailable","message":"Service Unavailable (a fault'),
        (300, b'{"error":"Multiple Choices","message":"Multiple Choices (a fault'),
        (599, b'{"error":"Error","message":"Error (a fault'),  # no standard phrase
    ],
)
def test_an_injected_error_status_has_the_gateways_error_shape(status: int, body: bytes) -> None:
    got = injected({"status": status})
    assert got == (status, body + b' injected into the mock)"}', ())


@pytest.mark.parametrize("status", [200, 202, 204, 299])
def test_an_injected_success_status_answers_an_empty_object(status: int) -> None:
    assert injected({"status": status}) == (status, b"{}", ())


def test_injected_api_management_statuses_read_like_the_real_ones() -> None:
    assert injected({"status": 401}) == (401, INVALID, ())
    assert injected({"status": 403}, now=T0 + 0.9) == (403, quota("12:18:52"), ())


def test_an_injected_429_without_retry_after_says_one_second() -> None:
    status_code, body, headers = injected({"status": 429})
    assert (status_code, headers) == (429, (("Retry-After", "1"),))
    assert body == (
        b'{"statusCode":429,"message":"Rate limit is exceeded. Try again in 1 seconds."}'
    )


def test_a_rules_retry_after_is_sent_as_the_header() -> None:
    assert injected({"status": 429, "retry_after": 30})[2] == (("Retry-After", "30"),)
    assert injected({"status": 503, "retry_after": 10})[2] == (("Retry-After", "10"),)


def test_a_rules_own_headers_win_whatever_their_case() -> None:
    """One header per name: the rule's own ``retry-after`` replaces both its ``retry_after``
    and the Retry-After of the 429 it stands in for."""
    rule = {"status": 429, "retry_after": 30, "headers": {"retry-after": "5", "X-Trace": "t"}}
    assert injected(rule)[2] == (("retry-after", "5"), ("X-Trace", "t"))
    plain = {"status": 429, "headers": {"RETRY-AFTER": "7"}}
    assert injected(plain)[2] == (("RETRY-AFTER", "7"),)


def test_a_rules_own_body_is_sent_as_compact_utf8_json_with_its_headers() -> None:
    rule = {"status": 418, "body": {"détail": "é", "n": [1, 2]}, "headers": {"X-Trace": "t"}}
    assert injected(rule) == (418, '{"détail":"é","n":[1,2]}'.encode(), (("X-Trace", "t"),))
    with_retry = {"status": 503, "body": {"a": 1}, "retry_after": 9}
    assert injected(with_retry) == (503, b'{"a":1}', (("Retry-After", "9"),))


def test_a_lone_surrogate_is_sent_ascii_escaped_not_lost() -> None:
    """JSON may carry a lone surrogate (a client's body, echoed by the journal, or a rule's
    body); it has no UTF-8 form, so the whole document is ASCII-escaped instead."""
    assert encode_json({"p": "\ud800é", "q": [1, 2]}) == b'{"p":"\\ud800\\u00e9","q":[1,2]}'
    assert injected({"status": 500, "body": {"m": "\udfff"}})[1] == b'{"m":"\\udfff"}'
    assert encode_json({"p": "é", "q": [1]}) == '{"p":"é","q":[1]}'.encode()


def test_a_202_for_a_host_with_a_lone_surrogate_is_ascii_escaped() -> None:
    """The polling URL echoes the host the client used; one that has no UTF-8 form still
    gets its 202, in ASCII-escaped JSON like every other answer."""
    w = world()
    call = dataclasses.replace(submit_call(), base_url="http://h\udc80st")
    outcome = decided(submit(w, call, T0))
    request_id = outcome.queued.request_id if outcome.queued else ""
    assert outcome.answer.status == 202
    assert outcome.answer.body == (
        b'{"request_id":"%b","status":"QUEUED","polling_url":"http://h\\udc80st/v2/requests/'
        b'status/%b"}' % (request_id.encode(), request_id.encode())
    )


def test_an_unpriced_operation_is_named_free_by_an_injected_402() -> None:
    """The core charges nothing for an operation without a price; an injected 402 says so
    rather than inventing one (on a submit and on a poll of an unknown id)."""
    settings = Settings.load(seed=1, timing="fast")
    free = dataclasses.replace(settings, core=dataclasses.replace(settings.core, prices_usd={}))
    w = build_state(free, clock=VirtualClock(start=T0, rate=0.0)).world
    arm(w, status=402, times=2)
    paid = submitted(w)
    assert body_of(paid)["message"].endswith("Required: $0")
    poll = status(w, StatusCall("test-key", "nonsense", BASE), T0)
    assert body_of(poll)["message"].endswith("Required: $0")


def test_a_poll_of_an_unknown_id_is_told_that_id() -> None:
    answer = polled(world(), "seedream-5-0-lite-edit_gone").answer
    assert (answer.status, answer.body) == (
        404,
        b'{"error":"Request not found","message":"Request \'seedream-5-0-lite-edit_gone\' '
        b'not found"}',
    )
