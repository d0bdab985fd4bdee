"""The queue simulation, the job state machine and its status body, and request ids."""

from __future__ import annotations

import random
import uuid

import pytest

from mock_gateway.core import Job, JobStatus, format_timestamp
from mock_gateway.core.ids import new_request_id, uuid7
from mock_gateway.core.jobs import IllegalTransition
from mock_gateway.core.queue import JobQueue
from test_core import T0, make_core, spec, submit


def job(name: str, ready_at: float = T0, processing: float = 10.0, **changes: object) -> Job:
    return Job(
        request_id=name,
        owner="k",
        spec=spec(**changes),
        seed=1,
        cost_micros=0,
        created_at=T0,
        ready_at=ready_at,
        processing_seconds=processing,
    )


# -- the queue -----------------------------------------------------------------------------


def test_a_queue_needs_a_worker() -> None:
    with pytest.raises(ValueError, match=r"^at least one worker is needed$"):
        JobQueue(0, 60.0)
    assert JobQueue(1, 60.0).workers == 1


def test_counts_and_next_deadline_follow_the_simulation() -> None:
    queue = JobQueue(1, 100.0)
    assert queue.next_deadline() is None  # nothing will ever happen on its own
    first, second = job("a", T0 + 1), job("b", T0 + 1)
    queue.add(first)
    queue.add(second)
    assert (len(queue), queue.queued, queue.processing) == (2, 2, 0)
    assert queue.next_deadline() == T0 + 1  # the first start
    queue.advance(T0 + 1)
    assert (queue.queued, queue.processing) == (1, 1)
    assert queue.next_deadline() == T0 + 11  # the finish; the second waits for the worker
    queue.advance(T0 + 11)
    assert first.status is JobStatus.COMPLETED and second.started_at == T0 + 11
    assert queue.next_deadline() == T0 + 21
    queue.advance(T0 + 21)
    assert queue.next_deadline() == T0 + 111  # the first job's expiry
    queue.advance(T0 + 111)
    assert queue.get("a") is None and queue.get("b") is second
    assert queue.next_deadline() == T0 + 121
    queue.advance(T0 + 121)
    assert queue.next_deadline() is None and len(queue) == 0


def test_jobs_finishing_at_the_same_moment_are_reported_in_start_order() -> None:
    queue = JobQueue(3, 100.0)
    jobs = [job(name, T0, 10.0) for name in "abc"]
    for each in jobs:
        queue.add(each)
    assert queue.advance(T0 + 10) == jobs


def test_a_job_never_starts_before_it_is_ready_even_on_an_idle_worker() -> None:
    queue = JobQueue(2, 100.0)
    late = job("late", ready_at=T0 + 5)
    queue.add(late)
    queue.advance(T0 + 4.999)
    assert late.status is JobStatus.QUEUED
    queue.advance(T0 + 100)
    assert (late.started_at, late.completed_at) == (T0 + 5, T0 + 15)


def test_a_job_is_kept_exactly_for_the_retention_time() -> None:
    queue = JobQueue(1, 50.0)
    queue.add(job("a", T0, 0.0))
    queue.advance(T0)
    queue.advance(T0 + 49.999)
    assert queue.get("a") is not None
    queue.advance(T0 + 50)
    assert queue.get("a") is None


# -- jobs ----------------------------------------------------------------------------------


def test_illegal_moves_raise_and_name_the_job() -> None:
    fresh = job("req-1")
    with pytest.raises(IllegalTransition, match=r"^req-1: QUEUED -> COMPLETED$"):
        fresh.move_to(JobStatus.COMPLETED, T0)
    assert fresh.status is JobStatus.QUEUED and fresh.updated_at == T0


@pytest.mark.parametrize("outcome", [JobStatus.FAILED, JobStatus.ERROR])
def test_a_failure_without_its_own_text_says_what_the_documentation_shows(
    outcome: JobStatus,
) -> None:
    failing = job("f")
    failing.outcome = outcome
    failing.move_to(JobStatus.PROCESSING, T0 + 1)
    failing.move_to(outcome, T0 + 2)
    assert failing.error == "Description of the error"  # the documented example's text
    assert (failing.started_at, failing.completed_at, failing.updated_at) == (
        T0 + 1,
        T0 + 2,
        T0 + 2,
    )


@pytest.mark.parametrize(("media_type", "ext"), [("image/png", "png"), ("image/jpeg", "jpg")])
def test_output_names_follow_the_media_type(media_type: str, ext: str) -> None:
    three = job("j", media_type=media_type, num_images=3)
    assert three.media_filenames() == [f"output-{n}.{ext}" for n in (1, 2, 3)]


def test_status_body_has_exactly_the_documented_fields() -> None:
    core = make_core()
    queued = submit(core, T0).job
    assert queued.status_body("http://h/media") == {
        "request_id": queued.request_id,
        "status": "QUEUED",
        "model_id": "seedream-5-0-lite-text-to-image",
        "error": None,
        "output": None,
        "created_at": format_timestamp(T0),
        "updated_at": format_timestamp(T0),
        "completed_at": None,
    }
    core.advance(T0 + 1.5)
    body = queued.status_body("http://h/media")
    assert (body["status"], body["updated_at"]) == ("PROCESSING", format_timestamp(T0 + 1))
    assert body["completed_at"] is None and body["created_at"] == format_timestamp(T0)


# -- ids -----------------------------------------------------------------------------------


