"""Request ids: ``<slug>_<UUIDv7>``, time-ordered like the documentation's ``019d...`` ids.

An id is also the path of a job's public media URL, so its random part must not be
guessable: without a seed it comes from ``secrets``. With a seed it comes from an RNG of its
own, seeded once per mock instance and never rewound (not even by ``/_mock/reset``): a
seeded run repeats its ids exactly, yet no two ids of one run share their random part.
"""

from __future__ import annotations

import random
import secrets
import uuid
from typing import Protocol


class RandomBits(Protocol):
    """Anything that draws random bits: an ``IdSource``, or a ``random.Random``."""

    def getrandbits(self, k: int, /) -> int: ...


class IdSource:
    """Random bits for request ids: cryptographic unless ``seed`` is given."""

    def __init__(self, seed: int | None) -> None:
        self._rng = None if seed is None else random.Random(f"request-ids/{seed}")

    @property
    def seeded_random(self) -> random.Random | None:
        """The seeded RNG behind the ids (None: they come from ``secrets``), for snapshots."""
        return self._rng

    def use_random(self, rng: random.Random | None) -> None:
        """Draw from ``rng`` from now on (a restored snapshot's; None: from ``secrets``)."""
        self._rng = rng

    def getrandbits(self, count: int, /) -> int:
        return secrets.randbits(count) if self._rng is None else self._rng.getrandbits(count)

    @property
    def cryptographic(self) -> bool:
        return self._rng is None


def _random_parts(source: RandomBits) -> tuple[int, int]:
    """A UUIDv7's 12 and 62 random bits: from ``secrets`` one draw of 74 (each draw is a
    system call), from a seeded source two draws (the ids a seeded run has always had)."""
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
