"""Reading a snapshot's JSON: every value checked, every refusal naming its field.

A snapshot may come from anywhere (a file a colleague edited by hand, a test's dict, a
fuzzer), so nothing in it is trusted: ``Fields`` reads one JSON object at a path such as
``jobs[3].spec`` and raises ``SnapshotRefused("jobs[3].spec.width: must be an integer from 1
to 4096 (got 0)")`` at the first value that does not fit. Unknown fields are refused too: a
misspelt field would otherwise be silently ignored.
"""

from __future__ import annotations

import base64
import binascii
import math
import random
from collections.abc import Iterator
from typing import Any

# 2100-01-01T00:00:00Z: far enough, and far from year 9999, where timestamps stop (a clock
# running a million times faster from there would pass it within minutes)
MAX_TIME = 4_102_444_800.0
MAX_TEXT = 100_000  # characters of any text field (a prompt is at most 5,000)
MAX_KEY = 4096  # characters of a key (configured keys may be long; API-made ones <= 256)
MAX_ITEMS = 10_000_000  # items of any list (bounded again by the mock's own capacities)


class SnapshotRefused(ValueError):
    """A snapshot that cannot be restored; the message names the field and what is wrong.

    Raised before anything is changed: the mock keeps the state it had."""


def shown(value: Any) -> str:
    """A value as a refusal quotes it (short, whatever it is)."""
    text = repr(value)
    return text if len(text) <= 60 else text[:57] + "..."


class Fields:
    """One JSON object of a snapshot, at ``where``; ``allowed`` lists the fields it may have."""

    def __init__(self, data: Any, where: str, allowed: tuple[str, ...]) -> None:
        if not isinstance(data, dict):
            raise SnapshotRefused(f"{where}: must be a JSON object (got {type(data).__name__})")
        unknown = sorted(str(name) for name in data if name not in allowed)
        if unknown:
            raise SnapshotRefused(
                f"{self._at(where, unknown[0])}: unknown field (allowed: {', '.join(allowed)})"
            )
        self.data: dict[str, Any] = data
        self.where = where

    @staticmethod
    def _at(where: str, name: str) -> str:
        return f"{where}.{name}" if where else name

    def at(self, name: str) -> str:
        return self._at(self.where, name)

    def has(self, name: str) -> bool:
        return self.data.get(name) is not None

    def refuse(self, name: str, problem: str) -> SnapshotRefused:
        return SnapshotRefused(f"{self.at(name)}: {problem}")

    def raw(self, name: str) -> Any:
        if name not in self.data:
            raise self.refuse(name, "is missing")
        return self.data[name]

    def text(self, name: str, *, limit: int = MAX_TEXT, empty: bool = True) -> str:
        value = self.raw(name)
        if not isinstance(value, str) or len(value) > limit or (not empty and not value):
            kind = "a string" if empty else "a non-empty string"
            raise self.refuse(name, f"must be {kind} of at most {limit} characters")
        return value

    def optional_text(self, name: str, *, limit: int = MAX_TEXT) -> str | None:
        return None if self.data.get(name) is None else self.text(name, limit=limit)

    def flag(self, name: str) -> bool:
        value = self.raw(name)
        if not isinstance(value, bool):
            raise self.refuse(name, f"must be true or false (got {shown(value)})")
        return value

    def integer(self, name: str, low: int, high: int) -> int:
        value = self.raw(name)
        if isinstance(value, bool) or not isinstance(value, int) or not low <= value <= high:
            raise self.refuse(name, f"must be an integer from {low} to {high} (got {shown(value)})")
        return value

    def optional_integer(self, name: str, low: int, high: int) -> int | None:
        return None if self.data.get(name) is None else self.integer(name, low, high)

    def number(self, name: str, low: float, high: float) -> float:
        value = self.raw(name)
        if (
            isinstance(value, bool)
            or not isinstance(value, int | float)
            or not math.isfinite(value)
            or not low <= value <= high
        ):
            raise self.refuse(
                name, f"must be a number from {low:g} to {high:g} (got {shown(value)})"
            )
        return float(value)

    def optional_number(self, name: str, low: float, high: float) -> float | None:
        return None if self.data.get(name) is None else self.number(name, low, high)

    def time(self, name: str) -> float:
        return self.number(name, 0.0, MAX_TIME)

    def optional_time(self, name: str) -> float | None:
        return None if self.data.get(name) is None else self.time(name)

    def choice(self, name: str, options: tuple[str, ...]) -> str:
        value = self.raw(name)
        if value not in options:
            raise self.refuse(name, f"must be one of {', '.join(options)} (got {shown(value)})")
        return str(value)

    def items(self, name: str, *, limit: int = MAX_ITEMS, default: bool = False) -> list[Any]:
        """A JSON array (``[]`` when missing and ``default``)."""
        if default and name not in self.data:
            return []
        value = self.raw(name)
        if not isinstance(value, list) or len(value) > limit:
            raise self.refuse(name, f"must be an array of at most {limit} items")
        return value

    def indexed(self, name: str, *, default: bool = False) -> Iterator[tuple[str, Any]]:
        """``(where, item)`` for each item of an array, ``where`` being ``name[i]``."""
        for index, item in enumerate(self.items(name, default=default)):
            yield f"{self.at(name)}[{index}]", item

    def strings(self, name: str, *, limit: int = MAX_TEXT) -> list[str]:
        found = self.items(name)
        for index, item in enumerate(found):
            if not isinstance(item, str) or len(item) > limit:
                raise SnapshotRefused(f"{self.at(name)}[{index}]: must be a string")
        return found

    def child(self, name: str, allowed: tuple[str, ...]) -> Fields:
        return Fields(self.raw(name), self.at(name), allowed)

    def rows(self, name: str, names: tuple[str, ...]) -> list[Fields]:
        """An array of rows like ``[key, group, tokens, updated]`` (``[]`` when missing),
        each read as named fields, so a refusal names ``rate_limits[2].tokens``."""
        found = []
        for where, item in self.indexed(name, default=True):
            if not isinstance(item, list) or len(item) != len(names):
                raise SnapshotRefused(f"{where}: must be a row [{', '.join(names)}]")
            found.append(Fields(dict(zip(names, item, strict=True)), where, names))
        return found


