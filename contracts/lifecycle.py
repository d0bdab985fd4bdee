"""A Hypothesis state machine over the job lifecycle.

Each run submits a few jobs (random operations, image counts, sizes, inputs), interleaves
polls and foreign-key reads, and at teardown follows every job to its terminal status and
its images. Every observation goes through ``jobs.observe``: statuses only move forward, a
terminal status never changes, completed_at and output appear exactly when they should.
"""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from hypothesis import strategies as st
from hypothesis.stateful import Bundle, RuleBasedStateMachine, initialize, precondition, rule

from seedream_contracts.finish import check_isolation, check_media, check_polling_url
from seedream_contracts.jobs import Job, poll, submit, wait_all
from seedream_contracts.media import PRESET_RATIOS
from seedream_contracts.run import Run
from seedream_contracts.safety import TINY_PNG_DATA_URL
from seedream_contracts.spec import SubmitOperation, load_contract

MAX_SUBMITS = 3
PROMPTS = ("a red bicycle", "a lighthouse at dawn", "two cats playing chess", "a bowl of fruit")


def max_submit_cost() -> Decimal:
    return max(op.cost(4 if op.has_num_images else 1) for op in load_contract().submits.values())


def _sizes() -> st.SearchStrategy[Any]:
    custom = st.fixed_dictionaries({"width": st.integers(16, 320), "height": st.integers(16, 320)})
    return st.one_of(st.sampled_from(sorted(PRESET_RATIOS)), custom)


def bodies(op: SubmitOperation, samples: tuple[str, ...]) -> st.SearchStrategy[dict[str, Any]]:
    """Valid, cheap-to-render request bodies for one operation."""
    base: dict[str, st.SearchStrategy[Any]] = {"prompt": st.sampled_from(PROMPTS)}
    optional: dict[str, st.SearchStrategy[Any]] = {"seed": st.integers(-1, 2**31 - 1)}
    if op.has_num_images:
        base["num_images"] = st.integers(1, 4)
        optional["image_size"] = _sizes()
    if op.operation_id == "liteEditSubmit":
        base["image_urls"] = st.lists(st.sampled_from(samples), min_size=1, max_size=2)
    if op.operation_id == "byteplusTextToImageSubmit":
        base["size"] = st.just("2K")
    if op.operation_id == "byteplusEditSubmit":
        base["image"] = st.sampled_from([*samples, TINY_PNG_DATA_URL])
        model = st.sampled_from(
            [("seedream-4-5-251128", "2K"), ("seededit-3-0-i2i-250628", "adaptive")]
        )
        return st.fixed_dictionaries(base, optional=optional).flatmap(
            lambda body: model.map(lambda m: {**body, "model": m[0], "size": m[1]})
        )
    if op.operation_id == "byteplusMultiEditSubmit":
        base["image"] = st.lists(st.sampled_from(samples), min_size=2, max_size=3)
        optional["size"] = st.sampled_from(["adaptive", "2K"])
    return st.fixed_dictionaries(base, optional=optional)


def requests_strategy(samples: tuple[str, ...]) -> st.SearchStrategy[tuple[str, dict[str, Any]]]:
    ops = sorted(load_contract().submits.values(), key=lambda op: op.operation_id)
    return st.one_of(*[st.tuples(st.just(op.operation_id), bodies(op, samples)) for op in ops])


def machine_for(run: Run, everything: list[Job]) -> type[RuleBasedStateMachine]:
    """The machine class; every job it submits is also appended to ``everything``, so the
    caller can follow them all to the end at once (their waits overlap)."""
    requests = requests_strategy(run.session.policy.samples)

    class JobLifecycle(RuleBasedStateMachine):
        jobs = Bundle("jobs")

        def __init__(self) -> None:
            super().__init__()
            self.submitted: list[Job] = []

        def _submit(self, request: tuple[str, dict[str, Any]]) -> Job:
            op = load_contract().submits[request[0]]
            job = submit(run, op, request[1])
            self.submitted.append(job)
            everything.append(job)
            return job

        @initialize(target=jobs, request=requests)
        def first_job(self, request: tuple[str, dict[str, Any]]) -> Job:
            return self._submit(request)

        @precondition(lambda self: len(self.submitted) < MAX_SUBMITS)
        @rule(target=jobs, request=requests)
        def another_job(self, request: tuple[str, dict[str, Any]]) -> Job:
            return self._submit(request)

        @rule(job=jobs)
        def poll_job(self, job: Job) -> None:
            poll(run, job)

        @precondition(lambda self: bool(run.other_key) and run.other_key != run.api_key)
        @rule(job=jobs)
        def other_key_reads(self, job: Job) -> None:
            check_isolation(run, job)

    return JobLifecycle


def finish_all(run: Run, jobs: list[Job]) -> None:
    """Follow every job to its terminal status, then check its polling_url and images."""
    wait_all(run, jobs)
    for job in jobs:
        check_polling_url(run, job)
        check_media(run, job)
