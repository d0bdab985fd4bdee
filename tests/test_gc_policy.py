"""The GC policy freezes survivors so full collections stay cheap with many finished jobs."""

from __future__ import annotations

import gc
from collections.abc import Iterator
from decimal import Decimal

import pytest

from mock_gateway.core import AuthFailure, CoreSettings, GatewayCore, JobSpec, KeySettings
from mock_gateway.web.gc_policy import GcPolicy


@pytest.fixture(autouse=True)
def unfrozen() -> Iterator[None]:
    yield
    gc.unfreeze()


def test_freezes_every_n_jobs_and_restarts_after_reset() -> None:
    policy = GcPolicy(every_jobs=10)
    assert [policy.after_jobs(n) for n in (3, 9, 10, 15, 20)] == [False, False, True, False, True]
    assert policy.after_jobs(4) is False  # reset to a lower count
    assert policy.after_jobs(10) is True
    assert GcPolicy(every_jobs=0).after_jobs(10**6) is False


def test_frozen_jobs_leave_the_collectors_view_and_are_still_freed() -> None:
    core = GatewayCore(
        CoreSettings(workers=10_000, keys=(KeySettings("k", Decimal(10**6)),), prices_usd={}),
        0.0,
    )
    account = core.authenticate("k")
    assert not isinstance(account, AuthFailure)
    policy = GcPolicy(every_jobs=1_000)
    for index in range(2_000):
        spec = JobSpec("op", "slug", "m", "image/png", f"p{index}", 1, 8, 8, 1)
        core.submit(account, spec, 0.0)
        policy.after_jobs(core.submitted)
    assert policy.freezes == 2
    tracked_young = len(gc.get_objects())
    assert gc.get_freeze_count() > 2_000  # the jobs and their specs left the collector's view
    assert tracked_young < gc.get_freeze_count()
    core.remove_account("k")  # jobs go away by reference counting, frozen or not
    assert len(core.queue) == 0


def test_frozen_survivors_are_not_walked_by_a_full_collection() -> None:
    gc.collect()
    before = len(gc.get_objects())
    survivors = [[index] for index in range(50_000)]  # stand-ins for long-lived job objects
    assert len(gc.get_objects()) >= before + 50_000
    GcPolicy(every_jobs=1).after_jobs(1)
    assert len(gc.get_objects()) < before + 1_000  # what a full collection would walk
    assert len(survivors) == 50_000
