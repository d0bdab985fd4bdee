"""The gateway core without HTTP: queue timing, wallet, refunds, auth, rate limits."""

from __future__ import annotations

from dataclasses import replace
from decimal import Decimal

import pytest

from mock_gateway.core import (
    AuthFailure,
    CoreSettings,
    GatewayCore,
    InsufficientBalance,
    Job,
    JobSpec,
    JobStatus,
    KeySettings,
    RateLimit,
    SubmitResult,
    format_timestamp,
)
from mock_gateway.core.jobs import IllegalTransition
from mock_gateway.core.settings import TIMING_PROFILES, Durations, TimingProfile
from mock_gateway.core.wallet import format_usd, usd_to_micros

T0 = 1_776_426_066.171  # 2026-04-17T11:41:06.171Z, the documentation's example


def spec(**changes: object) -> JobSpec:
    base = JobSpec(
        operation_id="liteTextToImageSubmit",
        slug="seedream-5-0-lite-text-to-image",
        model="seedream-5-0-lite-text-to-image",
        media_type="image/png",
        prompt="a lion",
        num_images=1,
        width=1024,
        height=1024,
        seed=42,
    )
    return replace(base, **changes)  # type: ignore[arg-type]


def make_core(**changes: object) -> GatewayCore:
    settings = CoreSettings(
        timing=TimingProfile("t", {"default": Durations(1.0, 10.0, 0.0)}),
        workers=1,
        prices_usd={"liteTextToImageSubmit": Decimal("0.035")},
        keys=(
            KeySettings("rich", Decimal("1")),
            KeySettings("broke", Decimal("0")),
            KeySettings("banned", Decimal("1"), forbidden=True),
        ),
        safety_blocklist=("gore",),
        seed=7,
    )
    return GatewayCore(replace(settings, **changes), T0)  # type: ignore[arg-type]


def submit(core: GatewayCore, now: float, key: str = "rich", **changes: object) -> SubmitResult:
    account = core.authenticate(key)
    assert not isinstance(account, AuthFailure)
    result = core.submit(account, spec(**changes), now)
    assert isinstance(result, SubmitResult), result
    return result


def status_of(job: Job) -> JobStatus:
    """Read the status afresh (mypy would otherwise narrow it across ``advance`` calls)."""
    return job.status


def test_timestamp_format_matches_documentation() -> None:
    assert format_timestamp(T0) == "2026-04-17T11:41:06.171Z"
    assert format_timestamp(1_776_426_117.0) == "2026-04-17T11:41:57.000Z"


def test_job_walks_the_documented_flow() -> None:
    core = make_core()
    job = submit(core, T0).job
    assert job.request_id.startswith("seedream-5-0-lite-text-to-image_019d")
    assert status_of(job) is JobStatus.QUEUED
    core.advance(T0 + 0.999)
    assert status_of(job) is JobStatus.QUEUED
    core.advance(T0 + 1.0)
    assert status_of(job) is JobStatus.PROCESSING and job.started_at == T0 + 1.0
    core.advance(T0 + 10.999)
    assert status_of(job) is JobStatus.PROCESSING
    finished = core.advance(T0 + 11.0)
    assert finished == [job] and status_of(job) is JobStatus.COMPLETED
    body = job.status_body("http://h/media")
    assert body["completed_at"] == body["updated_at"] == format_timestamp(T0 + 11)
    assert body["output"] == {
        "media_url": [f"http://h/media/{job.request_id}/output-1.png"],
        "media_type": "image/png",
    }
    assert body["error"] is None


def test_terminal_status_never_changes() -> None:
    job = submit(core := make_core(), T0).job
    core.advance(T0 + 100)
    with pytest.raises(IllegalTransition):
        job.move_to(JobStatus.PROCESSING, T0 + 101)


def test_jobs_really_wait_when_every_worker_is_busy() -> None:
    core = make_core(workers=2)
    jobs = [submit(core, T0).job for _ in range(3)]
    core.advance(T0 + 5)
    assert [job.status for job in jobs] == [
        JobStatus.PROCESSING,
        JobStatus.PROCESSING,
        JobStatus.QUEUED,
    ]
    core.advance(T0 + 11)  # the first two finish at T0+11 and free both workers
    assert status_of(jobs[2]) is JobStatus.PROCESSING and jobs[2].started_at == T0 + 11
    core.advance(T0 + 21)
    assert status_of(jobs[2]) is JobStatus.COMPLETED and jobs[2].completed_at == T0 + 21


def test_history_does_not_depend_on_how_often_time_is_read() -> None:
    once, often = make_core(), make_core()
    a = [submit(once, T0 + i).job for i in range(3)]
    b = [submit(often, T0 + i).job for i in range(3)]
    once.advance(T0 + 60)
    for step in range(600):
        often.advance(T0 + step / 10)
    assert [(j.started_at, j.completed_at) for j in a] == [
        (j.started_at, j.completed_at) for j in b
    ]


