"""Client hygiene: flag the habits that cost money or get clients throttled in production.

A mock that answers everything politely teaches nothing. These checks see what the live
gateway would punish later: retrying before the ``Retry-After`` it was given, sustained
polling of one request faster than the documented 5 s, polling on after a terminal status,
and resending an identical submit (submits are not idempotent: a likely double charge).

"Sustained" is what separates a hammering client from a backing-off one: a gap under 5 s is
flagged only when it is no longer than the gap before it (the client is not backing off).
A client that starts at 1 s and grows each gap (ours: 1, 1.6, 2.6, 4.1, 6.6, 10 s) is never
flagged; one that polls every 1 s, or every 4 s, is flagged from its third poll on. Each
warning goes into the journal entry of the call; the server log gets one line per key and kind.

All state is bounded (the oldest entries go first) in entries and in bytes: a key or request
id is clipped to ``TEXT_CAP`` characters before it is kept, so memory stays flat whatever
clients send.
"""

from __future__ import annotations

import logging
import zlib
from collections import OrderedDict
from typing import Any, Generic, TypeVar

from mock_gateway.core.jobs import TERMINAL_STATUSES
from mock_gateway.steering.bounded import clip
from mock_gateway.steering.journal import Flag, flag_json, redact_key

log = logging.getLogger("mock_gateway.steering.hygiene")

K = TypeVar("K")
V = TypeVar("V")

EARLY_RETRY = (
    "called {:.1f} s before the Retry-After: {} it was given (wait at least that long after a 429)"
)
AFTER_TERMINAL = (
    "polled {} again after it had reported {} (a terminal status never changes: stop polling)"
)
TOO_FAST = (
    "polled {} {:.1f} s after the previous poll, after a gap of {:.1f} s: sustained polling "
    "faster than every {:g} s (the documentation advises 5-10 s; back off, as a gap that "
    "grows is never flagged)"
)
# A gap at least this much longer than the one before it counts as backing off (the margin
# absorbs network jitter in a client that multiplies its delay).
BACKOFF_GROWTH = 1.2
DUPLICATE = (
    "the same submit was accepted {:.1f} s earlier; submits are not idempotent, so a resend "
    "is a second paid job (a likely double charge)"
)


# (key, request id) -> (time of the last poll, its status, the gap before it)
PollHint = tuple[tuple[str, str], tuple[float, str | None, float | None]]
# A submit as (path, CRC-32 of the body, its length): stable across processes, so a snapshot
# can keep it (a collision only risks a false hint, and needs the same length and path).
Fingerprint = tuple[str, int, int]
SubmitHint = tuple[tuple[str, Fingerprint], float]
# (key, rate-limit group) -> (when a retry is allowed, the Retry-After seconds given)
RetryHint = tuple[tuple[str, str], tuple[float, int]]


class Bounded(Generic[K, V]):
    """A dict that forgets its oldest entries beyond ``capacity`` (first in, first out:
    cheaper than LRU, and forgetting an old entry only forgets a hint).

    An ``OrderedDict``: a plain dict dropped its oldest with ``del d[next(iter(d))]``, and
    each deletion leaves a hole that every later ``next(iter(d))`` walks past until the
    dict is rebuilt, so a full table took 1.8 us a new entry at 10,000 entries (the
    default ``journal_size``) and 17 us at 100,000; ``popitem(last=False)`` takes the same
    at any size. Setting a key it holds keeps that key's place, as a dict does."""

    def __init__(self, capacity: int) -> None:
        self.capacity = max(1, capacity)
        self._items: OrderedDict[K, V] = OrderedDict()

    def get(self, key: K) -> V | None:
        return self._items.get(key)

    def put(self, key: K, value: V) -> None:
        items = self._items
        items[key] = value
        if len(items) > self.capacity:
            items.popitem(last=False)

    def swap(self, key: K, value: V) -> V | None:
        """``put`` that returns the value ``key`` had (None: it had none)."""
        items = self._items
        previous = items.get(key)
        items[key] = value
        if len(items) > self.capacity:
            items.popitem(last=False)
        return previous

    def pop(self, key: K) -> None:
        self._items.pop(key, None)

    def items(self) -> list[tuple[K, V]]:
        """Every entry, the oldest first."""
        return list(self._items.items())

    def clear(self) -> None:
        self._items.clear()


