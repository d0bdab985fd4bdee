"""TIMING-RANGE, after every other check: the durations observed during the run, held to
the documented range only against the live gateway or the mock's realistic profile."""

from __future__ import annotations

import pytest

from seedream_contracts.plan import clauses, last
from seedream_contracts.report import timing_checked
from seedream_contracts.run import Run


@last
@clauses("TIMING-RANGE")
def test_durations_fall_in_documented_range(run: Run) -> None:
    if not run.timings.jobs:
        pytest.skip("no job finished during the run (nothing to time)")
    if not timing_checked(run):
        pytest.skip(
            f"timing recorded ({len(run.timings.jobs)} jobs, see the report) but only checked "
            "against the live gateway or the realistic profile (or with --check-timing yes)"
        )
    with run.book.verify() as v:
        problems = run.timings.outside_range()
        v.expect(
            "TIMING-RANGE",
            not problems,
            "; ".join(problems[:5]),
            evidence={"timing": run.timings.summary()},
        )