def test_charges_price_per_image_and_402_leaves_balance() -> None:
    core = make_core()
    submit(core, T0, num_images=4)
    assert core.wallet.balance("rich") == usd_to_micros("0.86")
    account = core.authenticate("broke")
    assert not isinstance(account, AuthFailure)
    result = core.submit(account, spec(), T0)
    assert result == InsufficientBalance(usd_to_micros("0.035"))
    assert core.wallet.balance("broke") == 0


def test_balance_never_goes_negative() -> None:
    core = make_core(keys=(KeySettings("rich", Decimal("0.1")),))
    account = core.authenticate("rich")
    assert not isinstance(account, AuthFailure)
    results = [core.submit(account, spec(), T0) for _ in range(5)]
    assert sum(isinstance(r, SubmitResult) for r in results) == 2
    assert core.wallet.balance("rich") == usd_to_micros("0.03")


def test_error_is_refunded_failed_is_charged() -> None:
    core = make_core()
    account = core.authenticate("rich")
    assert not isinstance(account, AuthFailure)
    err = core.submit(account, spec(), T0, outcome=(JobStatus.ERROR, "GPU lost"))
    assert isinstance(err, SubmitResult)
    blocked = submit(core, T0, prompt="some gore here").job
    core.advance(T0 + 100)
    assert err.job.status is JobStatus.ERROR and err.job.error == "GPU lost"
    assert blocked.status is JobStatus.FAILED and "safety checker" in (blocked.error or "")
    assert blocked.status_body("x")["output"] is None
    assert core.wallet.balance("rich") == usd_to_micros(1) - usd_to_micros("0.035")


def test_safety_checker_off_completes_flagged_prompt() -> None:
    core = make_core()
    job = submit(core, T0, prompt="gore", safety_checker=False).job
    core.advance(T0 + 100)
    assert job.status is JobStatus.COMPLETED


def test_auth_failures() -> None:
    core = make_core()
    assert core.authenticate(None) is AuthFailure.MISSING_KEY
    assert core.authenticate("") is AuthFailure.MISSING_KEY
    assert core.authenticate("nope") is AuthFailure.INVALID_KEY
    assert core.authenticate("banned") is AuthFailure.FORBIDDEN
    any_core = make_core(any_key=True)
    account = any_core.authenticate("whatever")
    assert not isinstance(account, AuthFailure)
    assert any_core.wallet.balance("whatever") == usd_to_micros(100)


def test_jobs_are_visible_to_their_owner_only() -> None:
    core = make_core(keys=(KeySettings("a"), KeySettings("b")))
    job = submit(core, T0, key="a").job
    assert core.find_job("a", job.request_id) is job
    assert core.find_job("b", job.request_id) is None


def test_finished_jobs_expire_after_retention() -> None:
    core = make_core(retention_seconds=100.0)
    job = submit(core, T0).job
    core.advance(T0 + 11)
    core.advance(T0 + 110)
    assert core.find_job("rich", job.request_id) is job
    core.advance(T0 + 111)
    assert core.find_job("rich", job.request_id) is None
    assert len(core.queue) == 0


def test_rate_limit_retry_after_is_exact() -> None:
    limit = RateLimit.parse("2/m")
    core = make_core(keys=(KeySettings("k", rate_limits={"submit": limit}),))
    account = core.authenticate("k")
    assert not isinstance(account, AuthFailure)
    assert core.check_rate(account, "submit", T0) is None
    assert core.check_rate(account, "submit", T0) is None
    limited = core.check_rate(account, "submit", T0)
    assert limited is not None and limited.retry_after == 30
    assert core.check_rate(account, "submit", T0 + 29) is not None
    assert core.check_rate(account, "submit", T0 + 30) is None
    assert core.check_rate(account, "status", T0) is None  # other group, no limit


@pytest.mark.parametrize(
    ("text", "calls", "period"),
    [("10/m", 10, 60), ("100/10s", 100, 10), ("5/second", 5, 1), ("3 / h", 3, 3600)],
)
def test_rate_limit_parsing(text: str, calls: int, period: float) -> None:
    limit = RateLimit.parse(text)
    assert (limit.calls, limit.period_seconds) == (calls, period)


@pytest.mark.parametrize("text", ["", "0/m", "ten/m", "5/fortnight", "5/0s"])
def test_rate_limit_parsing_rejects(text: str) -> None:
    with pytest.raises(ValueError):
        RateLimit.parse(text)


@pytest.mark.parametrize(
    ("micros", "text"),
    [(35_000, "$0.035"), (200_000, "$0.2"), (1_000_000, "$1"), (40_000, "$0.04")],
)
def test_402_amounts_have_no_trailing_zeros(micros: int, text: str) -> None:
    assert format_usd(micros) == text


def test_seeded_core_gives_identical_ids() -> None:
    a, b = make_core(), make_core()
    assert submit(a, T0).job.request_id == submit(b, T0).job.request_id


def test_realistic_profile_matches_documented_durations() -> None:
    profile = TIMING_PROFILES["realistic"]
    t2i = profile.for_operation("liteTextToImageSubmit")
    edit = profile.for_operation("liteEditSubmit")
    assert 45 <= t2i.queue_seconds + t2i.processing_seconds <= 57
    assert 60 <= edit.queue_seconds + edit.processing_seconds <= 75
