"""The job lifecycle as a Hypothesis state machine (see ``lifecycle.py``)."""

from __future__ import annotations

from typing import Any

from hypothesis.stateful import run_state_machine_as_test

from seedream_contracts.jobs import Job
from seedream_contracts.lifecycle import MAX_SUBMITS, finish_all, machine_for, max_submit_cost
from seedream_contracts.options import Options
from seedream_contracts.plan import clauses, cost, needs
from seedream_contracts.run import Run
from seedream_contracts.schema_cases import hypothesis_settings
from seedream_contracts.test_examples import LIFECYCLE


def _declared(options: Options) -> Any:
    # every run may submit MAX_SUBMITS jobs, plus one replay of a failing run
    return (options.lifecycle_examples + 1) * MAX_SUBMITS * max_submit_cost()


@needs("api_key")
@cost(_declared)
@clauses(*LIFECYCLE, "KEY-ISOLATION")
def test_job_lifecycle_state_machine(run: Run) -> None:
    settings = hypothesis_settings(run.options.lifecycle_examples)
    settings = type(settings)(settings, stateful_step_count=6)
    jobs: list[Job] = []
    try:
        run_state_machine_as_test(machine_for(run, jobs), settings=settings)
    finally:
        finish_all(run, jobs)