class Hygiene:
    def __init__(
        self, *, min_poll_seconds: float, duplicate_window_seconds: float, capacity: int
    ) -> None:
        """The thresholds come from ``Settings`` (their defaults are written there)."""
        self.min_poll_seconds = min_poll_seconds
        self.duplicate_window_seconds = duplicate_window_seconds
        self._retry_after: Bounded[tuple[str, str], tuple[float, int]] = Bounded(capacity)
        # (key, request id) -> (time of the last poll, its status, the gap before it)
        self._polls: Bounded[tuple[str, str], tuple[float, str | None, float | None]] = Bounded(
            capacity
        )
        self._submits: Bounded[tuple[str, Fingerprint], float] = Bounded(capacity)
        self._logged: Bounded[tuple[str, str], bool] = Bounded(1000)
        # (key, request id) -> the poll-after-terminal flag it was last given: a client
        # polling on gets the same flag object every time, not three new tuples for the
        # cyclic GC to walk on each poll (web/gc_policy.py)
        self._after_terminal: Bounded[tuple[str, str], Flag] = Bounded(capacity)

    def clear(self) -> None:
        tables = (self._retry_after, self._polls, self._submits, self._logged,
                  self._after_terminal)  # fmt: skip
        for table in tables:
            table.clear()

    def hints(
        self,
    ) -> tuple[list[RetryHint], list[PollHint], list[SubmitHint]]:
        """The Retry-After, poll and submit tables, oldest first (for snapshots)."""
        return self._retry_after.items(), self._polls.items(), self._submits.items()

    def restore_hints(
        self,
        retry_after: list[RetryHint],
        polls: list[PollHint],
        submits: list[SubmitHint],
    ) -> None:
        """Hold exactly these hints (as ``hints`` gave them); the log's once-per-kind lines
        start afresh."""
        self.clear()
        for key, value in retry_after:
            self._retry_after.put(key, value)
        for poll_key, poll in polls:
            self._polls.put(poll_key, poll)
        for submit_key, at in submits:
            self._submits.put(submit_key, at)

    def _warn(self, key: str, kind: str, template: str, *args: Any) -> Flag:
        flag: Flag = (kind, template, args)
        if self._logged.get((key, kind)) is None:
            self._logged.put((key, kind), True)
            message = flag_json(flag)["message"]
            log.warning("client hygiene (key %s): %s [%s]", redact_key(key), message, kind)
        return flag

    def before_call(self, key: str, group: str, now: float) -> Flag | None:
        """A call arriving before the Retry-After the key was given for this group."""
        key = clip(key)
        pending = self._retry_after.get((key, group))
        if pending is None:
            return None
        not_before, retry_after = pending
        if now >= not_before:
            self._retry_after.pop((key, group))
            return None
        kind = "retry-before-retry-after"
        return self._warn(key, kind, EARLY_RETRY, not_before - now, retry_after)

    def rate_limited(self, key: str, group: str, now: float, retry_after: int) -> None:
        self._retry_after.put((clip(key), group), (now + retry_after, retry_after))

    def poll(self, key: str, request_id: str, now: float, status: str | None) -> Flag | None:
        """One status poll answered with ``status`` (None: unknown request)."""
        key, request_id = clip(key), clip(request_id)
        polled = (key, request_id)
        previous = self._polls.get(polled)
        if previous is None:
            self._polls.put(polled, (now, status, None))
            return None
        last_time, last_status, last_gap = previous
        gap = now - last_time
        self._polls.put(polled, (now, status, gap))
        if last_status in TERMINAL_STATUSES:  # a StrEnum set: plain strings match
            flag = self._after_terminal.get(polled)
            if flag is None or flag[2][1] != last_status:
                flag = self._warn(key, "poll-after-terminal", AFTER_TERMINAL, request_id,
                                  last_status)  # fmt: skip
                self._after_terminal.put(polled, flag)
            return flag
        if self._sustained_fast(gap, last_gap):
            return self._warn(
                key, "poll-too-fast", TOO_FAST, request_id, gap, last_gap, self.min_poll_seconds
            )
        return None

    def _sustained_fast(self, gap: float, last_gap: float | None) -> bool:
        """Two fast gaps in a row, the second not clearly longer: not backing off."""
        if last_gap is None or gap >= self.min_poll_seconds:
            return False
        return last_gap < self.min_poll_seconds and gap <= last_gap * BACKOFF_GROWTH

    def submitted(self, key: str, path: str, body: bytes, now: float) -> Flag | None:
        """An accepted submit identical to one accepted moments before."""
        key = clip(key)
        fingerprint = (path, zlib.crc32(body), len(body))
        previous = self._submits.swap((key, fingerprint), now)
        if previous is None or now - previous > self.duplicate_window_seconds:
            return None
        return self._warn(key, "duplicate-submit", DUPLICATE, now - previous)
