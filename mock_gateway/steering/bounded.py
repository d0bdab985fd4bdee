"""Stores a hostile client cannot grow: bounded by entry count *and* by bytes.

Counting entries alone is not a bound: 12,000 status polls with 90 KB request ids are 12,000
entries and a gigabyte. So everything a store keeps of a request is clipped first (``clip``,
``clip_bytes``), and a log also keeps a running total of what its entries weigh, dropping the
oldest while the total is over its budget.
"""

from __future__ import annotations

from collections import deque
from collections.abc import Iterator
from typing import Generic, TypeVar

T = TypeVar("T")

TEXT_CAP = 256  # characters kept of a key, a request id or a hygiene argument
PATH_CAP = 2048  # characters kept of a request path


def clip(text: str, limit: int = TEXT_CAP) -> str:
    """``text`` if short enough, else its head and tail (a key's last 4 characters stay
    visible) around a marker saying how long it was."""
    if len(text) <= limit:
        return text
    marker = f"...({len(text)} characters)..."
    head = max(0, limit - len(marker) - 4)
    return text[:head] + marker + text[-4:]


def clip_optional(text: str | None, limit: int = TEXT_CAP) -> str | None:
    return None if text is None else clip(text, limit)


class ByteBoundedLog(Generic[T]):
    """A FIFO log of at most ``capacity`` entries weighing at most ``max_bytes`` in all;
    each entry's weight is given when it is appended."""

    def __init__(self, capacity: int, max_bytes: int) -> None:
        if capacity < 1:
            raise ValueError("a log needs room for at least one entry")
        self.capacity = capacity
        self.max_bytes = max(1, max_bytes)
        # Two deques side by side, not one of (item, weight) pairs: a pair per entry would
        # be one more object for the cyclic GC to walk (gc_policy.py), on every call. Their
        # ``maxlen`` drops the oldest entry when a full log takes one more.
        self._items: deque[T] = deque(maxlen=capacity)
        self._weights: deque[int] = deque(maxlen=capacity)
        self.total_bytes = 0

    def append(self, item: T, weight: int) -> None:
        items, weights = self._items, self._weights
        total = self.total_bytes + weight
        if len(weights) == self.capacity:  # full: the oldest makes room (dropped by maxlen)
            total -= weights[0]
        items.append(item)
        weights.append(weight)
        while total > self.max_bytes and len(items) > 1:
            items.popleft()
            total -= weights.popleft()
        self.total_bytes = total

    def __len__(self) -> int:
        return len(self._items)

    def __iter__(self) -> Iterator[T]:
        return iter(self._items)

    def clear(self) -> None:
        self._items.clear()
        self._weights.clear()
        self.total_bytes = 0


def page_bounds(total: int, limit: int, offset: int | None) -> tuple[int, int, int | None]:
    """``(start, stop, next_offset)`` of one page of ``total`` items, oldest first.

    With an ``offset`` the page starts there; without one it is the newest ``limit`` items
    (what a log reader wants first). ``next_offset`` is None on the last page.
    """
    start = max(0, total - limit) if offset is None else min(offset, total)
    stop = min(total, start + limit)
    return start, stop, (stop if stop < total else None)
