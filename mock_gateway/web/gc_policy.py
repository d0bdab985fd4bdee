"""Keep Python's cyclic GC from pausing the mock for long, under load and as jobs pile up.

CPython starts a young collection when GC-tracked objects created minus those freed pass
700, and a full one when the objects promoted since the last full collection reach a
quarter of the old ones. Both go wrong for a busy mock. The journal, the hygiene tables and
the status-body cache replace old entries with new ones at a steady size, so creations and
frees balance: under a 9 polls : 1 submit load the young generation grew to 40,000 objects
(the newest journal entries) before anything counted past 700, and that one collection took
20 ms of CPU. Those entries (nested tuples, which CPython untracks one level per collection)
then sat in the old generation, so each full collection walked 40,000 objects or more:
30-40 ms of CPU, a 40-64 ms worst latency (measured with ``gc.callbacks``; see the README's
Benchmark section).

So every ``every_calls`` gateway calls (250) the survivors of a young collection are moved out of
the collector's sight with ``gc.freeze()``: every young collection then sees at most a few
thousand objects, and so does every full one. Frozen objects are still freed by reference
counting (a journal entry that leaves the journal is freed as before, and so are jobs when
they expire: they form no reference cycles). The price is that an object frozen while alive
that later becomes part of unreachable cyclic garbage is never reclaimed; the mock creates
little of that (a few hundred cyclic objects per thousands of requests, most of them dead
before the next freeze), a fair trade in a mock.

The freeze's own pause (the young collection before it) is as long as what the calls since
the last one left: about 3.5 tracked objects per status poll, up to the journal's 10,000
entries. The ticker that asks the policy used to look only every 0.25 s when nothing else
was due, which at 30,000 polls a second is 7,000-9,000 calls, not 1,000: a 3-7 ms pause
four times a second with one job held and 5-17 ms with 100,000 (the same objects cost twice
as much to walk in the larger heap), which set the status p99 (``gc.callbacks`` and a
loop-lag probe in the served mock; README, Benchmark). So the policy also says when to look
next: when ``every_calls`` more calls are due at the rate they came since its last look.
"""

from __future__ import annotations

import gc
import time
from collections.abc import Callable

DEFAULT_EVERY_CALLS = 250  # a young collection of ~250 polls' objects: 0.2-0.4 ms
SOONEST_LOOK = 0.005  # seconds: the policy never asks the ticker to look sooner than this


def freeze_survivors() -> None:
    gc.collect(1)  # young garbage goes first, so only survivors are frozen
    gc.freeze()


class GcPolicy:
    """Freeze survivors every ``every_calls`` calls (0 turns the policy off).

    ``freeze`` is what a freeze does (``freeze_survivors``) and ``monotonic`` the real
    clock the call rate is measured with; the decisions are tested with a recorder and a
    fake clock in their place."""

    def __init__(
        self,
        every_calls: int = DEFAULT_EVERY_CALLS,
        freeze: Callable[[], None] = freeze_survivors,
        monotonic: Callable[[], float] = time.monotonic,
    ) -> None:
        self.every_calls = every_calls
        self._freeze = freeze
        self._monotonic = monotonic
        self._last = 0  # the call count at the last freeze
        self._seen: tuple[int, float] | None = None  # (call count, real time) at the last look
        self._rate = 0.0  # calls per real second between the last two looks
        self.freezes = 0

    def after_calls(self, calls: int) -> bool:
        """Call with the running count of calls (the journal's); returns True when it froze."""
        if self.every_calls <= 0:
            return False
        self._measure(calls)
        if calls < self._last:  # the count was reset
            self._last = 0
        if calls - self._last < self.every_calls:
            return False
        self._last = calls
        self._freeze()
        self.freezes += 1
        return True

    def _measure(self, calls: int) -> None:
        now = self._monotonic()
        if self._seen is not None:
            seen_calls, seen_at = self._seen
            if calls < seen_calls:  # reset: start measuring again
                self._rate = 0.0
            elif now > seen_at:
                self._rate = (calls - seen_calls) / (now - seen_at)
        self._seen = (calls, now)

    def next_look(self, longest: float) -> float:
        """Real seconds until the policy wants to be asked again (``after_calls``): when
        ``every_calls`` calls since the last freeze are due at the recent rate, at least
        ``SOONEST_LOOK`` and at most ``longest`` (also when idle or turned off)."""
        if self.every_calls <= 0 or self._rate <= 0 or self._seen is None:
            return longest
        left = self.every_calls - (self._seen[0] - self._last)
        return min(longest, max(SOONEST_LOOK, left / self._rate))
