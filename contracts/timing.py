"""Job timing: observed QUEUED / PROCESSING / created-to-completed durations per operation,
and the range the documentation implies.

The documented examples took about 51 s (5.0 Lite text to image) and 68 s (5.0 Lite edit)
from created to completed; the byteplus example shows created == completed
(docs/gateway-facts.md#b11).
A single example is not a distribution, so the accepted range is generous: half to twice
the example for 5.0 Lite, and at most 30 s for byteplus.
"""

from __future__ import annotations

import statistics
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

DOCUMENTED_SECONDS = {
    "liteTextToImageSubmit": 50.829,  # 11:41:06.171Z -> 11:41:57.000Z
    "liteEditSubmit": 67.497,  # 11:41:07.503Z -> 11:42:15.000Z
    "byteplusEditSubmit": 0.0,
    "byteplusTextToImageSubmit": 0.0,
    "byteplusMultiEditSubmit": 0.0,
}
BYTEPLUS_MAX_SECONDS = 30.0


def documented_range(operation_id: str) -> tuple[float, float]:
    seconds = DOCUMENTED_SECONDS.get(operation_id, 0.0)
    if seconds <= 0:
        return 0.0, BYTEPLUS_MAX_SECONDS
    return seconds / 2, seconds * 2


def seconds_range(low: float, high: float) -> str:
    """``33.7485, 134.994`` -> ``33.7-135 s``: a range as a reader wants to see it."""

    def short(value: float) -> str:
        return f"{round(value, 1):g}"

    return f"{short(low)}-{short(high)} s"


def parse_timestamp(text: object) -> float | None:
    """Seconds since the epoch of an ISO 8601 timestamp, or None when absent/unparseable."""
    if not isinstance(text, str):
        return None
    try:
        return datetime.fromisoformat(text.replace("Z", "+00:00")).timestamp()
    except ValueError:
        return None


def stats(values: list[float]) -> dict[str, Any]:
    if not values:
        return {"count": 0}
    ordered = sorted(values)
    return {
        "count": len(ordered),
        "min": round(ordered[0], 3),
        "median": round(statistics.median(ordered), 3),
        "p90": round(ordered[min(len(ordered) - 1, int(len(ordered) * 0.9))], 3),
        "max": round(ordered[-1], 3),
    }


@dataclass
class JobTiming:
    operation_id: str
    total: float  # created_at -> completed_at
    queued: float | None  # created_at -> start of PROCESSING (when a poll saw PROCESSING)
    processing: float | None  # start of PROCESSING -> completed_at
    observed: float  # submit sent -> terminal status seen (includes polling granularity)


@dataclass
class Timings:
    jobs: list[JobTiming] = field(default_factory=list)

    def add(self, timing: JobTiming) -> None:
        self.jobs.append(timing)

    def by_operation(self) -> dict[str, list[JobTiming]]:
        grouped: dict[str, list[JobTiming]] = {}
        for job in self.jobs:
            grouped.setdefault(job.operation_id, []).append(job)
        return grouped

    def summary(self) -> dict[str, Any]:
        """Per operation: distributions of each duration, and the documented range."""
        result: dict[str, Any] = {}
        for operation_id, jobs in sorted(self.by_operation().items()):
            low, high = documented_range(operation_id)
            result[operation_id] = {
                "created_to_completed_s": stats([j.total for j in jobs]),
                "queued_s": stats([j.queued for j in jobs if j.queued is not None]),
                "processing_s": stats([j.processing for j in jobs if j.processing is not None]),
                "observed_s": stats([j.observed for j in jobs]),
                "documented_range_s": [low, high],
            }
        return result

    def outside_range(self) -> list[str]:
        problems = []
        for job in self.jobs:
            low, high = documented_range(job.operation_id)
            if not low <= job.total <= high:
                problems.append(
                    f"{job.operation_id}: {job.total:.1f} s created-to-completed, "
                    f"documented range {seconds_range(low, high)}"
                )
        return problems
