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
from mock_gateway.web.app import TICK_CEILING, _tick, build_state, create_app
from mock_gateway.web.gc_policy import (
    DEFAULT_EVERY_CALLS,
    SOONEST_LOOK,
    GcPolicy,
    freeze_survivors,
)


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


def test_the_default_policy_freezes_every_250_calls() -> None:
    assert GcPolicy().every_calls == DEFAULT_EVERY_CALLS == 250
    policy = GcPolicy(freeze=Recorder())
    assert decisions(policy, [249, 250, 499, 500]) == [250, 500]


class FakeClock:
    """Real seconds as a test sets them (the policy measures the call rate with it)."""

    def __init__(self) -> None:
        self.now = 0.0

    def __call__(self) -> float:
        return self.now


def looks(policy: GcPolicy, clock: FakeClock, seen: list[tuple[float, int]]) -> list[float]:
    """``next_look`` after each look at ``(real time, call count)``."""
    waits = []
    for moment, calls in seen:
        clock.now = moment
        policy.after_calls(calls)
        waits.append(round(policy.next_look(0.25), 6))
    return waits


def test_the_next_look_comes_when_every_calls_more_calls_are_due_at_the_recent_rate() -> None:
    clock = FakeClock()
    policy = GcPolicy(every_calls=1_000, freeze=Recorder(), monotonic=clock)
    # 10,000 calls a second: 100 calls in, 900 are due in 0.09 s; after the freeze at
    # 1,000 (the third look), 1,000 more in 0.1 s; then the rate halves
    seen = [(0.0, 0), (0.01, 100), (0.1, 1_000), (0.12, 1_100)]
    assert looks(policy, clock, seen) == [0.25, 0.09, 0.1, 0.18]
    assert policy.freezes == 1


def test_the_next_look_is_never_sooner_than_soonest_look_nor_later_than_the_longest() -> None:
    clock = FakeClock()
    policy = GcPolicy(every_calls=1_000, freeze=Recorder(), monotonic=clock)
    # a million calls a second, then ten a second, then none
    seen = [(0.0, 0), (0.0005, 500), (0.5005, 505), (1.0, 505)]
    assert looks(policy, clock, seen) == [0.25, SOONEST_LOOK, 0.25, 0.25]


def test_an_idle_or_switched_off_policy_asks_for_the_longest_wait() -> None:
    clock = FakeClock()
    assert GcPolicy(monotonic=clock).next_look(0.25) == 0.25  # no rate known yet
    off = GcPolicy(every_calls=0, freeze=Recorder(), monotonic=clock)
    assert looks(off, clock, [(0.0, 0), (0.01, 5_000)]) == [0.25, 0.25]


def test_a_reset_count_forgets_the_rate() -> None:
    clock = FakeClock()
    policy = GcPolicy(every_calls=1_000, freeze=Recorder(), monotonic=clock)
    assert looks(policy, clock, [(0.0, 0), (0.01, 100)]) == [0.25, 0.09]
    assert looks(policy, clock, [(0.02, 10)]) == [0.25]  # the journal was reset
    # 100 calls in 0.01 s again; 110 made since the reset, so 890 are due in 0.089 s
    assert looks(policy, clock, [(0.03, 110)]) == [0.089]


class StopTicker(Exception):
    pass


@pytest.mark.anyio
async def test_under_load_the_ticker_looks_again_when_the_policy_asks() -> None:
    """Without this the ticker looked every 0.25 s when nothing else was due: at 30,000
    polls a second a freeze came every 7,000-9,000 calls, and its young collection paused
    the mock 3-17 ms (what set the status p99 with many jobs held)."""
    state = build_state(Settings.load(), clock=VirtualClock(start=T0, rate=0.0))
    clock = FakeClock()
    policy = GcPolicy(every_calls=1_000, freeze=Recorder(), monotonic=clock)
    waits: list[float] = []

    async def sleep(seconds: float) -> None:
        waits.append(round(seconds, 6))
        if len(waits) == 2:
            raise StopTicker
        for _ in range(100):  # 100 calls in 0.01 s of real time: 10,000 a second
            state.journal.record(T0, "GET", "/x", "k", 200)
        clock.now += 0.01

    state.waker.sleep = sleep  # type: ignore[method-assign]
    with pytest.raises(StopTicker):
        await _tick(state, policy)
    assert waits == [TICK_CEILING, 0.09]


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
    10,000 entries, over 40,000 objects: 20-40 ms); with it, only what ~250 calls left."""
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
