"""Webhook delivery: the body, retries on the mock's clock, exhaustion, timeouts, signing."""

from __future__ import annotations

import itertools
import json
import socket
import time
from typing import Any

import pytest

from gateway_helpers import KEY, T0, T2I
from mock_gateway.config.settings import Settings
from mock_gateway.pipeline.outcome import Advance, WebhookDue
from mock_gateway.steering.clock import VirtualClock
from mock_gateway.web.app import build_state
from mock_helpers import Running, running
from seedream_client import webhooks as client_webhooks
from seedream_client._exceptions import WebhookVerificationError
from seedream_contracts.loopback import LoopbackReceiver

pytestmark = pytest.mark.anyio
SECRET = "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw"


async def submit(mock: Running, url: str, prompt: str = "x") -> dict[str, Any]:
    headers = {**KEY, "X-Webhook-URL": url}
    response = await mock.http.post(T2I, json={"prompt": prompt}, headers=headers)
    assert response.status_code == 202, response.text
    accepted: dict[str, Any] = response.json()
    return accepted


async def deliveries(mock: Running) -> list[dict[str, Any]]:
    found: list[dict[str, Any]] = (await mock.control("GET", "/webhooks", params={"wait": 5}))[
        "webhooks"
    ]
    return found


async def test_body_is_the_status_body_byte_for_byte() -> None:
    with LoopbackReceiver() as receiver:
        async with running() as mock:
            accepted = await submit(mock, receiver.url)
            await mock.control("POST", "/clock/advance", {"seconds": 5})
            [callback] = receiver.wait_for(1)
            status = await mock.http.get(accepted["polling_url"], headers=KEY)
    assert callback.body == status.content
    assert callback.json()["status"] == "COMPLETED"
    assert callback.json()["output"]["media_url"][0].startswith("http://mock.test/media/")
    assert callback.headers["content-type"] == "application/json"
    assert "webhook-signature" not in callback.headers  # signing is opt-in


async def test_receiver_failing_twice_gets_the_callback_on_the_third_attempt() -> None:
    with LoopbackReceiver() as receiver:
        receiver.fail(2)
        async with running() as mock:
            await submit(mock, receiver.url)
            # One step past the finish and both retries (1 s, then 2 s later).
            await mock.control("POST", "/clock/advance", {"seconds": 10})
            [delivery] = await deliveries(mock)
    assert delivery["state"] == "delivered"
    attempts = delivery["attempts"]
    assert [attempt["status"] for attempt in attempts] == [500, 500, 200]
    assert [attempt["error"] is None for attempt in attempts] == [False, False, True]
    gaps = [round(b["time"] - a["time"], 3) for a, b in itertools.pairwise(attempts)]
    assert gaps[0] >= 1.0 and gaps[1] >= 2.0  # exponential backoff, in mock time
    assert len(receiver.delivered) == 1 and len(receiver.callbacks) == 3


async def test_retries_wait_for_the_clock_when_it_is_frozen() -> None:
    with LoopbackReceiver() as receiver:
        receiver.fail(1)
        async with running(timing="manual") as mock:
            await submit(mock, receiver.url)
            await mock.control("POST", "/clock/advance", {"seconds": 3})  # the job finishes
            [pending] = await deliveries(mock)
            assert pending["state"] == "pending" and len(pending["attempts"]) == 1
            assert pending["next_attempt_at"] is not None
            await mock.control("POST", "/clock/advance", {"seconds": 1})
            [done] = await deliveries(mock)
    assert done["state"] == "delivered" and len(done["attempts"]) == 2


async def test_attempts_are_exhausted_and_recorded() -> None:
    settings = Settings.load(seed=1, webhooks={"max_attempts": 3})
    with LoopbackReceiver() as receiver:
        receiver.fail(10, status=503)
        async with running(settings) as mock:
            await submit(mock, receiver.url)
            await mock.control("POST", "/clock/advance", {"seconds": 3600})
            [delivery] = await deliveries(mock)
    assert delivery["state"] == "failed" and len(delivery["attempts"]) == 3
    assert "gave up after 3 attempts" in delivery["reason"]
    assert {attempt["status"] for attempt in delivery["attempts"]} == {503}


async def test_connection_refused_is_recorded_and_retried() -> None:
    with socket.socket() as spare:
        spare.bind(("127.0.0.1", 0))
        port = spare.getsockname()[1]  # bound, never listening: connections are refused
        async with running(webhooks={"max_attempts": 2}) as mock:
            await submit(mock, f"http://127.0.0.1:{port}/hook")
            await mock.control("POST", "/clock/advance", {"seconds": 60})
            [delivery] = await deliveries(mock)
    assert delivery["state"] == "failed" and len(delivery["attempts"]) == 2
    assert all("ConnectError" in attempt["error"] for attempt in delivery["attempts"])
    assert all(attempt["status"] is None for attempt in delivery["attempts"])


