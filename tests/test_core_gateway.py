"""GatewayCore's money and decisions: what is charged, what is refunded, who may call."""

from __future__ import annotations

from decimal import Decimal

import pytest

from mock_gateway.core import (
    AuthFailure,
    CoreSettings,
    GatewayCore,
    InsufficientBalance,
    JobStatus,
    KeySettings,
    RateLimit,
    SubmitResult,
)
from mock_gateway.core.gateway import Account, ModelDisabled
from mock_gateway.core.safety import BYTEPLUS_BLOCKED, LITE_BLOCKED
from mock_gateway.core.settings import Durations, TimingProfile
from mock_gateway.core.wallet import usd_to_micros
from test_core import T0, make_core, spec, submit

BYTEPLUS = {
    "operation_id": "byteplusTextToImageSubmit",
    "slug": "byteplus",
    "model": "seedream-4-0",
}


def account_of(core: GatewayCore, key: str) -> Account:
    account = core.authenticate(key)
    assert isinstance(account, Account), account
    return account


def finish_all(core: GatewayCore) -> None:
    core.advance(T0 + 10_000)


# -- charges and refunds -----------------------------------------------------------------


@pytest.mark.parametrize(
    ("outcome", "charge_failed", "refunded"),
    [
        (JobStatus.COMPLETED, True, False),
        (JobStatus.COMPLETED, False, False),
        (JobStatus.FAILED, True, False),
        (JobStatus.FAILED, False, True),
        (JobStatus.ERROR, True, True),
        (JobStatus.ERROR, False, True),
    ],
)
def test_what_is_refunded(outcome: JobStatus, charge_failed: bool, refunded: bool) -> None:
    """COMPLETED is charged; ERROR always refunded; FAILED refunded only if so configured."""
    core = make_core(charge_failed=charge_failed)
    forced = None if outcome is JobStatus.COMPLETED else (outcome, "boom")
    result = core.submit(account_of(core, "rich"), spec(num_images=2), T0, outcome=forced)
    assert isinstance(result, SubmitResult)
    charged = usd_to_micros(1) - usd_to_micros("0.07")
    assert core.wallet.balance("rich") == charged  # charged up front, whatever comes later
    finish_all(core)
    assert result.job.status is outcome
    assert result.job.refunded is refunded
    assert core.wallet.balance("rich") == (usd_to_micros(1) if refunded else charged)
    finish_all(core)  # advancing again never refunds twice
    assert core.wallet.balance("rich") == (usd_to_micros(1) if refunded else charged)


def test_a_refund_never_goes_to_a_removed_key() -> None:
    core = make_core()
    result = core.submit(account_of(core, "rich"), spec(), T0, outcome=(JobStatus.ERROR, "x"))
    assert isinstance(result, SubmitResult)
    core.accounts.pop("rich")  # the key went away while its job ran
    finish_all(core)
    assert result.job.status is JobStatus.ERROR and not result.job.refunded
    assert core.wallet.balance("rich") == usd_to_micros(1) - usd_to_micros("0.035")


def test_price_per_submit_when_not_per_image() -> None:
    core = make_core(price_per_image=False)
    submit(core, T0, num_images=4)
    assert core.wallet.balance("rich") == usd_to_micros(1) - usd_to_micros("0.035")


def test_an_operation_without_a_price_is_free() -> None:
    core = make_core()  # prices only liteTextToImageSubmit
    job = submit(core, T0, operation_id="liteEditSubmit").job
    assert job.cost_micros == 0
    assert core.wallet.balance("broke") == 0
    assert isinstance(
        core.submit(account_of(core, "broke"), spec(operation_id="x"), T0), SubmitResult
    )


def test_a_refused_submit_names_the_whole_cost_and_queues_nothing() -> None:
    core = make_core()
    result = core.submit(account_of(core, "broke"), spec(num_images=3), T0)
    assert result == InsufficientBalance(usd_to_micros("0.105"))
    assert len(core.queue) == 0 and core.submitted == 0


def test_submitted_counts_accepted_jobs_since_the_last_reset() -> None:
    core = make_core()
    assert core.submitted == 0
    submit(core, T0)
    submit(core, T0)
    core.submit(account_of(core, "broke"), spec(), T0)  # refused: not counted
    assert core.submitted == 2
    core.reset(T0 + 1)
    assert core.submitted == 0 and len(core.queue) == 0
    assert core.wallet.balance("rich") == usd_to_micros(1)


# -- keys ----------------------------------------------------------------------------------


