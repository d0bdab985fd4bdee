"""The core's rule objects: the safety blocklist, token buckets and rate-limit parsing."""

from __future__ import annotations

import pytest

from mock_gateway.core.ratelimit import EPSILON, RateLimiter
from mock_gateway.core.safety import BYTEPLUS_BLOCKED, LITE_BLOCKED, SafetyChecker
from mock_gateway.core.settings import RateLimit


def test_an_empty_blocklist_flags_nothing() -> None:
    assert not SafetyChecker(()).flags("gore everywhere")
    assert not SafetyChecker(("", "  ")).flags("anything at all")


def test_every_word_of_the_blocklist_counts_as_a_whole_word() -> None:
    checker = SafetyChecker(("gore", " Blood ", "a.b"))
    assert checker.flags("GORE") and checker.flags("some blood here") and checker.flags("x a.b y")
    assert not checker.flags("gorey bloodless")
    assert not checker.flags("axb")  # words are literal, not patterns


def test_each_model_family_reports_a_block_in_its_own_words() -> None:
    assert SafetyChecker.error_text("byteplus") == BYTEPLUS_BLOCKED
    assert SafetyChecker.error_text("seedream-5-0-lite-edit") == LITE_BLOCKED
    assert BYTEPLUS_BLOCKED.startswith("InputTextSensitiveContentDetected")


def test_forget_resets_one_keys_buckets_only() -> None:
    limiter = RateLimiter()
    limit = RateLimit.parse("1/h")
    for key in ("a", "b"):
        for group in ("submit", "status"):
            assert limiter.check(key, group, limit, 0.0) is None
    limiter.forget("a")
    assert limiter.check("a", "submit", limit, 0.0) is None
    assert limiter.check("a", "status", limit, 0.0) is None
    assert limiter.check("b", "submit", limit, 0.0) == 3600
    limiter.clear()
    assert limiter.check("b", "submit", limit, 0.0) is None


def test_tokens_refill_at_the_rate_up_to_the_burst() -> None:
    limiter = RateLimiter()
    limit = RateLimit(calls=2, period_seconds=10.0, burst=2)
    assert limiter.check("k", "g", limit, 0.0) is None
    assert limiter.check("k", "g", limit, 0.0) is None
    assert limiter.check("k", "g", limit, 0.0) == 5
    assert limiter.check("k", "g", limit, 4.0) == 1  # 0.8 tokens: one more second
    assert limiter.check("k", "g", limit, 5.0) is None
    assert limiter.check("k", "g", limit, 1000.0) is None  # a long pause refills only the burst
    assert limiter.check("k", "g", limit, 1000.0) is None
    assert limiter.check("k", "g", limit, 1000.0) == 5
    assert limiter.check("k", "g", None, 1000.0) is None  # no limit, no bucket


def test_a_clock_that_steps_back_never_adds_tokens() -> None:
    limiter = RateLimiter()
    limit = RateLimit(calls=1, period_seconds=10.0, burst=1)
    assert limiter.check("k", "g", limit, 100.0) is None
    assert limiter.check("k", "g", limit, 50.0) == 10


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("ten/m", "^rate limit 'ten/m' is not of the form '<calls>/<period>' like '10/m'$"),
        ("0/m", "^rate limit '0/m' is not of the form"),
        ("5/0s", "^rate limit '5/0s' has a zero period$"),
    ],
)
def test_bad_rate_limits_say_what_is_wrong(text: str, message: str) -> None:
    with pytest.raises(ValueError, match=message):
        RateLimit.parse(text)


@pytest.mark.parametrize(
    ("text", "shown"), [("10/m", "10/60s"), ("100/10s", "100/10s"), ("2/hours", "2/3600s")]
)
def test_rate_limits_parse_with_a_burst_of_their_calls(text: str, shown: str) -> None:
    limit = RateLimit.parse(text)
    assert limit.burst == limit.calls and str(limit) == shown


def test_a_token_short_only_by_float_rounding_counts() -> None:
    """29 s at 2/m adds up to 0.9666...67 tokens, not 29/30: within EPSILON is a token."""
    limiter = RateLimiter()
    limit = RateLimit(calls=1, period_seconds=1.0, burst=1)
    assert limiter.check("k", "g", limit, 0.0) is None
    assert limiter.check("k", "g", limit, 1.0 - EPSILON) is None
    assert limiter.check("k", "g", limit, 1.0 - EPSILON) == 1
