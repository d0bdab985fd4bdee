"""The core's bookkeeping per key: ``--any-key`` accounts forgotten once idle, keys removed
with their jobs, refunds waived, rate-limit buckets read and refilled, jobs held per key,
the ids handed on when jobs go, and where randomness comes from."""

from __future__ import annotations

import uuid
from decimal import Decimal

from mock_gateway.core import AuthFailure, GatewayCore, JobStatus, KeySettings, RateLimit
from mock_gateway.core.idle_accounts import MAX_ANY_KEY_LENGTH, IdleAccounts
from mock_gateway.core.ids import IdSource, new_request_id
from mock_gateway.core.queue import JobQueue
from mock_gateway.core.ratelimit import RateLimiter
from test_core import T0, make_core, spec, submit
from test_core_queue import job


class Keys:
    """What idle expiry asks of the core, recorded."""

    def __init__(self, busy: tuple[str, ...] = ()) -> None:
        self.busy = set(busy)
        self.removed: list[str] = []

    def has_jobs(self, key: str) -> bool:
        return key in self.busy

    def remove_account(self, key: str) -> None:
        self.removed.append(key)


# -- idle accounts ---------------------------------------------------------------------------


def test_an_account_is_forgotten_exactly_when_it_has_been_idle_long_enough() -> None:
    idle, keys = IdleAccounts(60), Keys()
    idle.touch("a", T0)
    assert idle.expire(keys, T0 + 59.999) == [] and len(idle) == 1
    assert idle.expire(keys, T0 + 60) == ["a"] and keys.removed == ["a"] and len(idle) == 0


def test_expiry_takes_every_idle_account_oldest_first_and_stops_at_a_recent_one() -> None:
    idle, keys = IdleAccounts(60), Keys()
    for key, at in (("a", T0), ("b", T0 + 10), ("c", T0 + 100)):
        idle.touch(key, at)
    assert idle.expire(keys, T0 + 70) == ["a", "b"]
    assert keys.removed == ["a", "b"] and len(idle) == 1


def test_a_call_makes_an_account_recent_again() -> None:
    idle, keys = IdleAccounts(60), Keys()
    idle.touch("a", T0)
    idle.touch("b", T0 + 1)
    idle.touch("a", T0 + 30)  # "a" is now the most recent
    assert idle.expire(keys, T0 + 61) == ["b"]
    assert idle.expire(keys, T0 + 90) == ["a"]


def test_an_account_with_jobs_is_looked_at_again_one_idle_period_later() -> None:
    idle, keys = IdleAccounts(60), Keys(busy=("a",))
    idle.touch("a", T0)
    idle.touch("b", T0 + 1)
    assert idle.expire(keys, T0 + 70) == ["b"]  # "a" kept: its jobs are still held
    keys.busy.clear()
    assert idle.expire(keys, T0 + 129) == []  # seen busy at T0+70: idle from then on
    assert idle.expire(keys, T0 + 130) == ["a"] and keys.removed == ["b", "a"]


def test_a_forgotten_account_is_not_expired_later() -> None:
    idle, keys = IdleAccounts(60), Keys()
    idle.touch("a", T0)
    idle.touch("b", T0)
    idle.forget("a")
    assert idle.expire(keys, T0 + 60) == ["b"] and len(idle) == 0


def test_the_core_forgets_an_idle_any_key_account_with_its_balance() -> None:
    core = make_core(any_key=True, any_key_idle_seconds=60.0, any_key_balance_usd=Decimal("2"))
    account = core.authenticate("made-up")
    assert not isinstance(account, AuthFailure) and account.auto
    core.idle_accounts.touch("made-up", T0)
    submit(core, T0, key="made-up")  # charged; its job keeps the account while held
    core.advance(T0 + 61)
    assert core.account("made-up") is not None
    core.advance(T0 + 25 * 3600)  # the job expired (retention 24 h); then idle again
    core.advance(T0 + 26 * 3600)
    assert core.account("made-up") is None and len(core.idle_accounts) == 0
    assert core.balance_micros("made-up") == 0  # its wallet went too
    again = core.authenticate("made-up")  # a new account, with a new balance
    assert not isinstance(again, AuthFailure) and core.balance_micros("made-up") == 2_000_000


