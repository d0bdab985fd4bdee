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

So every ``every_calls`` gateway calls the survivors of a young collection are moved out of
the collector's sight with ``gc.freeze()``: every young collection then sees at most a few
thousand objects, and so does every full one. Frozen objects are still freed by reference
counting (a journal entry that leaves the journal is freed as before, and so are jobs when
they expire: they form no reference cycles). The price is that an object frozen while alive
that later becomes part of unreachable cyclic garbage is never reclaimed; the mock creates
little of that (a few hundred cyclic objects per thousands of requests, most of them dead
before the next freeze), a fair trade in a mock.
"""

from __future__ import annotations

import gc
from collections.abc import Callable

DEFAULT_EVERY_CALLS = 1_000  # a young collection of ~1,000 calls' objects: about 1-2 ms


def freeze_survivors() -> None:
    gc.collect(1)  # young garbage goes first, so only survivors are frozen
    gc.freeze()


class GcPolicy:
    """Freeze survivors every ``every_calls`` calls (0 turns the policy off).

    ``freeze`` is what a freeze does (``freeze_survivors``); the decisions are tested with a
    recorder in its place."""

    def __init__(
        self, every_calls: int = DEFAULT_EVERY_CALLS, freeze: Callable[[], None] = freeze_survivors
    ) -> None:
        self.every_calls = every_calls
        self._freeze = freeze
        self._last = 0
        self.freezes = 0

    def after_calls(self, calls: int) -> bool:
        """Call with the running count of calls (the journal's); returns True when it froze."""
        if self.every_calls <= 0:
            return False
        if calls < self._last:  # the count was reset
            self._last = 0
        if calls - self._last < self.every_calls:
            return False
        self._last = calls
        self._freeze()
        self.freezes += 1
        return True
