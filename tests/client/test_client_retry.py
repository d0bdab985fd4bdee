"""Retry decisions (pure) and the loops that follow them, through httpx.MockTransport."""

from __future__ import annotations

from collections.abc import Callable

import httpx
import pytest

from seedream_client import (
    APIConnectionError,
    APITimeoutError,
    AsyncGateway,
    Gateway,
    InternalServerError,
    PollPolicy,
    RateLimitError,
    RetryPolicy,
)
from seedream_client._retry import CallKind, parse_retry_after

ACCEPTED = {"request_id": "byteplus_1", "status": "QUEUED", "polling_url": "http://gw.test/x"}
STATUS = {"request_id": "byteplus_1", "status": "QUEUED", "model_id": "byteplus", "error": None,
          "output": None}  # fmt: skip
RATE_LIMITED = {"statusCode": 429, "message": "Rate limit is exceeded. Try again in 3 seconds."}

Script = list[httpx.Response | Exception]


def scripted(
    script: Script, seen: list[httpx.Request]
) -> Callable[[httpx.Request], httpx.Response]:
    def handler(request: httpx.Request) -> httpx.Response:
        seen.append(request)
        step = script.pop(0)
        if isinstance(step, Exception):
            raise step
        return step

    return handler


def gateway(
    script: Script, sleeps: list[float], **kw: object
) -> tuple[Gateway, list[httpx.Request]]:
    seen: list[httpx.Request] = []
    http = httpx.Client(transport=httpx.MockTransport(scripted(script, seen)))
    gw = Gateway("k", "http://gw.test", http_client=http, sleep=sleeps.append, **kw)  # type: ignore[arg-type]
    return gw, seen


def test_backoff_grows_with_jitter_and_caps() -> None:
    policy = RetryPolicy(initial_delay=0.5, max_delay=4.0, jitter=0.25, rng=lambda: 1.0)
    assert [policy.backoff(n) for n in range(5)] == [0.375, 0.75, 1.5, 3.0, 3.0]
    assert RetryPolicy(rng=lambda: 0.0).backoff(0) == 0.5


def test_retry_after_parsing() -> None:
    assert parse_retry_after({"retry-after": "7"}) == 7.0
    assert parse_retry_after({"retry-after-ms": "250"}) == 0.25
    assert parse_retry_after({"retry-after": "Wed, 21 Oct 2015 07:28:10 GMT"}, now=1445412480) == 10
    assert parse_retry_after({"retry-after": "soon"}) is None
    assert parse_retry_after({}) is None


@pytest.mark.parametrize(
    ("kind", "status", "retried"),
    [
        (CallKind.SUBMIT, 429, True),
        (CallKind.SUBMIT, 500, True),
        (CallKind.SUBMIT, 503, True),
        (CallKind.SUBMIT, 502, False),  # a proxy's answer: the backend may have queued it
        (CallKind.SUBMIT, 504, False),
        (CallKind.SUBMIT, 400, False),
        (CallKind.SUBMIT, 402, False),
        (CallKind.POLL, 502, True),
        (CallKind.POLL, 504, True),
        (CallKind.POLL, 404, False),
        (CallKind.DOWNLOAD, 500, True),
    ],
)
def test_which_answers_are_retried(kind: CallKind, status: int, retried: bool) -> None:
    decision = RetryPolicy().decide_response(kind, 0, status, {}, None)
    assert (decision.delay is not None) is retried
    assert (decision.error is not None) is not retried


@pytest.mark.parametrize(
    ("exc", "submit_retried"),
    [
        (httpx.ConnectError("refused"), True),
        (httpx.ConnectTimeout("slow connect"), True),
        (httpx.PoolTimeout("pool"), True),
        (httpx.ReadTimeout("slow answer"), False),
        (httpx.WriteTimeout("slow upload"), False),
        (httpx.ReadError("reset"), False),
        (httpx.RemoteProtocolError("Server disconnected without sending a response."), False),
    ],
)
def test_transport_errors(exc: httpx.TransportError, submit_retried: bool) -> None:
    policy = RetryPolicy()
    submit = policy.decide_exception(CallKind.SUBMIT, 0, exc)
    assert (submit.delay is not None) is submit_retried
    if not submit_retried:
        assert submit.error is not None and "not resent" in str(submit.error)
    assert policy.decide_exception(CallKind.POLL, 0, exc).delay is not None
    last = policy.decide_exception(CallKind.POLL, policy.max_retries, exc).error
    assert isinstance(
        last, APITimeoutError if isinstance(exc, httpx.TimeoutException) else APIConnectionError
    )


