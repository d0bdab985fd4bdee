"""Webhook delivery: POST the terminal status body to ``X-Webhook-URL``, with retries.

Delivery never runs inside a request: the pipeline reports a finished job's webhook as due
(with the exact status body bytes a poll gets), ``MockState.carry_out`` *enqueues* it, and
the app's ticker starts due attempts as background tasks. The
retry schedule is kept in mock time, so with a frozen clock a test steps retries by
advancing the clock. Every attempt is recorded; the log keeps the newest N deliveries, and
no more than ``max_bytes`` of them.

An attempt is bounded as a whole (``timeout_seconds`` from connect to the last byte, not per
read: a receiver dripping a byte a second cannot hold it longer), and each receiver (scheme,
host and port) gets at most ``per_host_concurrency`` attempts at once, so a slow receiver
queues its own deliveries instead of taking every slot from the healthy ones.
"""

from __future__ import annotations

import heapq
import json
import logging
import time
from collections import OrderedDict
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

import anyio

from mock_gateway.core import format_timestamp
from mock_gateway.steering.clock import Clock
from mock_gateway.steering.hygiene import Bounded
from mock_gateway.steering.journal import redact_key
from mock_gateway.steering.webhook_policy import (
    HostPolicy,
    Target,
    WebhookSettings,
    backoff_seconds,
    hide_password,
    host_of,
    secret_bytes,
    signature_headers,
)

if TYPE_CHECKING:
    import httpx

log = logging.getLogger("mock_gateway.steering.webhooks")

USER_AGENT = "seedream-gateway-mock (webhook)"
DELIVERY_OVERHEAD = 1024  # bytes a delivery weighs besides its URL, body and attempts
ATTEMPT_WEIGHT = 512  # bytes one recorded attempt weighs (its headers are small)
DEFAULT_MAX_BYTES = 32 * 1024 * 1024


@dataclass(slots=True)
class Attempt:
    number: int
    time: float  # mock time the attempt started
    status: int | None
    error: str | None
    duration_ms: float
    headers: dict[str, str]

    def to_json(self) -> dict[str, Any]:
        return {
            "attempt": self.number,
            "time": self.time,
            "at": format_timestamp(self.time),
            "status": self.status,
            "error": self.error,
            "duration_ms": round(self.duration_ms, 2),
            "headers": self.headers,
        }


@dataclass(slots=True, eq=False)
class Delivery:
    id: str  # the Standard Webhooks message id, the same on every attempt
    request_id: str
    key: str
    url: str
    body: bytes
    created: float
    generation: int
    state: str = "pending"  # pending | in_flight | delivered | failed | blocked
    reason: str | None = None
    next_at: float | None = None
    attempts: list[Attempt] = field(default_factory=list)
    target: Target | None = None  # where the attempts connect (None: blocked)

    @property
    def origin(self) -> str:
        """The receiver, for per-host concurrency: scheme, connect address and port."""
        import httpx  # late: the mock starts without it

        parts = httpx.URL(self.url)
        address = self.target.address if self.target is not None else parts.host
        return f"{parts.scheme}://{address}:{parts.port or 0}"

    def to_json(self) -> dict[str, Any]:
        return {
            "id": self.id,
            "request_id": self.request_id,
            "key": redact_key(self.key),
            "url": hide_password(self.url),
            "state": self.state,
            "reason": self.reason,
            "created_at": format_timestamp(self.created),
            "next_attempt_at": None if self.next_at is None else format_timestamp(self.next_at),
            "body": json.loads(self.body),
            "attempts": [attempt.to_json() for attempt in self.attempts],
        }


async def _post(
    http: httpx.AsyncClient, delivery: Delivery, headers: dict[str, str], timeout: float
) -> int:
    """POST the body to the address the policy checked (never a name resolved now): the
    URL's host is replaced by that address, and the Host header (and TLS name) keep the
    URL's own host."""
    import httpx  # late: the mock starts without it

    url = httpx.URL(delivery.url)
    extensions: dict[str, str] = {}
    sent = dict(headers)
    target = delivery.target
    if target is not None and target.address != url.host:
        sent["host"] = url.netloc.decode("ascii")
        if url.scheme == "https":
            extensions["sni_hostname"] = url.host
        url = url.copy_with(host=target.address)
    request = http.build_request(
        "POST", url, content=delivery.body, headers=sent, timeout=timeout, extensions=extensions
    )
    response = await http.send(request, stream=True)
    await response.aclose()
    return response.status_code