def test_configured_keys_are_not_made_by_any_key_and_keys_have_a_length_limit() -> None:
    core = make_core(any_key=True)
    rich = core.authenticate("rich")
    assert not isinstance(rich, AuthFailure) and not rich.auto
    longest = core.authenticate("k" * MAX_ANY_KEY_LENGTH)
    assert not isinstance(longest, AuthFailure) and longest.auto
    assert core.authenticate("k" * (MAX_ANY_KEY_LENGTH + 1)) is AuthFailure.INVALID_KEY


def test_removing_a_key_drops_its_jobs_its_idle_entry_and_hands_on_their_ids() -> None:
    core = make_core(any_key=True)
    account = core.authenticate("made-up")
    assert not isinstance(account, AuthFailure)
    core.idle_accounts.touch("made-up", T0)
    kept = submit(core, T0, key="rich").job
    gone = submit(core, T0, key="made-up").job
    core.queue.take_gone()
    assert core.has_jobs("made-up")
    core.remove_account("made-up")
    assert not core.has_jobs("made-up") and core.queue.get(gone.request_id) is None
    assert len(core.idle_accounts) == 0 and core.account("made-up") is None
    assert core.queue.take_gone() == [gone.request_id] and core.queue.take_gone() == []
    assert core.queue.get(kept.request_id) is kept
    assert [a.key for a in core.all_accounts()] == ["rich", "broke", "banned"]


# -- refunds and rate limits -----------------------------------------------------------------


def test_waived_refunds_skip_that_keys_unfinished_jobs_only() -> None:
    core = make_core(keys=(KeySettings("rich", Decimal("1")), KeySettings("other", Decimal("1"))))
    error = (JobStatus.ERROR, "backend failed")
    rich, other = core.authenticate("rich"), core.authenticate("other")
    assert not isinstance(rich, AuthFailure) and not isinstance(other, AuthFailure)
    core.submit(rich, spec(), T0, outcome=error)
    core.advance(T0 + 11)  # ended in ERROR and refunded before the waiver
    assert core.balance_micros("rich") == 1_000_000
    core.submit(rich, spec(), T0 + 12, outcome=error)
    core.submit(other, spec(), T0 + 12, outcome=error)
    core.waive_refunds("rich")  # a test just set this key's balance: it stays as set
    core.advance(T0 + 60)
    assert core.balance_micros("rich") == 1_000_000 - 35_000
    assert core.balance_micros("other") == 1_000_000  # another key still refunds


def test_refilled_limits_give_that_key_a_full_bucket_again() -> None:
    limit = RateLimit(calls=2, period_seconds=60, burst=2)
    core = make_core(default_rate_limits={"submit": limit})
    rich, broke = core.authenticate("rich"), core.authenticate("broke")
    assert not isinstance(rich, AuthFailure) and not isinstance(broke, AuthFailure)
    for account in (rich, rich, broke, broke):
        assert core.check_rate(account, "submit", T0) is None
    core.refill_limits("rich")
    assert core.check_rate(rich, "submit", T0) is None
    assert core.check_rate(broke, "submit", T0) is not None


def test_a_bucket_is_read_without_using_a_token() -> None:
    limit = RateLimit(calls=2, period_seconds=60, burst=2)  # a token every 30 s
    limiter = RateLimiter()
    assert limiter.tokens("k", "submit", limit, T0) == 2.0  # never used: full
    limiter.check("k", "submit", limit, T0)
    limiter.check("k", "submit", limit, T0)
    assert limiter.tokens("k", "submit", limit, T0) == 0.0
    assert limiter.tokens("k", "submit", limit, T0 + 15) == 0.5
    assert limiter.tokens("k", "submit", limit, T0 + 15) == 0.5  # reading used nothing
    assert limiter.tokens("k", "submit", limit, T0 + 600) == 2.0  # never above the burst
    assert limiter.tokens("k", "submit", limit, T0 - 5) == 0.0  # a clock behind: no refill
    assert limiter.tokens("k", "status", limit, T0) == 2.0  # groups are separate buckets
    assert limiter.tokens("other", "submit", limit, T0) == 2.0


# -- the queue's per-key bookkeeping ---------------------------------------------------------


