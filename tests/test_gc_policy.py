"""The GC policy's decisions: when it freezes, after how many calls, and after a reset.

The freeze itself is CPython's ``gc.freeze``; most tests put a recorder in its place and
check our decisions. One checks that the real action does freeze, and one drives the
pipeline and the journal through a 9 polls : 1 submit load to show what the collector is
left to walk (the cause of the long pauses: ``mock_gateway/web/gc_policy.py``)."""

from __future__ import annotations

import gc
import json
import logging
from collections.abc import Iterator

import httpx
import pytest

from gateway_helpers import T0
from mock_gateway.config.settings import Settings
from mock_gateway.pipeline import Outcome, StatusCall, SubmitCall, status, submit
from mock_gateway.steering.bounded import ByteBoundedLog
from mock_gateway.steering.clock import VirtualClock
from mock_gateway.testing.server_thread import ServerThread
from mock_gateway.web.app import build_state, create_app
from mock_gateway.web.gc_policy import DEFAULT_EVERY_CALLS, GcPolicy, freeze_survivors


class Recorder:
    def __init__(self) -> None:
        self.calls = 0

    def __call__(self) -> None:
        self.calls += 1


def decisions(policy: GcPolicy, counts: list[int]) -> list[int]:
    """The call counts at which the policy froze."""
    return [count for count in counts if policy.after_calls(count)]


def test_freezes_exactly_when_every_calls_more_calls_were_made() -> None:
    recorder = Recorder()
    policy = GcPolicy(every_calls=10, freeze=recorder)
    assert decisions(policy, list(range(0, 31))) == [10, 20, 30]
    assert recorder.calls == policy.freezes == 3


def test_the_next_freeze_counts_from_the_last_one_not_from_multiples() -> None:
    policy = GcPolicy(every_calls=10, freeze=Recorder())
    # The ticker sees the count only now and then: jumps of several calls at once.
    assert decisions(policy, [3, 9, 13, 20, 22, 23, 40]) == [13, 23, 40]


def test_a_reset_journal_starts_counting_again() -> None:
    policy = GcPolicy(every_calls=10, freeze=Recorder())
    assert decisions(policy, [10, 15]) == [10]
    assert decisions(policy, [4, 9, 10]) == [10]  # the count went down: it was reset


@pytest.mark.parametrize("every_calls", [0, -1])
def test_zero_or_less_turns_the_policy_off(every_calls: int) -> None:
    recorder = Recorder()
    policy = GcPolicy(every_calls=every_calls, freeze=recorder)
    assert decisions(policy, [1, 10, 10**6]) == [] and recorder.calls == 0


def test_the_default_policy_freezes_every_1000_calls() -> None:
    assert GcPolicy().every_calls == DEFAULT_EVERY_CALLS == 1_000
    policy = GcPolicy(freeze=Recorder())
    assert decisions(policy, [999, 1_000, 1_999, 2_000]) == [1_000, 2_000]


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


def collectable() -> int:
    """GC-tracked objects a full collection would walk now (frozen ones are not)."""
    return sum(len(gc.get_objects(generation)) for generation in range(3))


@pytest.mark.usefixtures("unfrozen")
def test_under_steady_load_the_collector_is_left_a_few_thousand_objects() -> None:
    """The journal at capacity (and the hygiene tables) replace old entries with new ones:
    creations and frees balance, CPython's young-collection count stays low while young
    objects pile up, and the entries' nested tuples stay tracked in the old generation.
    Without the policy a full collection walks every journal entry (with the default
    10,000 entries, over 40,000 objects: 20-40 ms); with it, only what ~1,000 calls left."""
    logging.getLogger("mock_gateway.steering.hygiene").disabled = True
    key = "load-key"
    limits = {"submit": "1000000000/s", "status": "1000000000/s"}
    settings = Settings.load(
        seed=1,
        timing="fast",
        workers=1_000_000,
        keys=[{"key": key, "balance_usd": "100000", "rate_limits": limits}],
        control={"journal_size": 5_000},
    )
    state = build_state(settings, clock=VirtualClock(start=T0, rate=0.0))
    world, policy = state.world, GcPolicy()
    operation = world.schemas.operation("liteTextToImageSubmit")
    body = json.dumps({"prompt": "a red bicycle"}).encode()
    first = submit(world, SubmitCall(key, operation, body, None, "http://h"), T0)
    assert isinstance(first, Outcome) and first.queued is not None
    poll = StatusCall(key, first.queued.request_id, "http://h")
    gc.collect()
    gc.freeze()  # what the server's start-up does: only what the load leaves is counted
    walked = []
    try:
        for number in range(8_000):
            now = T0 + number / 1000
            if number % 10:
                outcome = status(world, poll, now)
            else:
                decided = submit(world, SubmitCall(key, operation, body, None, "http://h"), now)
                assert isinstance(decided, Outcome)
                outcome = decided
            state.journal.record(now, "GET", "/x", key, outcome.answer.status, outcome.note)
            if number % 50 == 0:  # the ticker looks now and then
                policy.after_calls(state.journal.recorded)
                walked.append(collectable())
    finally:
        logging.getLogger("mock_gateway.steering.hygiene").disabled = False
    assert policy.freezes >= 7
    assert max(walked[20:]) < 8_000, max(walked)  # 22,000 with the policy off


def test_the_journals_log_adds_no_object_of_its_own_per_entry() -> None:
    # every object kept per call is one more for each young collection and freeze to walk
    log: ByteBoundedLog[tuple[str, int]] = ByteBoundedLog(1_000, 10**9)
    entries = [("x", index) for index in range(1_000)]
    gc.collect()
    before = len(gc.get_objects())
    for entry in entries:
        log.append(entry, 1)
    assert len(gc.get_objects()) - before < 10
    assert list(log) == entries


@pytest.mark.parametrize("owns_process", [False, True])
def test_only_a_mock_that_owns_its_process_freezes_the_gc(owns_process: bool) -> None:
    """The pytest plugin runs the mock inside the user's test process: freezing there would
    keep their cyclic garbage forever, so only ``mock-gateway serve`` tunes the GC."""
    gc.unfreeze()
    try:
        app = create_app(Settings.load(), owns_process=owns_process)
        with ServerThread(app) as server:
            httpx.get(f"{server.base_url}/_health", timeout=10).raise_for_status()
            frozen = gc.get_freeze_count()
        assert (frozen > 0) is owns_process
    finally:
        gc.unfreeze()
