"""Token-bucket rate limits per key and endpoint group, in the style of APIM's rate-limit policy."""

from __future__ import annotations

import math
from dataclasses import dataclass

from mock_gateway.core.settings import RateLimit


@dataclass(slots=True)
class _Bucket:
    tokens: float
    updated: float


# Token arithmetic is in floats: 29 s at 2/m gives 0.9666...67, not 29/30. Without a little
# slack, Retry-After would round up a whole second too far and a client waiting exactly
# Retry-After could still be refused.
EPSILON = 1e-9


def seconds_until_token(tokens: float, rate: float) -> int:
    """Whole seconds until a bucket holding ``tokens`` (< 1) has a call to give (>= 1)."""
    return max(1, math.ceil((1.0 - tokens) / rate - EPSILON))


class RateLimiter:
    """``check`` returns None when the call may go ahead, else the seconds to wait (>= 1)."""

    def __init__(self) -> None:
        self._buckets: dict[tuple[str, str], _Bucket] = {}

    def check(self, key: str, group: str, limit: RateLimit | None, now: float) -> int | None:
        if limit is None:
            return None
        rate = limit.calls / limit.period_seconds  # tokens per second
        bucket = self._buckets.get((key, group))
        if bucket is None:
            bucket = _Bucket(tokens=float(limit.burst), updated=now)
            self._buckets[(key, group)] = bucket
        elapsed = max(0.0, now - bucket.updated)
        bucket.tokens = min(float(limit.burst), bucket.tokens + elapsed * rate)
        bucket.updated = now
        if bucket.tokens >= 1.0 - EPSILON:
            bucket.tokens = max(0.0, bucket.tokens - 1.0)
            return None
        # Rejected calls are not counted: waiting Retry-After seconds always gets a token.
        return seconds_until_token(bucket.tokens, rate)

    def tokens(self, key: str, group: str, limit: RateLimit, now: float) -> float:
        """The calls ``key`` may make in ``group`` right now, without using one up."""
        bucket = self._buckets.get((key, group))
        if bucket is None:
            return float(limit.burst)
        rate = limit.calls / limit.period_seconds
        return min(float(limit.burst), bucket.tokens + max(0.0, now - bucket.updated) * rate)

    def buckets(self) -> list[tuple[str, str, float, float]]:
        """Every bucket as ``(key, group, tokens, updated)``, for snapshots."""
        return [(k, g, b.tokens, b.updated) for (k, g), b in self._buckets.items()]

    def load(self, buckets: list[tuple[str, str, float, float]]) -> None:
        """Hold exactly ``buckets`` (as ``buckets()`` gave them)."""
        self._buckets = {(k, g): _Bucket(tokens, updated) for k, g, tokens, updated in buckets}

    def forget(self, key: str) -> None:
        for bucket_key in [k for k in self._buckets if k[0] == key]:
            del self._buckets[bucket_key]

    def clear(self) -> None:
        self._buckets.clear()