def test_accounts_keep_their_settings() -> None:
    limit = RateLimit.parse("5/m")
    core = make_core(
        keys=(KeySettings("k", Decimal("2.5"), rate_limits={"submit": limit}, note="n"),)
    )
    account = account_of(core, "k")
    assert (account.key, account.forbidden, account.note) == ("k", False, "n")
    assert account.rate_limits == {"submit": limit}
    assert core.wallet.balance("k") == usd_to_micros("2.5")


def test_any_key_accounts_get_the_configured_balance_and_stay() -> None:
    core = make_core(any_key=True, any_key_balance_usd=Decimal("5"))
    first = account_of(core, "fresh")
    submit(core, T0, key="fresh")
    assert account_of(core, "fresh") is first  # the second call finds the same account
    assert core.wallet.balance("fresh") == usd_to_micros(5) - usd_to_micros("0.035")
    assert core.authenticate("banned") is AuthFailure.FORBIDDEN  # known keys keep their state


def test_remove_account_forgets_key_balance_limits_and_jobs() -> None:
    limit = RateLimit.parse("1/m")
    keys = (KeySettings("gone", rate_limits={"submit": limit}), KeySettings("kept"))
    core = make_core(keys=keys, workers=2)
    gone = account_of(core, "gone")
    assert core.check_rate(gone, "submit", T0) is None
    mine = [submit(core, T0, key="gone").job for _ in range(3)]
    kept = submit(core, T0, key="kept").job
    mine.append(submit(core, T0, key="gone").job)
    waiting = submit(core, T0, key="kept").job
    core.advance(T0 + 11)  # two of "gone" finished; the third and one of "kept" run
    assert mine[3].status is waiting.status is JobStatus.QUEUED
    core.remove_account("gone")
    assert core.authenticate("gone") is AuthFailure.INVALID_KEY
    assert core.wallet.balance("gone") == 0
    assert all(core.queue.get(job.request_id) is None for job in mine)
    assert core.find_job("kept", kept.request_id) is kept
    core.put_account(keys[0])
    assert core.check_rate(account_of(core, "gone"), "submit", T0 + 11) is None  # a fresh bucket
    core.advance(T0 + 11)
    assert waiting.started_at == T0 + 11  # the removed job's worker is free at once
    finish_all(core)
    assert kept.status is JobStatus.COMPLETED
    assert mine[2].status is JobStatus.PROCESSING  # a removed job never finishes
    assert mine[3].status is JobStatus.QUEUED  # nor starts
    assert core.take_finished() == [mine[0], mine[1], kept, waiting]
    core.remove_account("never-existed")  # no error


def test_rate_limits_are_per_key_and_key_limits_beat_defaults() -> None:
    default = RateLimit.parse("1/m")
    own = RateLimit.parse("2/m")
    keys = (KeySettings("a"), KeySettings("b"), KeySettings("c", rate_limits={"submit": own}))
    core = make_core(keys=keys, default_rate_limits={"submit": default})
    a, b, c = (account_of(core, key) for key in "abc")
    assert core.check_rate(a, "submit", T0) is None
    assert core.check_rate(b, "submit", T0) is None  # b has its own bucket
    assert core.check_rate(a, "submit", T0) is not None
    assert core.check_rate(c, "submit", T0) is None
    assert core.check_rate(c, "submit", T0) is None
    limited = core.check_rate(c, "submit", T0)
    assert limited is not None and limited.retry_after == 30


# -- submit's decisions -------------------------------------------------------------------


@pytest.mark.parametrize(
    ("disabled", "changes", "named"),
    [
        ("seedream-5-0-lite-text-to-image", {}, "seedream-5-0-lite-text-to-image"),
        ("seedream-4-0", BYTEPLUS, "seedream-4-0"),  # byteplus names its model
        ("byteplus", BYTEPLUS, "seedream-4-0"),
    ],
)
def test_disabled_models_are_refused_without_a_charge(
    disabled: str, changes: dict[str, str], named: str
) -> None:
    core = make_core(disabled_models=frozenset({disabled}))
    result = core.submit(account_of(core, "rich"), spec(**changes), T0)
    assert result == ModelDisabled(named)
    assert core.wallet.balance("rich") == usd_to_micros(1) and core.submitted == 0


def test_a_disabled_lite_model_names_its_slug() -> None:
    core = make_core(disabled_models=frozenset({"seedream-5-0-lite-edit"}))
    lite = spec(operation_id="liteEditSubmit", slug="seedream-5-0-lite-edit", model="m")
    assert core.submit(account_of(core, "rich"), lite, T0) == ModelDisabled(
        "seedream-5-0-lite-edit"
    )
    assert isinstance(core.submit(account_of(core, "rich"), spec(), T0), SubmitResult)


