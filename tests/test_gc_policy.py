"""The GC policy's decisions: when it freezes, after how many jobs, and after a reset.

The freeze itself is CPython's ``gc.freeze``; these tests put a recorder in its place and
check our decisions, plus one check that the real action does freeze."""

from __future__ import annotations

import gc
from collections.abc import Iterator

import pytest

from mock_gateway.web.gc_policy import DEFAULT_EVERY_JOBS, GcPolicy, freeze_survivors


class Recorder:
    def __init__(self) -> None:
        self.calls = 0

    def __call__(self) -> None:
        self.calls += 1


def decisions(policy: GcPolicy, counts: list[int]) -> list[int]:
    """The job counts at which the policy froze."""
    return [count for count in counts if policy.after_jobs(count)]


def test_freezes_exactly_when_every_jobs_more_jobs_were_accepted() -> None:
    recorder = Recorder()
    policy = GcPolicy(every_jobs=10, freeze=recorder)
    assert decisions(policy, list(range(0, 31))) == [10, 20, 30]
    assert recorder.calls == policy.freezes == 3


def test_the_next_freeze_counts_from_the_last_one_not_from_multiples() -> None:
    policy = GcPolicy(every_jobs=10, freeze=Recorder())
    # The ticker sees the count only now and then: jumps of several jobs at once.
    assert decisions(policy, [3, 9, 13, 20, 22, 23, 40]) == [13, 23, 40]


def test_a_reset_core_starts_counting_again() -> None:
    policy = GcPolicy(every_jobs=10, freeze=Recorder())
    assert decisions(policy, [10, 15]) == [10]
    assert decisions(policy, [4, 9, 10]) == [10]  # the count went down: the core was reset


@pytest.mark.parametrize("every_jobs", [0, -1])
def test_zero_or_less_turns_the_policy_off(every_jobs: int) -> None:
    recorder = Recorder()
    policy = GcPolicy(every_jobs=every_jobs, freeze=recorder)
    assert decisions(policy, [1, 10, 10**6]) == [] and recorder.calls == 0


def test_the_default_policy_freezes_every_5000_jobs() -> None:
    assert GcPolicy().every_jobs == DEFAULT_EVERY_JOBS == 5_000
    policy = GcPolicy(freeze=Recorder())
    assert decisions(policy, [4_999, 5_000, 9_999, 10_000]) == [5_000, 10_000]


@pytest.fixture
def unfrozen() -> Iterator[None]:
    yield
    gc.unfreeze()


@pytest.mark.usefixtures("unfrozen")
def test_the_real_action_moves_survivors_out_of_the_collectors_view() -> None:
    survivors = [[index] for index in range(1_000)]
    before = gc.get_freeze_count()
    freeze_survivors()
    assert gc.get_freeze_count() >= before + len(survivors)
