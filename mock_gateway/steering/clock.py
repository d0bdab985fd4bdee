"""One clock drives everything time-based in the mock.

Modelled on trio's ``MockClock``: virtual time that runs at a *rate* relative to real
time (0 = frozen, 1 = real time, N = N times faster) and can be advanced by hand. Nothing in
the mock reads ``time.time()`` directly, so a test steers job progress, timestamps,
rate-limit windows, webhook retries and ``Retry-After`` through this one object.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import Protocol


class Clock(Protocol):
    """Anything that tells the mock's time as seconds since the Unix epoch."""

    def now(self) -> float: ...


class VirtualClock:
    """Virtual time: ``start + (elapsed real time) * rate + advanced``.

    ``monotonic`` is injectable so the clock itself can be tested without sleeping.
    """

    def __init__(
        self,
        start: float | None = None,
        rate: float = 1.0,
        *,
        monotonic: Callable[[], float] = time.monotonic,
    ) -> None:
        if rate < 0:
            raise ValueError("clock rate must be >= 0")
        self._monotonic = monotonic
        self._base = time.time() if start is None else float(start)
        self._anchor = monotonic()
        self._rate = float(rate)

    @property
    def rate(self) -> float:
        return self._rate

    @property
    def frozen(self) -> bool:
        return self._rate == 0.0

    def now(self) -> float:
        return self._base + (self._monotonic() - self._anchor) * self._rate

    def _rebase(self) -> None:
        # Fold elapsed time into the base so a rate change never makes time jump.
        self._base = self.now()
        self._anchor = self._monotonic()

    def set_rate(self, rate: float) -> None:
        if rate < 0:
            raise ValueError("clock rate must be >= 0")
        self._rebase()
        self._rate = float(rate)

    def freeze(self) -> None:
        self.set_rate(0.0)

    def resume(self, rate: float = 1.0) -> None:
        self.set_rate(rate)

    def advance(self, seconds: float) -> float:
        """Move time forward (never backward) and return the new time."""
        if seconds < 0:
            raise ValueError("time only moves forward")
        self._rebase()
        self._base += seconds
        return self._base

    def restore(self, time: float, rate: float) -> None:
        """Stand at ``time`` running at ``rate``, as a snapshot recorded them: the one way
        time may move backwards (a restored mock goes on from where the snapshot stood)."""
        if rate < 0:
            raise ValueError("clock rate must be >= 0")
        self._base = float(time)
        self._anchor = self._monotonic()
        self._rate = float(rate)

    def real_seconds_until(self, deadline: float) -> float | None:
        """How long to sleep in real time until ``deadline``; None while frozen."""
        remaining = deadline - self.now()
        if remaining <= 0:
            return 0.0
        if self._rate == 0.0:
            return None
        return remaining / self._rate
