"""Client hygiene: flag the habits that cost money or get clients throttled in production.

A mock that answers everything politely teaches nothing. These checks see what the live
gateway would punish later: retrying before the ``Retry-After`` it was given, polling one
request faster than the documented 5 s, polling on after a terminal status, and resending an
identical submit (submits are not idempotent: a likely double charge). Each warning goes
into the journal entry of the call; the server log gets one line per key and kind.

All state is bounded (least recently used entries go first), so memory stays flat.
"""

from __future__ import annotations

import logging
from collections import OrderedDict
from typing import Generic, TypeVar

from .journal import redact_key

log = logging.getLogger("mock_gateway.hygiene")

K = TypeVar("K")
V = TypeVar("V")

Warning_ = dict[str, str]


class Lru(Generic[K, V]):
    """A dict that forgets its least recently written entries beyond ``capacity``."""

    def __init__(self, capacity: int) -> None:
        self.capacity = max(1, capacity)
        self._items: OrderedDict[K, V] = OrderedDict()

    def get(self, key: K) -> V | None:
        return self._items.get(key)

    def put(self, key: K, value: V) -> None:
        self._items[key] = value
        self._items.move_to_end(key)
        if len(self._items) > self.capacity:
            self._items.popitem(last=False)

    def pop(self, key: K) -> None:
        self._items.pop(key, None)

    def clear(self) -> None:
        self._items.clear()


class Hygiene:
    def __init__(
        self,
        *,
        min_poll_seconds: float = 5.0,
        duplicate_window_seconds: float = 10.0,
        capacity: int = 10_000,
    ) -> None:
        self.min_poll_seconds = min_poll_seconds
        self.duplicate_window_seconds = duplicate_window_seconds
        self._retry_after: Lru[tuple[str, str], tuple[float, int]] = Lru(capacity)
        self._polls: Lru[tuple[str, str], tuple[float, str | None]] = Lru(capacity)
        self._submits: Lru[tuple[str, int], float] = Lru(capacity)
        self._logged: Lru[tuple[str | None, str], bool] = Lru(1000)

    def clear(self) -> None:
        for table in (self._retry_after, self._polls, self._submits, self._logged):
            table.clear()

    def _warn(self, key: str, kind: str, message: str) -> Warning_:
        shown = redact_key(key)
        if self._logged.get((shown, kind)) is None:
            self._logged.put((shown, kind), True)
            log.warning("client hygiene (key %s): %s [%s]", shown, message, kind)
        return {"kind": kind, "message": message}

    def before_call(self, key: str, group: str, now: float) -> Warning_ | None:
        """A call arriving before the Retry-After the key was given for this group."""
        pending = self._retry_after.get((key, group))
        if pending is None:
            return None
        not_before, retry_after = pending
        if now >= not_before:
            self._retry_after.pop((key, group))
            return None
        early = not_before - now
        return self._warn(
            key,
            "retry-before-retry-after",
            f"called {early:.1f} s before the Retry-After: {retry_after} it was given "
            "(wait at least that long after a 429)",
        )

    def rate_limited(self, key: str, group: str, now: float, retry_after: int) -> None:
        self._retry_after.put((key, group), (now + retry_after, retry_after))

    def poll(self, key: str, request_id: str, now: float, status: str | None) -> Warning_ | None:
        """One status poll answered with ``status`` (None: unknown request)."""
        previous = self._polls.get((key, request_id))
        self._polls.put((key, request_id), (now, status))
        if previous is None:
            return None
        last_time, last_status = previous
        if last_status in ("COMPLETED", "FAILED", "ERROR"):
            return self._warn(
                key,
                "poll-after-terminal",
                f"polled {request_id} again after it had reported {last_status} "
                "(a terminal status never changes: stop polling)",
            )
        gap = now - last_time
        if gap < self.min_poll_seconds:
            return self._warn(
                key,
                "poll-too-fast",
                f"polled {request_id} {gap:.1f} s after the previous poll (the documentation "
                f"advises polling every 5-10 s; this mock flags gaps under "
                f"{self.min_poll_seconds:g} s of mock time)",
            )
        return None

    def submitted(self, key: str, path: str, body: bytes, now: float) -> Warning_ | None:
        """An accepted submit identical to one accepted moments before."""
        fingerprint = hash((path, body))
        previous = self._submits.get((key, fingerprint))
        self._submits.put((key, fingerprint), now)
        if previous is None or now - previous > self.duplicate_window_seconds:
            return None
        return self._warn(
            key,
            "duplicate-submit",
            f"the same submit was accepted {now - previous:.1f} s earlier; submits are not "
            "idempotent, so a resend is a second paid job (a likely double charge)",
        )
