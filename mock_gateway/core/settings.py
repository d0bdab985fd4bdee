"""Plain-data settings of the core (parsed from TOML by ``mock_gateway.config.settings``)."""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from decimal import Decimal

# ASCII digits and blanks only (Python's \d and \s take Arabic digits and more); the control
# API's document states the same pattern.
_RATE = re.compile(
    r"^[ \t]*([0-9]+)[ \t]*/[ \t]*([0-9]*)[ \t]*(s|sec|second|m|min|minute|h|hour)s?[ \t]*\Z"
)
_UNIT_SECONDS = {"s": 1, "sec": 1, "second": 1, "m": 60, "min": 60, "minute": 60}
_UNIT_SECONDS |= {"h": 3600, "hour": 3600}


@dataclass(frozen=True, slots=True)
class RateLimit:
    """``calls`` per ``period_seconds``, allowing bursts of up to ``burst`` calls."""

    calls: int
    period_seconds: float
    burst: int

    @classmethod
    def parse(cls, text: str) -> RateLimit:
        """Parse ``"10/m"``, ``"100/10s"``, ``"5/second"``."""
        match = _RATE.match(text)
        if not match or int(match.group(1)) < 1:
            raise ValueError(
                f"rate limit {text!r} is not of the form '<calls>/<period>' like '10/m'"
            )
        calls = int(match.group(1))
        multiplier = int(match.group(2) or 1)
        if multiplier < 1:
            raise ValueError(f"rate limit {text!r} has a zero period")
        return cls(
            calls=calls, period_seconds=multiplier * _UNIT_SECONDS[match.group(3)], burst=calls
        )

    def __str__(self) -> str:
        return f"{self.calls}/{self.period_seconds:g}s"


@dataclass(frozen=True, slots=True)
class Durations:
    queue_seconds: float
    processing_seconds: float
    jitter: float = 0.0  # fraction of processing_seconds, applied as +/- uniformly


@dataclass(frozen=True, slots=True)
class TimingProfile:
    """How long jobs wait and run, per operation id (``default`` for the rest)."""

    name: str
    durations: dict[str, Durations]

    def for_operation(self, operation_id: str) -> Durations:
        return self.durations.get(operation_id) or self.durations["default"]


_LITE_EDIT = "liteEditSubmit"
_LITE_T2I = "liteTextToImageSubmit"

TIMING_PROFILES: dict[str, TimingProfile] = {
    # A job completes in about a second, so local work and CI stay quick.
    "fast": TimingProfile("fast", {"default": Durations(0.2, 0.6, 0.25)}),
    # The documented examples: ~51 s (text to image) and ~68 s (edit) from created to
    # completed on 5.0 Lite; byteplus examples show created == completed, so a few seconds.
    "realistic": TimingProfile(
        "realistic",
        {
            "default": Durations(0.5, 3.0, 0.3),
            _LITE_T2I: Durations(4.0, 47.0, 0.15),
            _LITE_EDIT: Durations(5.0, 63.0, 0.15),
        },
    ),
    # Time moves only when a test advances the clock; no jitter so steps are exact.
    "manual": TimingProfile("manual", {"default": Durations(1.0, 2.0, 0.0)}),
}


# Words that make the mock's safety checker fail a job (the documented FAILED outcome).
DEFAULT_BLOCKLIST = ("nsfw", "nude", "naked", "gore", "blood", "violence", "weapon", "unsafe")


@dataclass(frozen=True, slots=True)
class KeySettings:
    key: str
    balance_usd: Decimal = Decimal("100")
    forbidden: bool = False
    rate_limits: dict[str, RateLimit] = field(default_factory=dict)  # group -> limit
    note: str = ""


@dataclass(frozen=True, slots=True)
class CoreSettings:
    timing: TimingProfile = TIMING_PROFILES["fast"]
    workers: int = 8
    retention_seconds: float = 24 * 3600.0
    prices_usd: dict[str, Decimal] = field(default_factory=dict)  # operation id -> price
    price_per_image: bool = True
    charge_failed: bool = True
    safety_blocklist: tuple[str, ...] = DEFAULT_BLOCKLIST
    keys: tuple[KeySettings, ...] = ()
    any_key: bool = False
    any_key_balance_usd: Decimal = Decimal("100")
    any_key_idle_seconds: float | None = None  # None: retention_seconds
    default_rate_limits: dict[str, RateLimit] = field(default_factory=dict)
    disabled_models: frozenset[str] = frozenset()
    seed: int | None = None