def test_submit_retried_after_429_honouring_retry_after() -> None:
    sleeps: list[float] = []
    script: Script = [
        httpx.Response(429, json=RATE_LIMITED, headers={"Retry-After": "3"}),
        httpx.Response(503, json={"statusCode": 503, "message": "busy"}),
        httpx.Response(202, json=ACCEPTED),
    ]
    gw, seen = gateway(script, sleeps, retry=RetryPolicy(rng=lambda: 0.0))
    assert gw.text_to_image("a cat", model="seedream-4-5").request_id == "byteplus_1"
    assert len(seen) == 3
    assert sleeps == [3.0, 1.0]  # Retry-After, then backoff for the second retry (0.5 * 2)


def test_retry_after_beyond_the_cap_is_raised_not_slept() -> None:
    sleeps: list[float] = []
    script: Script = [httpx.Response(429, json=RATE_LIMITED, headers={"Retry-After": "3600"})]
    gw, seen = gateway(script, sleeps)
    with pytest.raises(RateLimitError) as info:
        gw.text_to_image("a cat")
    assert info.value.retry_after == 3600 and sleeps == [] and len(seen) == 1


def test_retries_exhausted_raise_the_last_error() -> None:
    sleeps: list[float] = []
    script: Script = [httpx.Response(500, json={"error": "Internal", "message": "x"})] * 3
    gw, seen = gateway(list(script), sleeps, max_retries=2)
    with pytest.raises(InternalServerError, match="500 Internal: x"):
        gw.text_to_image("a cat")
    assert len(seen) == 3 and len(sleeps) == 2


@pytest.mark.parametrize(
    "exc",
    [httpx.ReadTimeout("slow"), httpx.RemoteProtocolError("Server disconnected"),
     httpx.ReadError("connection reset")],
)  # fmt: skip
def test_ambiguous_submit_failure_is_never_resent(exc: httpx.TransportError) -> None:
    sleeps: list[float] = []
    gw, seen = gateway([exc, httpx.Response(202, json=ACCEPTED)], sleeps)
    with pytest.raises(APIConnectionError, match="may have been queued"):
        gw.text_to_image("a cat")
    assert len(seen) == 1 and sleeps == []


def test_submit_resent_after_connect_error() -> None:
    sleeps: list[float] = []
    gw, seen = gateway([httpx.ConnectError("refused"), httpx.Response(202, json=ACCEPTED)], sleeps)
    assert gw.text_to_image("a cat").request_id == "byteplus_1"
    assert len(seen) == 2 and len(sleeps) == 1


def test_status_polls_retry_after_ambiguous_failures() -> None:
    sleeps: list[float] = []
    script: Script = [
        httpx.ReadTimeout("slow"),
        httpx.Response(502),
        httpx.Response(200, json=STATUS),
    ]
    gw, seen = gateway(script, sleeps)
    assert gw.status("byteplus_1").status == "QUEUED"
    assert len(seen) == 3


@pytest.mark.anyio
async def test_async_client_follows_the_same_policy() -> None:
    sleeps: list[float] = []

    async def sleep(seconds: float) -> None:
        sleeps.append(seconds)

    seen: list[httpx.Request] = []
    script: Script = [
        httpx.Response(429, json=RATE_LIMITED, headers={"Retry-After": "2"}),
        httpx.ReadTimeout("slow"),
    ]
    http = httpx.AsyncClient(transport=httpx.MockTransport(scripted(script, seen)))
    async with AsyncGateway("k", "http://gw.test", http_client=http, sleep=sleep) as gw:
        with pytest.raises(APITimeoutError, match="not resent"):
            await gw.text_to_image("a cat")
    await http.aclose()
    assert sleeps == [2.0] and len(seen) == 2


def test_poll_policy_starts_fast_and_settles_at_the_documented_interval() -> None:
    delays = [PollPolicy().delay(n) for n in range(8)]
    assert delays[0] <= 1.0 and delays == sorted(delays)
    assert 5.0 <= delays[-1] <= 10.0