def b64_bytes(value: Any, where: str, limit: int) -> bytes:
    """Bytes written as base64 text (at most ``limit`` bytes once decoded)."""
    if not isinstance(value, str) or len(value) > (limit + 2) // 3 * 4:
        raise SnapshotRefused(f"{where}: must be base64 text of at most {limit} bytes")
    try:
        return base64.b64decode(value, validate=True)
    except (binascii.Error, ValueError):
        raise SnapshotRefused(f"{where}: is not valid base64") from None


def b64_text(data: bytes) -> str:
    return base64.b64encode(data).decode("ascii")


def rng_state(rng: random.Random) -> list[Any]:
    """A ``random.Random``'s state as JSON: ``[version, [625 integers], gauss_next]``."""
    version, internal, gauss = rng.getstate()
    return [version, list(internal), gauss]


def rng_from(value: Any, where: str) -> random.Random:
    """A ``random.Random`` in the state ``rng_state`` wrote (a new object: nothing changes
    until the caller installs it)."""
    problem = f"{where}: must be a random generator's state as a snapshot wrote it"
    if not isinstance(value, list) or len(value) != 3 or not isinstance(value[1], list):
        raise SnapshotRefused(problem)
    version, internal, gauss = value
    words = all(type(n) is int and 0 <= n < 2**32 for n in internal)
    if version != 3 or len(internal) != 625 or not words:
        raise SnapshotRefused(problem)
    if gauss is not None and (type(gauss) is not float or not math.isfinite(gauss)):
        raise SnapshotRefused(problem)
    rng = random.Random()
    try:
        rng.setstate((version, tuple(internal), gauss))
    except (TypeError, ValueError, OverflowError):
        raise SnapshotRefused(problem) from None
    return rng