def test_a_key_has_jobs_until_its_last_one_expires() -> None:
    queue = JobQueue(2, 100.0)
    first, second = job("a", processing=1.0), job("b", processing=5.0)
    assert not queue.has_owner("k")
    queue.add(first)
    queue.add(second)
    assert queue.has_owner("k")
    queue.advance(T0 + 102)  # "a" finished at T0+1 and expired at T0+101
    assert queue.get("a") is None and queue.has_owner("k")
    assert queue.take_gone() == ["a"] and queue.take_gone() == []
    queue.advance(T0 + 106)
    assert not queue.has_owner("k") and queue.take_gone() == ["b"]
    third = job("c")
    queue.add(third)
    assert queue.has_owner("k")


def test_jobs_are_listed_in_submit_order_and_newest_first() -> None:
    queue = JobQueue(1, 100.0)
    jobs = [job(name) for name in "abc"]
    for each in jobs:
        queue.add(each)
    assert list(queue) == jobs and list(queue.newest_first()) == jobs[::-1]


def test_the_ids_of_gone_jobs_are_kept_for_at_most_ten_thousand() -> None:
    queue = JobQueue(1, 100.0)
    for number in range(10_001):
        queue.add(job(f"j{number}"))
    queue.remove_owner("k")
    gone = queue.take_gone()
    assert len(gone) == 10_000 and gone[0] == "j1" and gone[-1] == "j10000"
    assert not queue.has_owner("k") and len(queue) == 0
    queue.remove_owner("k")  # nothing left: a no-op
    assert queue.take_gone() == []


# -- randomness ----------------------------------------------------------------------------


def test_a_seeded_core_repeats_its_durations_and_seeds_and_an_unseeded_one_does_not() -> None:
    def draws(core: GatewayCore) -> list[tuple[int, float]]:
        jobs = [submit(core, T0, seed=None).job for _ in range(3)]
        return [(j.seed, j.processing_seconds) for j in jobs]

    assert draws(make_core(seed=7)) == draws(make_core(seed=7))
    assert draws(make_core(seed=7)) != draws(make_core(seed=8))
    assert draws(make_core(seed=None)) != draws(make_core(seed=None))


def test_unseeded_request_ids_are_unpredictable_and_seeded_ones_repeat() -> None:
    assert IdSource(None).getrandbits(64) != IdSource(None).getrandbits(64)
    assert IdSource(3).getrandbits(64) == IdSource(3).getrandbits(64)


def test_a_seeded_run_keeps_the_request_ids_it_has_always_had() -> None:
    """``--seed 7`` promises the same ids run to run, and release to release: recordings,
    fixtures and snapshots made with a seed name these ids (a change of how the random bits
    are drawn would silently break every one of them)."""
    core = make_core(seed=7)
    ids = [submit(core, T0, seed=None).job.request_id for _ in range(3)]
    assert [request_id.removeprefix("seedream-5-0-lite-text-to-image_") for request_id in ids] == [
        "019d9b3e-a0fb-79d8-ac18-e5602b1e2a1f",
        "019d9b3e-a0fb-7579-826e-0f905e685cb8",
        "019d9b3e-a0fb-7f20-96b9-db89c2eee8c9",
    ]


def test_unseeded_request_ids_are_uuid7s_with_every_random_bit_in_use() -> None:
    """Cryptographic ids keep the UUIDv7 layout (RFC 9562): the mock clock's milliseconds,
    version 7, the RFC variant, and 74 random bits, each of which is seen both set and clear
    (the odds of one bit staying the same in 200 ids are 2 in 2**200)."""
    ids = [
        uuid.UUID(new_request_id("s", T0, IdSource(None)).removeprefix("s_")) for _ in range(200)
    ]
    assert {(u.version, u.variant) for u in ids} == {(7, uuid.RFC_4122)}
    assert {u.int >> 80 for u in ids} == {int(T0 * 1000)}
    rand_a = [(u.int >> 64) & 0xFFF for u in ids]
    rand_b = [u.int & ((1 << 62) - 1) for u in ids]
    for values, width in ((rand_a, 12), (rand_b, 62)):
        for bit in range(width):
            assert {(value >> bit) & 1 for value in values} == {0, 1}, (width, bit)
