"""Request ids: ``<slug>_<UUIDv7>``, time-ordered like the documentation's ``019d...`` ids.

An id is also the path of a job's public media URL, so its random part must not be
guessable: without a seed it comes from ``os.urandom`` (what ``secrets`` reads). With a seed
it comes from an RNG of its own, seeded once per mock instance and never rewound (not even
by ``/_mock/reset``): a seeded run repeats its ids exactly, yet no two ids of one run share
their random part.
"""

from __future__ import annotations

import os
import random
import uuid
import weakref
from typing import Protocol

POOL_BYTES = 4096  # drawn from the OS at once: 409 ids' random bits per system call


class RandomBits(Protocol):
    """Anything that draws random bits: an ``IdSource``, or a ``random.Random``."""

    def getrandbits(self, k: int, /) -> int: ...


class IdSource:
    """Random bits for request ids: cryptographic unless ``seed`` is given.

    Cryptographic bits come from ``os.urandom`` (what ``secrets`` reads), fetched a
    ``POOL_BYTES`` block at a time: one system call per id was a tenth of a submit's cost.
    Each byte is handed out once; a forked child drops what its parent had fetched."""

    def __init__(self, seed: int | None) -> None:
        self._rng = None if seed is None else random.Random(f"request-ids/{seed}")
        self._pool, self._taken = b"", 0  # bytes fetched, how many of them are handed out
        _SOURCES.add(self)

    @property
    def seeded_random(self) -> random.Random | None:
        """The seeded RNG behind the ids (None: they come from the OS), for snapshots."""
        return self._rng

    def use_random(self, rng: random.Random | None) -> None:
        """Draw from ``rng`` from now on (a restored snapshot's; None: from the OS)."""
        self._rng = rng

    def getrandbits(self, count: int, /) -> int:
        if self._rng is not None:
            return self._rng.getrandbits(count)
        size = (count + 7) // 8
        return int.from_bytes(self._bytes(size)) >> (size * 8 - count)

    def _bytes(self, size: int) -> bytes:
        """``size`` fresh cryptographic bytes (none handed out before, in this process)."""
        start = self._taken
        if start + size > len(self._pool):
            self._pool, start = os.urandom(max(POOL_BYTES, size)), 0
        self._taken = start + size
        return self._pool[start : start + size]

    def _forget_pool(self) -> None:
        self._pool, self._taken = b"", 0

    @property
    def cryptographic(self) -> bool:
        return self._rng is None


# Every IdSource, so that a forked child never hands out the bytes its parent fetched
# (``random`` reseeds its own generator after a fork for the same reason).
_SOURCES: weakref.WeakSet[IdSource] = weakref.WeakSet()


def _forget_pools() -> None:
    for source in _SOURCES:
        source._forget_pool()


os.register_at_fork(after_in_child=_forget_pools)


def _random_parts(source: RandomBits) -> tuple[int, int]:
    """A UUIDv7's 12 and 62 random bits: from the OS one draw of 74, from a seeded source
    two draws (the ids a seeded run has always had)."""
    if isinstance(source, IdSource) and source.cryptographic:
        bits = source.getrandbits(74)
        return bits >> 62, bits & ((1 << 62) - 1)
    return source.getrandbits(12), source.getrandbits(62)


def _uuid7_int(now: float, source: RandomBits) -> int:
    millis = int(now * 1000) & ((1 << 48) - 1)
    rand_a, rand_b = _random_parts(source)
    return (millis << 80) | (0x7 << 76) | (rand_a << 64) | (0b10 << 62) | rand_b


def uuid7(now: float, source: RandomBits) -> uuid.UUID:
    """A UUIDv7 (RFC 9562) from the mock clock and 74 random bits."""
    return uuid.UUID(int=_uuid7_int(now, source))


def new_request_id(slug: str, now: float, source: RandomBits) -> str:
    # str(uuid7(...)) without building the UUID object (one per submit)
    digits = f"{_uuid7_int(now, source):032x}"
    return f"{slug}_{digits[:8]}-{digits[8:12]}-{digits[12:16]}-{digits[16:20]}-{digits[20:]}"