def _parsers_disagree(url: str) -> str | None:
    """Belt and braces: the host httpx would connect to must be the one the policy judged."""
    import httpx  # late: the mock starts without it (the first answer comes sooner)

    try:
        connects_to = httpx.URL(url).host.lower()
    except Exception:
        connects_to = None
    if connects_to != host_of(url):
        return "the URL's host is ambiguous (parsers disagree on it), so the mock does not call it"
    return None


class WebhookDispatcher:
    def __init__(
        self, settings: WebhookSettings, capacity: int, *, max_bytes: int = DEFAULT_MAX_BYTES
    ) -> None:
        self.settings = settings
        self.policy = HostPolicy.from_allowed(settings.allow_hosts)
        self._key = secret_bytes(settings.signing_secret) if settings.signing_secret else None
        self.capacity = capacity
        self.max_bytes = max_bytes
        self._log: OrderedDict[str, Delivery] = OrderedDict()
        self._log_bytes = 0
        self._per_host: dict[str, anyio.CapacityLimiter] = {}
        self._due: list[tuple[float, int, Delivery]] = []
        self._seq = 0
        self._generation = 0
        self.in_flight = 0
        self._blocked_hosts: Bounded[str, bool] = Bounded(1000)

    def reset(self) -> None:
        """Forget every delivery; attempts still in flight finish but are not retried."""
        self._generation += 1
        self._log.clear()
        self._log_bytes = 0
        self._due.clear()

    def enqueue(self, request_id: str, key: str, url: str, body: bytes, now: float) -> Delivery:
        delivery = Delivery(f"msg_{request_id}", request_id, key, url, body, now, self._generation)
        self._keep(delivery)
        decision = self.target_of(url)
        if isinstance(decision, str):
            delivery.state, delivery.reason = "blocked", decision
            host = host_of(url) or url
            if self._blocked_hosts.get(host) is None:
                self._blocked_hosts.put(host, True)
                log.warning("webhook not delivered: %s", decision)
            return delivery
        delivery.target = decision
        self._schedule(delivery, now)
        return delivery

    def target_of(self, url: str) -> Target | str:
        """Where ``url`` is called, or why it is not (the policy's and httpx's reading of
        its host must agree)."""
        decision = self.policy.decide(url)
        if isinstance(decision, str):
            return decision
        disagreement = _parsers_disagree(url)
        return decision if disagreement is None else disagreement

    def _weight(self, delivery: Delivery) -> int:
        attempts = self.settings.max_attempts * ATTEMPT_WEIGHT
        return DELIVERY_OVERHEAD + len(delivery.url) + len(delivery.body) + attempts

    def _keep(self, delivery: Delivery) -> None:
        """Log ``delivery``, forgetting the oldest beyond the entry and byte budgets (their
        scheduled attempts still run: the schedule holds them, not the log)."""
        previous = self._log.pop(delivery.id, None)
        if previous is not None:
            self._log_bytes -= self._weight(previous)
        self._log[delivery.id] = delivery
        self._log_bytes += self._weight(delivery)
        while len(self._log) > 1 and (
            len(self._log) > self.capacity or self._log_bytes > self.max_bytes
        ):
            _, dropped = self._log.popitem(last=False)
            self._log_bytes -= self._weight(dropped)

    def _schedule(self, delivery: Delivery, at: float) -> None:
        delivery.state, delivery.next_at = "pending", at
        self._seq += 1
        heapq.heappush(self._due, (at, self._seq, delivery))

    def next_deadline(self) -> float | None:
        return self._due[0][0] if self._due else None

    def take_due(self, now: float) -> list[tuple[Delivery, float]]:
        """Deliveries whose next attempt is due, with the mock time it was due at; they are
        marked in flight."""
        due: list[tuple[Delivery, float]] = []
        while self._due and self._due[0][0] <= now:
            at, _, delivery = heapq.heappop(self._due)
            delivery.state, delivery.next_at = "in_flight", None
            self.in_flight += 1
            due.append((delivery, at))
        return due

    def idle(self, now: float) -> bool:
        """Nothing in flight and nothing due at ``now`` (later retries may still wait)."""
        return self.in_flight == 0 and (not self._due or self._due[0][0] > now)

    async def attempt(
        self, delivery: Delivery, due: float, http: httpx.AsyncClient, clock: Clock
    ) -> None:
        """One POST; records it and schedules the next try on failure. Never raises: a
        receiver's misbehaviour must not take the mock's background tasks down.

        Like the job queue, the schedule is a simulation in mock time: the attempt counts as
        made when it was due, and the retry is due ``backoff`` after it (plus whatever mock
        time the attempt itself took). So one big clock step runs every retry that falls
        inside it, and at real-time rate the pauses between attempts are real.
        """
        import httpx

        now = due
        clock_before = clock.now()
        headers = {"content-type": "application/json", "user-agent": USER_AGENT}
        if self._key is not None:
            headers |= signature_headers(self._key, delivery.id, int(now), delivery.body)
        started = time.perf_counter()
        status: int | None = None
        error: str | None = None
        limit = self.settings.timeout_seconds
        timeout = f"timeout after {limit:g} s"  # the whole attempt, not one read
        try:
            with anyio.move_on_after(limit) as bound:
                status = await _post(http, delivery, headers, limit)
            if bound.cancelled_caught:
                status, error = None, timeout
            elif status is not None and not 200 <= status < 300:
                error = f"HTTP {status}: not a 2xx answer"
        except httpx.TimeoutException:
            error = timeout
        except Exception as exc:  # connection refused, reset, bad URL ...: recorded, retried
            error = f"{type(exc).__name__}: {exc}" if str(exc) else type(exc).__name__
        finally:
            self.in_flight -= 1
        duration_ms = (time.perf_counter() - started) * 1000
        number = len(delivery.attempts) + 1
        delivery.attempts.append(Attempt(number, now, status, error, duration_ms, headers))
        self._after_attempt(delivery, error, due + max(0.0, clock.now() - clock_before))

    async def deliver(
        self,
        delivery: Delivery,
        due: float,
        http: httpx.AsyncClient,
        clock: Clock,
        limiter: anyio.CapacityLimiter,
    ) -> None:
        """``attempt``, once both this receiver's slot and one of the shared ``limiter``'s
        are free (the receiver's first, so waiting on a slow one holds no shared slot)."""
        origin = delivery.origin
        host_limiter = self._per_host.get(origin)
        if host_limiter is None:
            host_limiter = anyio.CapacityLimiter(self.settings.per_host_concurrency)
            self._per_host[origin] = host_limiter
        try:
            async with host_limiter, limiter:
                await self.attempt(delivery, due, http, clock)
        finally:
            stats = host_limiter.statistics()
            if stats.borrowed_tokens == 0 and stats.tasks_waiting == 0:
                self._per_host.pop(origin, None)

    def _after_attempt(self, delivery: Delivery, error: str | None, now: float) -> None:
        if error is None:
            delivery.state = "delivered"
        elif delivery.generation != self._generation:
            delivery.state = "failed"
            delivery.reason = "the mock was reset before the delivery succeeded"
        elif len(delivery.attempts) >= self.settings.max_attempts:
            delivery.state = "failed"
            delivery.reason = f"gave up after {len(delivery.attempts)} attempts: {error}"
            log.warning("webhook for %s failed: %s", delivery.request_id, delivery.reason)
        else:
            delay = backoff_seconds(len(delivery.attempts), self.settings.backoff_seconds)
            self._schedule(delivery, now + delay)

    def kept(self) -> tuple[list[Delivery], list[Delivery]]:
        """What a snapshot holds: the logged deliveries (oldest first) and the scheduled ones
        in the order they fall due (some may have left the log; none is in flight)."""
        return list(self._log.values()), [entry[2] for entry in sorted(self._due)]

    def restore(self, logged: list[Delivery], scheduled: list[Delivery]) -> None:
        """Hold exactly these deliveries (as ``kept`` gave them), each ``scheduled`` one due at
        its ``next_at``; attempts in flight now are not retried, as after ``reset``."""
        self.reset()
        for delivery in logged:
            delivery.generation = self._generation
            self._keep(delivery)
        for delivery in scheduled:
            delivery.generation = self._generation
            self._schedule(delivery, delivery.next_at if delivery.next_at is not None else 0.0)

    def for_request(self, request_id: str) -> Delivery | None:
        """The delivery of one job's webhook, while the log still holds it."""
        return self._log.get(f"msg_{request_id}")

    def select(
        self, *, key: str | None = None, request_id: str | None = None, state: str | None = None
    ) -> list[dict[str, Any]]:
        found = self.matching(key=key, request_id=request_id, state=state)
        return [delivery.to_json() for delivery in found]

    def matching(
        self, *, key: str | None = None, request_id: str | None = None, state: str | None = None
    ) -> list[Delivery]:
        """The logged deliveries that match, oldest first (not yet turned into JSON)."""
        return [
            delivery
            for delivery in self._log.values()
            if (key is None or delivery.key == key)
            and (request_id is None or delivery.request_id == request_id)
            and (state is None or delivery.state == state)
        ]
