"""The shortcuts that keep a served submit cheap, held to what they replace.

Request ids draw their random bits from an ``os.urandom`` pool (one system call per 409
ids, each byte handed out once, none shared with a forked child); the queue skips its
event loop while nothing is due; the strict JSON parse reads a body once unless it holds
a non-finite number; a text-to-image submit resolves no inputs.
"""

from __future__ import annotations

import json
import os
import random
from typing import Any

import pytest

from gateway_helpers import CAT, EDIT, T0, T2I
from mock_gateway.core import Job, JobStatus, ids
from mock_gateway.core.ids import POOL_BYTES, IdSource, new_request_id, uuid7
from mock_gateway.core.queue import JobQueue
from mock_gateway.pipeline import Outcome
from mock_gateway.pipeline import submit as submit_pipeline
from mock_gateway.pipeline.outcome import STILL
from mock_gateway.validation.body import parse_json
from mock_gateway.validation.rejection import Rejection
from pipeline_helpers import arm, submit_call, world
from test_core import make_core, status_of, submit
from test_core_queue import job

PATTERN = bytes(range(256)) * 64  # what a fake os.urandom hands out, from its start


def fake_urandom(monkeypatch: pytest.MonkeyPatch) -> list[int]:
    calls: list[int] = []

    def urandom(size: int) -> bytes:
        calls.append(size)
        return (PATTERN * (size // len(PATTERN) + 1))[:size]

    monkeypatch.setattr(os, "urandom", urandom)
    return calls


def test_a_pool_hands_out_each_byte_once_in_order(monkeypatch: pytest.MonkeyPatch) -> None:
    calls = fake_urandom(monkeypatch)
    source = IdSource(None)
    drawn = bytes(source.getrandbits(8) for _ in range(POOL_BYTES))
    assert drawn == PATTERN[:POOL_BYTES] and calls == [POOL_BYTES]  # exactly one pool
    assert source.getrandbits(16) == 0x0001  # the next pool starts afresh
    assert calls == [POOL_BYTES, POOL_BYTES]


def test_bits_are_the_top_bits_of_whole_bytes(monkeypatch: pytest.MonkeyPatch) -> None:
    fake_urandom(monkeypatch)
    source = IdSource(None)
    assert source.getrandbits(12) == 0x000  # bytes 00 01: their top 12 bits
    assert source.getrandbits(4) == 0x0  # byte 02's top 4 bits
    assert source.getrandbits(74) == int.from_bytes(PATTERN[3:13]) >> 6
    assert source.getrandbits(0) == 0


def test_a_draw_larger_than_a_pool_gets_all_its_bytes(monkeypatch: pytest.MonkeyPatch) -> None:
    calls = fake_urandom(monkeypatch)
    size = POOL_BYTES + 904
    assert IdSource(None).getrandbits(8 * size) == int.from_bytes(PATTERN[:size])
    assert calls == [size]


def test_a_cryptographic_id_is_74_pooled_bits(monkeypatch: pytest.MonkeyPatch) -> None:
    fake_urandom(monkeypatch)
    value = uuid7(1.5, IdSource(None)).int
    bits = int.from_bytes(PATTERN[:10]) >> 6
    assert (value >> 64) & 0xFFF == bits >> 62 and value & ((1 << 62) - 1) == bits & (2**62 - 1)
    assert value >> 80 == 1500 and (value >> 76) & 0xF == 7 and (value >> 62) & 0b11 == 0b10


def test_a_seeded_source_does_not_touch_the_os(monkeypatch: pytest.MonkeyPatch) -> None:
    calls = fake_urandom(monkeypatch)
    made = new_request_id("s", 1.0, IdSource(3))
    drawn = random.Random("request-ids/3")
    assert made == f"s_{uuid7(1.0, drawn)}" and calls == []


def test_after_a_fork_every_source_fetches_afresh(monkeypatch: pytest.MonkeyPatch) -> None:
    calls = fake_urandom(monkeypatch)
    source = IdSource(None)
    assert source.getrandbits(8) == 0 and calls == [POOL_BYTES]
    ids._forget_pools()  # what a forked child runs first
    assert source.getrandbits(8) == 0 and calls == [POOL_BYTES, POOL_BYTES]  # not byte 1
    assert source.getrandbits(8) == 1


@pytest.mark.skipif(not hasattr(os, "fork"), reason="needs fork")
def test_a_forked_child_never_repeats_its_parents_ids() -> None:
    source = IdSource(None)
    source.getrandbits(74)  # the parent holds a pool with bytes left
    reader, writer = os.pipe()
    child = os.fork()
    if child == 0:  # pragma: no cover (the child)
        try:
            os.write(writer, source.getrandbits(74).to_bytes(10))
        finally:
            os._exit(0)
    os.close(writer)
    _, exit_status = os.waitpid(child, 0)
    written = os.read(reader, 10)
    os.close(reader)
    assert exit_status == 0 and len(written) == 10  # (a child that failed wrote nothing)
    assert int.from_bytes(written) != source.getrandbits(74)  # it fetched its own bytes


# -- the queue: nothing due, nothing done ----------------------------------------------------


def queued_job(name: str, ready_at: float, processing: float = 10.0, owner: str = "k") -> Job:
    made = job(name, ready_at, processing)
    made.owner = owner
    return made


def test_a_start_due_exactly_now_happens_now() -> None:
    queue = JobQueue(1, 100.0)
    queue.add(queued_job("a", T0 + 1))
    assert queue.advance(T0 + 0.5) == [] and queue.queued == 1
    assert queue.advance(T0 + 1) == [] and queue.processing == 1  # due at T0 + 1: started
    assert queue.sim_time == T0 + 1


def test_a_finish_due_exactly_now_happens_now() -> None:
    queue = JobQueue(1, 100.0)
    first = queued_job("a", T0)
    queue.add(first)
    queue.advance(T0)
    assert queue.advance(T0 + 9.999) == [] and first.status is JobStatus.PROCESSING
    assert queue.advance(T0 + 10) == [first] and first.completed_at == T0 + 10


def test_a_job_added_after_an_idle_advance_still_starts() -> None:
    queue = JobQueue(2, 100.0)
    queue.advance(T0)  # nothing held: nothing will ever be due
    queue.add(queued_job("a", T0 + 5))
    queue.advance(T0 + 5)
    assert queue.processing == 1
    queue.add(queued_job("b", T0 + 6))  # sooner than the first one's finish at T0 + 15
    queue.advance(T0 + 6)
    assert queue.processing == 2


def test_a_job_added_while_the_workers_are_busy_waits_for_one() -> None:
    queue = JobQueue(1, 100.0)
    first, second = queued_job("a", T0), queued_job("b", T0 + 1)
    queue.add(first)
    queue.advance(T0)
    queue.add(second)
    queue.advance(T0 + 5)
    assert second.status is JobStatus.QUEUED
    assert queue.advance(T0 + 10) == [first] and second.started_at == T0 + 10


def test_removing_an_owner_frees_its_workers_at_once() -> None:
    queue = JobQueue(1, 100.0)
    theirs, mine = queued_job("a", T0, owner="x"), queued_job("b", T0, owner="y")
    queue.add(theirs)
    queue.add(mine)
    queue.advance(T0)
    assert theirs.status is JobStatus.PROCESSING and mine.status is JobStatus.QUEUED
    queue.remove_owner("x")
    queue.advance(T0 + 1)
    # the freed worker took it as of the simulation's moment, not when the removed job
    # would have ended (T0 + 10)
    assert status_of(mine) is JobStatus.PROCESSING and mine.started_at == T0


def test_a_restored_queue_goes_on_at_its_first_advance() -> None:
    running, waiting = queued_job("a", T0), queued_job("b", T0 + 2)
    running.move_to(JobStatus.PROCESSING, T0)
    done = queued_job("c", T0)
    done.move_to(JobStatus.PROCESSING, T0)
    done.move_to(JobStatus.COMPLETED, T0 + 1)
    queue = JobQueue.restored(2, 100.0, [done, running, waiting], T0 + 1)
    assert queue.advance(T0 + 2) == [] and waiting.started_at == T0 + 2
    assert queue.advance(T0 + 10) == [running]
    assert queue.next_deadline() == T0 + 12  # the waiting job's finish
    queue.advance(T0 + 101)
    assert queue.get("c") is None and queue.get("a") is running  # expired in the order ended


def test_expiry_follows_the_order_jobs_ended_in() -> None:
    queue = JobQueue(3, 50.0)
    slow, fast = queued_job("slow", T0, 20.0), queued_job("fast", T0, 5.0)
    queue.add(slow)
    queue.add(fast)
    queue.advance(T0)
    assert queue.advance(T0 + 30) == [fast, slow]
    queue.advance(T0 + 55)
    assert queue.get("fast") is None and queue.get("slow") is slow
    queue.advance(T0 + 70)
    assert len(queue) == 0 and queue.take_gone() == ["fast", "slow"]


def test_a_core_advance_with_nothing_finished_gives_an_empty_list() -> None:
    core = make_core()
    submit(core, T0)
    assert core.advance(T0 + 0.5) == [] and core.take_finished() == []
    assert [job.status for job in core.advance(T0 + 11)] == [JobStatus.COMPLETED]


# -- the world: what advancing caused --------------------------------------------------------


@pytest.mark.parametrize("count", [1, 2, 63, 64, 65])
def test_an_advance_counts_every_finished_job(count: int) -> None:
    w, call = world(workers=1000), submit_call()
    for _ in range(count):
        outcome = submit_pipeline(w, call, T0)
        assert isinstance(outcome, Outcome) and outcome.answer.status == 202
    advanced = w.advance(T0 + 3600)
    assert advanced.finished == count and advanced.webhooks == ()
    assert w.advance(T0 + 3601) is STILL


def test_finished_jobs_with_webhooks_are_counted_with_them() -> None:
    w = world(workers=1000)
    submit_pipeline(w, submit_call(), T0)
    submit_pipeline(w, submit_call(hook="http://127.0.0.1:9/hook"), T0)
    advanced = w.advance(T0 + 3600)
    assert advanced.finished == 2 and [due.url for due in advanced.webhooks] == [
        "http://127.0.0.1:9/hook"
    ]


@pytest.mark.parametrize(
    ("path", "body"),
    [
        (T2I, {"prompt": "a fox"}),
        (EDIT, {"prompt": "a fox", "image_urls": [CAT]}),  # a documented sample: no fetch
    ],
)
def test_an_outcome_rule_decides_text_to_image_and_edit_jobs_alike(path: str, body: Any) -> None:
    w = world(timing="manual")
    arm(w, outcome="FAILED", error="injected: no luck")
    outcome = submit_pipeline(w, submit_call(body, path=path), T0)
    assert isinstance(outcome, Outcome) and outcome.queued is not None
    w.advance(T0 + 60)
    assert (outcome.queued.status, outcome.queued.error) == ("FAILED", "injected: no luck")
    assert outcome.queued.spec.input_images == (() if path == T2I else (w.samples.lookup(CAT),))


# -- the strict JSON parse: read once ----------------------------------------------------------


@pytest.mark.parametrize(
    ("raw", "says"),
    [
        (b'{"seed": 1e999}', "seed: must be a finite number (got 1e999;"),
        (b'{"a": [1, {"b": -Infinity}]}', "a[1].b: must be a finite number (got -Infinity;"),
        (b"NaN", "body: must be a finite number (got NaN;"),
    ],
)
def test_a_non_finite_number_is_named_as_written(raw: bytes, says: str) -> None:
    parsed = parse_json(raw)
    assert isinstance(parsed, Rejection) and parsed.message.startswith(says)


@pytest.mark.parametrize(
    ("raw", "encoding"),
    [
        ('{"a": 1}'.encode("utf-16-le"), "utf-16-le"),
        ('{"a": 1}'.encode("utf-16-be"), "utf-16-be"),
        ('{"a": 1}'.encode("utf-32"), "utf-32"),
        (b"{\x00\x00\x00", "utf-32-le"),
    ],
)
def test_a_body_opening_with_a_brace_is_still_checked_for_utf_16(raw: bytes, encoding: str) -> None:
    parsed = parse_json(raw)
    assert isinstance(parsed, Rejection) and f"this looks like {encoding}" in parsed.message


def test_a_body_is_parsed_once(monkeypatch: pytest.MonkeyPatch) -> None:
    calls: list[str] = []
    real = json.loads

    def counted(text: str, **options: object) -> object:
        calls.append(text)
        return real(text, **options)  # type: ignore[arg-type]

    monkeypatch.setattr(json, "loads", counted)
    assert parse_json(b'{"prompt": "a fox", "seed": 4.0}') == {"prompt": "a fox", "seed": 4.0}
    assert len(calls) == 1
    assert isinstance(parse_json(b'{"seed": NaN}'), Rejection) and len(calls) == 3
