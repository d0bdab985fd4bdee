"""A webhook attempt is bounded as a whole, and a slow receiver cannot starve the others."""

from __future__ import annotations

import time
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

import anyio
import httpx
import pytest
from anyio.abc import SocketStream

from mock_gateway.steering.clock import VirtualClock
from mock_gateway.steering.webhook_policy import WebhookSettings
from mock_gateway.steering.webhooks import WebhookDispatcher
from seedream_contracts.loopback import LoopbackReceiver as WebhookReceiver

pytestmark = pytest.mark.anyio

DRIP_SECONDS = 0.2  # one byte of the answer this often ...
DRIP_BYTES = 30  # ... for at most 6 s (the test's own bound)


async def _read_request(stream: SocketStream) -> None:
    seen = b""
    with anyio.move_on_after(5):
        while b"\r\n\r\n" not in seen:
            seen += await stream.receive()


@asynccontextmanager
async def dripping_receiver() -> AsyncIterator[str]:
    """A loopback receiver that answers one byte every DRIP_SECONDS: each read succeeds
    well inside any per-read timeout, so only a bound on the whole attempt stops it."""

    async def handle(stream: SocketStream) -> None:
        async with stream:
            await _read_request(stream)
            answer = b"HTTP/1.1 200 OK\r\ncontent-length: 0\r\nx-padding: " + b"." * DRIP_BYTES
            for byte in answer[:DRIP_BYTES]:
                await anyio.sleep(DRIP_SECONDS)
                try:
                    await stream.send(bytes([byte]))
                except (anyio.BrokenResourceError, anyio.ClosedResourceError, OSError):
                    return

    listener = await anyio.create_tcp_listener(local_host="127.0.0.1", local_port=0)
    port = listener.extra(anyio.abc.SocketAttribute.local_port)
    async with listener, anyio.create_task_group() as tasks:
        tasks.start_soon(listener.serve, handle)
        yield f"http://127.0.0.1:{port}/hook"
        tasks.cancel_scope.cancel()


def dispatcher(timeout: float, per_host: int = 4) -> WebhookDispatcher:
    settings = WebhookSettings(
        max_attempts=1, timeout_seconds=timeout, per_host_concurrency=per_host
    )
    return WebhookDispatcher(settings, capacity=100)


async def test_a_dripping_receiver_is_cut_off_at_the_attempt_timeout() -> None:
    hooks = dispatcher(timeout=0.6)
    async with dripping_receiver() as url, httpx.AsyncClient(trust_env=False) as http:
        hooks.enqueue("r1", "k", url, b"{}", 0.0)
        [(delivery, due)] = hooks.take_due(0.0)
        started = time.perf_counter()
        with anyio.fail_after(10):
            await hooks.deliver(delivery, due, http, VirtualClock(rate=0), anyio.CapacityLimiter(4))
        took = time.perf_counter() - started
    [attempt] = delivery.attempts
    assert attempt.error == "timeout after 0.6 s" and delivery.state == "failed"
    assert took < 3.0  # the drip alone would hold it 6 s


async def test_slow_receivers_do_not_take_every_slot_from_a_healthy_one() -> None:
    hooks = dispatcher(timeout=1.0, per_host=2)
    shared = anyio.CapacityLimiter(4)  # the app's limit on deliveries in flight, scaled down
    clock = VirtualClock(rate=0)
    with WebhookReceiver() as healthy:
        async with dripping_receiver() as slow_url, httpx.AsyncClient(trust_env=False) as http:
            for number in range(6):
                hooks.enqueue(f"slow{number}", "k", slow_url, b"{}", 0.0)
            hooks.enqueue("healthy", "k", healthy.url, b"{}", 0.0)
            due = hooks.take_due(0.0)
            started = time.time()
            with anyio.fail_after(30):
                async with anyio.create_task_group() as tasks:
                    for delivery, at in due:
                        tasks.start_soon(hooks.deliver, delivery, at, http, clock, shared)
                    [callback] = await anyio.to_thread.run_sync(healthy.wait_for, 1, 10.0)
                    healthy_after = callback.received_at - started
    # Without a per-host bound 4 of the 6 slow attempts take all 4 shared slots for 1 s.
    assert healthy_after < 0.7
    states = [delivery.state for delivery, _ in due]
    assert states.count("failed") == 6 and states.count("delivered") == 1