def test_each_operation_gets_its_own_durations() -> None:
    timing = TimingProfile(
        "t", {"default": Durations(1.0, 10.0), "liteEditSubmit": Durations(3.0, 0.2)}
    )
    core = make_core(timing=timing, workers=4)
    edit = submit(core, T0, operation_id="liteEditSubmit").job
    other = submit(core, T0).job
    assert (edit.ready_at, edit.processing_seconds) == (T0 + 3.0, 0.2)
    assert (other.ready_at, other.processing_seconds) == (T0 + 1.0, 10.0)
    core.advance(T0 + 3.2)
    assert edit.status is JobStatus.COMPLETED and edit.completed_at == pytest.approx(T0 + 3.2)


def test_jitter_spreads_processing_times_within_bounds() -> None:
    timing = TimingProfile("t", {"default": Durations(1.0, 10.0, 0.5)})
    core = make_core(timing=timing, keys=(KeySettings("rich", Decimal(100)),))
    times = [submit(core, T0).job.processing_seconds for _ in range(200)]
    assert all(5.0 <= seconds <= 15.0 for seconds in times)
    assert min(times) < 6.0 and max(times) > 14.0  # the whole range is used
    assert 9.0 < sum(times) / len(times) < 11.0  # centred on the profile's duration


def test_processing_time_may_be_shorter_than_a_second() -> None:
    core = make_core(timing=TimingProfile("t", {"default": Durations(0.0, 0.25)}))
    job = submit(core, T0).job
    core.advance(T0 + 0.25)
    assert job.status is JobStatus.COMPLETED


@pytest.mark.parametrize("given", [0, 1, 2**31 - 1])
def test_a_given_seed_is_kept(given: int) -> None:
    assert submit(make_core(), T0, seed=given).job.seed == given


@pytest.mark.parametrize("given", [None, -1])
def test_a_missing_or_negative_seed_is_drawn_from_the_whole_range(given: int | None) -> None:
    core = make_core(keys=(KeySettings("rich", Decimal(100)),))
    seeds = [submit(core, T0, seed=given).job.seed for _ in range(50)]
    assert all(0 <= seed < 2**31 for seed in seeds)
    assert len(set(seeds)) == 50 and max(seeds) > 2**30


def test_byteplus_always_checks_safety_and_says_so_in_its_own_words() -> None:
    core = make_core()
    flagged = submit(core, T0, prompt="gore", safety_checker=False, **BYTEPLUS).job
    lite = submit(core, T0, prompt="gore").job
    finish_all(core)
    assert (flagged.status, flagged.error) == (JobStatus.FAILED, BYTEPLUS_BLOCKED)
    assert (lite.status, lite.error) == (JobStatus.FAILED, LITE_BLOCKED)


def test_a_forced_outcome_beats_the_safety_checker() -> None:
    core = make_core()
    forced = (JobStatus.ERROR, "GPU lost")
    result = core.submit(account_of(core, "rich"), spec(prompt="gore"), T0, outcome=forced)
    assert isinstance(result, SubmitResult)
    finish_all(core)
    assert (result.job.status, result.job.error) == forced


def test_finished_jobs_are_handed_over_once_however_often_time_moved() -> None:
    core = make_core(workers=2)
    first, second = submit(core, T0).job, submit(core, T0).job
    core.advance(T0 + 11)
    core.advance(T0 + 11.5)
    assert core.take_finished() == [first, second]
    assert core.take_finished() == []
    assert core.next_deadline() == first.completed_at + core.settings.retention_seconds  # type: ignore[operator]


def test_core_settings_defaults_are_the_documented_ones() -> None:
    settings = CoreSettings()
    assert (settings.workers, settings.retention_seconds) == (8, 86400.0)
    assert settings.price_per_image and settings.charge_failed and not settings.any_key


def test_other_keys_jobs_still_expire_after_a_key_is_removed() -> None:
    core = make_core(keys=(KeySettings("gone"), KeySettings("kept")), retention_seconds=100.0)
    gone, kept = submit(core, T0, key="gone").job, submit(core, T0, key="kept").job
    core.advance(T0 + 21)  # both finished (one worker: at T0+11 and T0+21)
    core.remove_account("gone")
    assert core.queue.get(gone.request_id) is None
    core.advance(T0 + 120)
    assert core.find_job("kept", kept.request_id) is kept
    core.advance(T0 + 121)
    assert core.find_job("kept", kept.request_id) is None
    assert len(core.queue) == 0
