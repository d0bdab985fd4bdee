"""Request ids: ``<slug>_<UUIDv7>``, time-ordered like the documentation's ``019d...`` ids."""

from __future__ import annotations

import random
import uuid


def uuid7(now: float, rng: random.Random) -> uuid.UUID:
    """A UUIDv7 (RFC 9562) from the mock clock and the core's seeded RNG, so a seeded run
    with a frozen clock produces the same ids every time."""
    millis = int(now * 1000) & ((1 << 48) - 1)
    rand_a = rng.getrandbits(12)
    rand_b = rng.getrandbits(62)
    value = (millis << 80) | (0x7 << 76) | (rand_a << 64) | (0b10 << 62) | rand_b
    return uuid.UUID(int=value)


def new_request_id(slug: str, now: float, rng: random.Random) -> str:
    return f"{slug}_{uuid7(now, rng)}"
