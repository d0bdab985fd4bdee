"""Webhook delivery: POST the terminal status body to ``X-Webhook-URL``, with retries.

Delivery never runs inside a request: the pipeline reports a finished job's webhook as due
(with the exact status body bytes a poll gets), ``MockState.carry_out`` *enqueues* it, and
the app's ticker starts due attempts as background tasks. The
retry schedule is kept in mock time, so with a frozen clock a test steps retries by
advancing the clock. Every attempt is recorded; the log keeps the newest N deliveries.
"""

from __future__ import annotations

import heapq
import json
import logging
import time
from collections import OrderedDict
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from mock_gateway.core import format_timestamp
from mock_gateway.steering.clock import Clock
from mock_gateway.steering.hygiene import Bounded
from mock_gateway.steering.journal import redact_key
from mock_gateway.steering.webhook_policy import (
    HostPolicy,
    WebhookSettings,
    backoff_seconds,
    host_of,
    secret_bytes,
    signature_headers,
)

if TYPE_CHECKING:
    import httpx

log = logging.getLogger("mock_gateway.steering.webhooks")

USER_AGENT = "seedream-gateway-mock (webhook)"


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

    def to_json(self) -> dict[str, Any]:
        return {
            "id": self.id,
            "request_id": self.request_id,
            "key": redact_key(self.key),
            "url": self.url,
            "state": self.state,
            "reason": self.reason,
            "created_at": format_timestamp(self.created),
            "next_attempt_at": None if self.next_at is None else format_timestamp(self.next_at),
            "body": json.loads(self.body),
            "attempts": [attempt.to_json() for attempt in self.attempts],
        }


def _parsers_disagree(url: str) -> str | None:
    """Belt and braces: the host httpx would connect to must be the one the policy judged."""
    import httpx  # late: the mock starts without it (the first answer comes sooner)

    try:
        connects_to = httpx.URL(url).host.lower().rstrip(".")
    except Exception:
        connects_to = None
    if connects_to != host_of(url):
        return "the URL's host is ambiguous (parsers disagree on it), so the mock does not call it"
    return None


class WebhookDispatcher:
    def __init__(self, settings: WebhookSettings, capacity: int) -> None:
        self.settings = settings
        self.policy = HostPolicy.from_allowed(settings.allow_hosts)
        self._key = secret_bytes(settings.signing_secret) if settings.signing_secret else None
        self.capacity = capacity
        self._log: OrderedDict[str, Delivery] = OrderedDict()
        self._due: list[tuple[float, int, Delivery]] = []
        self._seq = 0
        self._generation = 0
        self.in_flight = 0
        self._blocked_hosts: Bounded[str, bool] = Bounded(1000)

    def reset(self) -> None:
        """Forget every delivery; attempts still in flight finish but are not retried."""
        self._generation += 1
        self._log.clear()
        self._due.clear()

    def enqueue(self, request_id: str, key: str, url: str, body: bytes, now: float) -> Delivery:
        delivery = Delivery(f"msg_{request_id}", request_id, key, url, body, now, self._generation)
        self._log[delivery.id] = delivery
        while len(self._log) > self.capacity:
            self._log.popitem(last=False)
        refusal = self.policy.refusal(url) or _parsers_disagree(url)
        if refusal is not None:
            delivery.state, delivery.reason = "blocked", refusal
            host = host_of(url) or url
            if self._blocked_hosts.get(host) is None:
                self._blocked_hosts.put(host, True)
                log.warning("webhook not delivered: %s", refusal)
            return delivery
        self._schedule(delivery, now)
        return delivery

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
        try:
            async with http.stream(
                "POST",
                delivery.url,
                content=delivery.body,
                headers=headers,
                timeout=self.settings.timeout_seconds,
            ) as response:
                status = response.status_code
            if not 200 <= status < 300:
                error = f"HTTP {status}: not a 2xx answer"
        except httpx.TimeoutException:
            error = f"timeout after {self.settings.timeout_seconds:g} s"
        except Exception as exc:  # connection refused, reset, bad URL ...: recorded, retried
            error = f"{type(exc).__name__}: {exc}" if str(exc) else type(exc).__name__
        finally:
            self.in_flight -= 1
        duration_ms = (time.perf_counter() - started) * 1000
        number = len(delivery.attempts) + 1
        delivery.attempts.append(Attempt(number, now, status, error, duration_ms, headers))
        self._after_attempt(delivery, error, due + max(0.0, clock.now() - clock_before))

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

    def for_request(self, request_id: str) -> Delivery | None:
        """The delivery of one job's webhook, while the log still holds it."""
        return self._log.get(f"msg_{request_id}")

    def select(
        self, *, key: str | None = None, request_id: str | None = None, state: str | None = None
    ) -> list[dict[str, Any]]:
        return [
            delivery.to_json()
            for delivery in self._log.values()
            if (key is None or delivery.key == key)
            and (request_id is None or delivery.request_id == request_id)
            and (state is None or delivery.state == state)
        ]
