"""Accounts that ``--any-key`` created on first use, forgotten once idle.

``--any-key`` makes an account for every new key a client sends; a fuzzer sending a fresh
key per call would otherwise grow the mock without bound (100,000 keys: +144 MB). Such an
account is forgotten after ``idle_seconds`` of mock time without a call (by default the
retention of finished jobs), unless it still has jobs; configured keys and keys made with
``PUT /_mock/keys`` never expire.
"""

from __future__ import annotations

from collections import OrderedDict
from typing import Protocol

MAX_ANY_KEY_LENGTH = 256  # a longer key is refused (401) rather than kept


class Forgets(Protocol):
    """What expiry needs of the core: whether a key has jobs, and forgetting it."""

    def has_jobs(self, key: str) -> bool: ...

    def remove_account(self, key: str) -> None: ...


class IdleAccounts:
    def __init__(self, idle_seconds: float) -> None:
        self.idle_seconds = idle_seconds
        self._last_call: OrderedDict[str, float] = OrderedDict()  # oldest call first

    def __len__(self) -> int:
        return len(self._last_call)

    def touch(self, key: str, now: float) -> None:
        self._last_call[key] = now
        self._last_call.move_to_end(key)

    def last_calls(self) -> list[tuple[str, float]]:
        """``(key, mock time of its last call)``, the longest idle first (for snapshots)."""
        return list(self._last_call.items())

    def forget(self, key: str) -> None:
        self._last_call.pop(key, None)

    def expire(self, core: Forgets, now: float) -> list[str]:
        """Forget every account idle for ``idle_seconds``; returns their keys. Costs nothing
        when none is due (only the oldest entry is looked at)."""
        gone: list[str] = []
        horizon = now - self.idle_seconds
        while self._last_call:
            key, last = next(iter(self._last_call.items()))
            if last > horizon:
                break
            if core.has_jobs(key):  # still running or retained: look again later
                self.touch(key, now)
                continue
            del self._last_call[key]
            core.remove_account(key)
            gone.append(key)
        return gone
