"""Retry decisions and poll timing, in one place, with no I/O.

The sync and async clients run the same loop: try once, hand the answer (or the transport
exception) to ``RetryPolicy.decide``, then sleep and retry, return, or raise as told.

A submit is not idempotent (the gateway has no idempotency key: a resent submit is a second
paid job), so it is retried only when the gateway certainly did not queue it: an error answer
that means "not done" (429, 500, 503), or a connection that failed before the request was sent.
After an ambiguous failure (read timeout, connection dropped after sending, 502/504 from a
proxy) the error is raised for the caller to decide. Status polls and downloads are safe to
retry on any 429, 5xx or transport error.
"""

from __future__ import annotations

import email.utils
import enum
import random
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

import httpx

from seedream_client._exceptions import (
    APIConnectionError,
    APITimeoutError,
    GatewayError,
    error_for_status,
)


class CallKind(enum.Enum):
    SUBMIT = "submit"  # not idempotent: retried only when certainly not queued
    POLL = "poll"  # safe
    DOWNLOAD = "download"  # safe


# Raised before a single byte of the request went out: safe to resend even a submit.
_NOT_SENT = (httpx.ConnectError, httpx.ConnectTimeout, httpx.PoolTimeout, httpx.UnsupportedProtocol)
# Answers that say "not done, try later" without doubt; 502/504 may come after the backend acted.
_SUBMIT_RETRY_STATUSES = frozenset({429, 500, 503})


def parse_retry_after(headers: Mapping[str, str], now: float | None = None) -> float | None:
    """Seconds from ``retry-after-ms`` or ``Retry-After`` (seconds or an HTTP date)."""
    value = headers.get("retry-after-ms")
    if value is not None:
        try:
            return max(0.0, float(value) / 1000)
        except ValueError:
            pass
    value = headers.get("retry-after")
    if value is None:
        return None
    try:
        return max(0.0, float(value))
    except ValueError:
        parsed = email.utils.parsedate_tz(value)
        if parsed is None:
            return None
        return max(0.0, email.utils.mktime_tz(parsed) - (time.time() if now is None else now))


@dataclass(frozen=True, slots=True)
class Decision:
    """Exactly one of: retry after ``delay`` seconds, raise ``error``, or accept the answer."""

    delay: float | None = None
    error: GatewayError | None = None


ACCEPT = Decision()


@dataclass(frozen=True, slots=True)
class RetryPolicy:
    """Exponential backoff with jitter; ``Retry-After`` honoured up to ``max_retry_after``.

    A ``Retry-After`` longer than ``max_retry_after`` is not slept through: the RateLimitError
    (with its ``retry_after``) is raised at once for the caller to schedule.
    """

    max_retries: int = 2
    initial_delay: float = 0.5
    max_delay: float = 8.0
    jitter: float = 0.25  # a delay is shortened by up to this fraction
    max_retry_after: float = 60.0
    rng: Callable[[], float] = field(default=random.random, compare=False)

    def backoff(self, attempt: int) -> float:
        delay: float = min(self.max_delay, self.initial_delay * 2**attempt)
        return delay * (1 - self.jitter * self.rng())

    def decide_response(
        self,
        kind: CallKind,
        attempt: int,
        status_code: int,
        headers: Mapping[str, str],
        body: Any,
        *,
        request_id: str | None = None,
        what: str = "",
    ) -> Decision:
        if status_code < 400:
            return ACCEPT
        retry_after = parse_retry_after(headers)
        error = error_for_status(
            status_code,
            body if isinstance(body, dict) else None,
            request_id=request_id,
            retry_after=retry_after,
            what=what,
        )
        retriable = status_code == 429 or status_code >= 500
        if kind is CallKind.SUBMIT:
            retriable = status_code in _SUBMIT_RETRY_STATUSES
        if not retriable or attempt >= self.max_retries:
            return Decision(error=error)
        if retry_after is not None:
            if retry_after > self.max_retry_after:
                return Decision(error=error)
            return Decision(delay=retry_after)
        return Decision(delay=self.backoff(attempt))

    def decide_exception(
        self, kind: CallKind, attempt: int, exc: httpx.TransportError, *, what: str = ""
    ) -> Decision:
        safe = kind is not CallKind.SUBMIT or isinstance(exc, _NOT_SENT)
        timeout = isinstance(exc, httpx.TimeoutException)
        cls = APITimeoutError if timeout else APIConnectionError
        summary = f"{type(exc).__name__}: {exc}" if str(exc) else type(exc).__name__
        message = f"{'timed out' if timeout else 'connection failed'} ({what}): {summary}"
        if not safe:
            message += (
                "; the submit may have been queued (and charged), so it was not resent: "
                "check your jobs before submitting again"
            )
        if not safe or attempt >= self.max_retries:
            return Decision(error=cls(message))
        return Decision(delay=self.backoff(attempt))


@dataclass(frozen=True, slots=True)
class PollPolicy:
    """When to poll a job: soon at first, then backing off to the documented 5-10 s."""

    initial: float = 1.0
    multiplier: float = 1.6
    maximum: float = 10.0

    def delay(self, poll_number: int) -> float:
        return min(self.maximum, self.initial * self.multiplier**poll_number)


def body_of(response: httpx.Response) -> Any:
    """The parsed JSON body, or None if there is none (error answers from proxies can be HTML)."""
    try:
        body: Any = response.json()
    except ValueError:
        return None
    return body