class AllOnes(random.Random):
    """Every random bit set: the fixed bits of the UUID must survive it."""

    def getrandbits(self, k: int) -> int:
        return (1 << k) - 1


class AllZeros(random.Random):
    def getrandbits(self, k: int) -> int:
        return 0


@pytest.mark.parametrize("rng", [AllOnes(), AllZeros(), random.Random(3)])
def test_request_ids_are_rfc_9562_uuid7s_of_the_mock_clock(rng: random.Random) -> None:
    value = uuid7(T0, rng)
    assert value.version == 7 and value.variant == uuid.RFC_4122
    assert value.int >> 80 == int(T0 * 1000)  # the top 48 bits: Unix milliseconds


def test_the_random_bits_fill_exactly_their_fields() -> None:
    millis = int(T0 * 1000)
    ones = uuid7(T0, AllOnes())
    assert ones.int == (millis << 80) | (0x7 << 76) | (0xFFF << 64) | (0b10 << 62) | (2**62 - 1)
    assert uuid7(T0, AllZeros()).int == (millis << 80) | (0x7 << 76) | (0b10 << 62)


def test_the_timestamp_keeps_its_low_48_bits() -> None:
    odd = 2**48 + 12345  # milliseconds past what 48 bits hold wrap around
    assert uuid7(odd / 1000, AllZeros()).int >> 80 == 12345


def test_ids_carry_the_slug_and_sort_by_time() -> None:
    rng = random.Random(1)
    earlier, later = new_request_id("byteplus", T0, rng), new_request_id("byteplus", T0 + 1, rng)
    assert earlier.startswith("byteplus_") and str(uuid.UUID(earlier[9:])) == earlier[9:]
    assert earlier < later


# -- what snapshots read and restore (mock_gateway.persistence.codec) ----------------------


def history(queue: JobQueue, moments: list[float]) -> list[object]:
    """Everything observable of a queue as it is advanced through ``moments``."""
    seen: list[object] = []
    for moment in moments:
        finished = queue.advance(moment)
        seen.append([(j.request_id, j.status, j.started_at, j.completed_at) for j in finished])
        seen.append((len(queue), queue.queued, queue.processing, queue.next_deadline()))
        seen.append(queue.has_owner("k"))  # false once the last job of "k" has expired
        seen.append(sorted(queue.take_gone()))
    return seen


def test_a_restored_queue_goes_on_exactly_as_the_original() -> None:
    import copy

    original = JobQueue(2, 30.0)
    for name, ready, processing in [
        ("a", T0, 10.0), ("b", T0, 10.0), ("c", T0 + 1, 5.0), ("d", T0 + 1, 5.0),
        ("e", T0 + 2, 1.0), ("f", T0 + 50, 2.0),
    ]:  # fmt: skip
        original.add(job(name, ready, processing))
    original.advance(T0 + 12)  # a, b done at once (start order); c, d running; e, f waiting
    assert original.sim_time == T0 + 12
    jobs = [copy.copy(held) for held in original]
    restored = JobQueue.restored(2, 30.0, jobs, original.sim_time)
    assert restored.sim_time == original.sim_time  # a snapshot of the restored queue says it too
    assert [j.request_id for j in restored.newest_first()] == list("fedcba")
    assert (restored.queued, restored.processing) == (original.queued, original.processing)
    assert restored.has_owner("k") and not restored.has_owner("nobody")
    moments = [T0 + 15, T0 + 16, T0 + 41, T0 + 45, T0 + 52, T0 + 200]
    assert history(restored, moments) == history(original, moments)
    assert JobQueue(1, 1.0).sim_time == float("-inf")


def test_rate_limit_buckets_round_trip() -> None:
    from mock_gateway.core.ratelimit import RateLimiter
    from mock_gateway.core.settings import RateLimit

    limit = RateLimit.parse("2/m")
    first = RateLimiter()
    assert [first.check("k", "submit", limit, T0 + s) for s in (0, 1, 2)] == [None, None, 28]
    first.check("k", "status", limit, T0 + 3)
    buckets = first.buckets()
    assert [(k, g) for k, g, _, _ in buckets] == [("k", "submit"), ("k", "status")]
    second = RateLimiter()
    second.load(buckets)
    assert second.buckets() == buckets
    for moment in (T0 + 20, T0 + 31, T0 + 32, T0 + 95):
        assert second.check("k", "submit", limit, moment) == first.check(
            "k", "submit", limit, moment
        )


def test_idle_accounts_list_the_longest_idle_first() -> None:
    from mock_gateway.core.idle_accounts import IdleAccounts

    idle = IdleAccounts(60.0)
    for key, moment in [("a", T0), ("b", T0 + 1), ("c", T0 + 2), ("a", T0 + 3)]:
        idle.touch(key, moment)
    assert idle.last_calls() == [("b", T0 + 1), ("c", T0 + 2), ("a", T0 + 3)]


def test_an_id_source_hands_over_its_generator() -> None:
    from mock_gateway.core.ids import IdSource

    assert IdSource(None).seeded_random is None
    seeded, other = IdSource(5), IdSource(None)
    generator = seeded.seeded_random
    assert generator is not None
    other.use_random(random.Random())
    other.use_random(generator)
    assert other.seeded_random is generator
    twin = IdSource(5)
    assert [other.getrandbits(62) for _ in range(3)] == [twin.getrandbits(62) for _ in range(3)]
    other.use_random(None)
    assert other.seeded_random is None and 0 <= other.getrandbits(8) < 256