async def test_a_slow_receiver_times_out_without_slowing_requests() -> None:
    settings = Settings.load(seed=1, webhooks={"timeout_seconds": 0.3, "max_attempts": 1})
    with LoopbackReceiver() as receiver:
        receiver.slow_down(1.0)
        async with running(settings) as mock:
            accepted = await submit(mock, receiver.url)
            advance = {"seconds": 5, "settle_seconds": 0}
            await mock.control("POST", "/clock/advance", advance)
            started = time.perf_counter()
            for _ in range(5):
                await mock.http.get(accepted["polling_url"], headers=KEY)
            assert time.perf_counter() - started < 0.25  # the delivery runs in the background
            [delivery] = await deliveries(mock)
    assert delivery["state"] == "failed"
    assert delivery["attempts"][0]["error"] == "timeout after 0.3 s"


async def test_signed_callbacks_verify_with_standard_webhooks() -> None:
    settings = Settings.load(seed=1, webhooks={"signing_secret": SECRET})
    with LoopbackReceiver() as receiver:
        async with running(settings) as mock:
            accepted = await submit(mock, receiver.url)
            await mock.control("POST", "/clock/advance", {"seconds": 5})
            [callback] = receiver.wait_for(1)
            [delivery] = await deliveries(mock)
    headers = callback.headers
    assert headers["webhook-id"] == f"msg_{accepted['request_id']}"
    assert headers["webhook-signature"].startswith("v1,")
    stamp = int(headers["webhook-timestamp"])
    client_webhooks.verify(callback.body, headers, SECRET, now=stamp)  # raises if wrong
    with pytest.raises(WebhookVerificationError):
        client_webhooks.verify(callback.body + b" ", headers, SECRET, now=stamp)
    sent = delivery["attempts"][0]["headers"]
    assert sent["webhook-signature"] == headers["webhook-signature"]


def test_secret_must_be_whsec_base64() -> None:
    from mock_gateway.config.settings import ConfigError

    for bad in ("whsec_***", "whsec_"):
        with pytest.raises(ConfigError, match="signing_secret"):
            Settings.load(webhooks={"signing_secret": bad})


async def test_the_webhook_log_is_bounded() -> None:
    with LoopbackReceiver() as receiver:
        async with running(control={"journal_size": 3}) as mock:
            ids = [(await submit(mock, receiver.url, f"p{i}"))["request_id"] for i in range(5)]
            await mock.control("POST", "/clock/advance", {"seconds": 30})
            found = await deliveries(mock)
            callbacks = receiver.wait_for(5)
    # All five arrived; the log kept the three that finished last (jobs finish in jitter order).
    finished = {cb.json()["request_id"]: cb.json()["completed_at"] for cb in callbacks}
    assert sorted(finished) == sorted(ids) and len(found) == 3
    kept = {delivery["request_id"] for delivery in found}
    assert min(finished[rid] for rid in kept) >= max(finished[rid] for rid in set(ids) - kept)


async def test_filters_on_the_webhook_log() -> None:
    with LoopbackReceiver() as receiver:
        async with running() as mock:
            first = await submit(mock, receiver.url, "a")
            await submit(mock, "http://example.com/hook", "b")
            await mock.control("POST", "/clock/advance", {"seconds": 5})
            query = {"request_id": first["request_id"], "wait": 5}
            only_first = (await mock.control("GET", "/webhooks", params=query))["webhooks"]
            blocked = await mock.control("GET", "/webhooks", params={"state": "blocked"})
            mine = await mock.control("GET", "/webhooks", params={"key": "limited-key"})
    assert [d["request_id"] for d in only_first] == [first["request_id"]]
    assert [d["url"] for d in blocked["webhooks"]] == ["http://example.com/hook"]
    assert mine["webhooks"] == []
    assert json.dumps(only_first)  # plain JSON all the way down


class CountingWaker:
    def __init__(self) -> None:
        self.wakes = 0

    def wake(self) -> None:
        self.wakes += 1


def test_only_a_webhook_due_wakes_the_ticker() -> None:
    """A job that finished without a webhook leaves the ticker nothing to do; under load
    nearly every submit finishes one, and each wake cost a ticker pass."""
    state = build_state(Settings.load(), clock=VirtualClock(start=T0, rate=0.0))
    waker = CountingWaker()
    state.waker = waker  # type: ignore[assignment]
    state.carry_out(Advance(finished=3))
    assert waker.wakes == 0
    due = WebhookDue("seedream_x", "some-key", "http://127.0.0.1:9/hook", b"{}", T0)
    state.carry_out(Advance(finished=1, webhooks=(due,)))
    assert waker.wakes == 1
    assert not state.webhooks.idle(T0)  # handed to the dispatcher, due now
