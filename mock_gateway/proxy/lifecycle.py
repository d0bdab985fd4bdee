"""What the proxy knows per request id, and the rules that need it: statuses only move
forward, timestamps are ordered, the outputs have the operation's media type and there are
as many as the submit asked for.

Jobs are remembered in submit order up to a cap (the oldest are forgotten first), so a
long session keeps a bounded amount of state.
"""

from __future__ import annotations

from collections import OrderedDict
from dataclasses import dataclass
from typing import Any

from mock_gateway.core.jobs import TERMINAL_STATUSES
from mock_gateway.proxy.findings import Finding
from mock_gateway.validation.contract import Operation
from seedream_contracts.timing import JobTiming, Timings, parse_timestamp

_RANK = {"QUEUED": 0, "PROCESSING": 1}  # every terminal status ranks 2


def _rank(status: str) -> int:
    return _RANK.get(status, 2)


@dataclass
class TrackedJob:
    operation: Operation | None  # None: submitted elsewhere, first seen on a status read
    num_images: int | None = None  # what the submit asked for, when the proxy saw it
    submitted_at: float | None = None  # proxy monotonic time of the 202
    status: str | None = None
    created_at: float | None = None
    updated_at: float | None = None
    timed: bool = False


class JobTracker:
    def __init__(self, operations: list[Operation], capacity: int) -> None:
        self.capacity = capacity
        self.jobs: OrderedDict[str, TrackedJob] = OrderedDict()
        self.timings = Timings()  # created-to-completed per operation, for the recording
        self._by_slug: dict[str, list[Operation]] = {}
        for operation in operations:
            self._by_slug.setdefault(operation.slug, []).append(operation)

    def submitted(self, request_id: str, operation: Operation, num_images: int, now: float) -> None:
        self._remember(request_id, TrackedJob(operation, num_images, now))

    def _remember(self, request_id: str, job: TrackedJob) -> TrackedJob:
        self.jobs[request_id] = job
        while len(self.jobs) > self.capacity:
            self.jobs.popitem(last=False)
        return job

    def observe(self, request_id: str, body: dict[str, Any], now: float) -> list[Finding]:
        """Check a 200 status body against what was seen of this id before."""
        job = self.jobs.get(request_id)
        if job is None:
            same_slug = self._by_slug.get(request_id.split("_", 1)[0], [])
            job = self._remember(
                request_id, TrackedJob(same_slug[0] if len(same_slug) == 1 else None)
            )
        findings = self._forward(job, body) + self._timestamps(job, body)
        if body.get("status") == "COMPLETED":
            findings += self._media(job, request_id, body)
        self._time(job, body, now)
        return findings

    def _forward(self, job: TrackedJob, body: dict[str, Any]) -> list[Finding]:
        status = body.get("status")
        if not isinstance(status, str):
            return []  # the body-schema rule has reported it
        previous, job.status = job.status, status
        if previous is None or previous == status:
            return []
        if previous in TERMINAL_STATUSES or _rank(status) < _rank(previous):
            return [Finding("status-forward", f"status went from {previous} to {status}")]
        return []

    def _timestamps(self, job: TrackedJob, body: dict[str, Any]) -> list[Finding]:
        created = parse_timestamp(body.get("created_at"))
        updated = parse_timestamp(body.get("updated_at"))
        completed = parse_timestamp(body.get("completed_at"))
        problems: list[str] = []
        if created is not None and updated is not None and updated < created:
            problems.append("updated_at is before created_at")
        if created is not None and completed is not None and completed < created:
            problems.append("completed_at is before created_at")
        if created is not None and job.created_at is not None and created != job.created_at:
            problems.append("created_at changed between reads")
        if updated is not None and job.updated_at is not None and updated < job.updated_at:
            problems.append("updated_at went back between reads")
        job.created_at = created if created is not None else job.created_at
        job.updated_at = updated if updated is not None else job.updated_at
        if not problems:
            return []
        shown = ", ".join(
            f"{name}={body.get(name)}" for name in ("created_at", "updated_at", "completed_at")
        )
        return [Finding("timestamps", f"{'; '.join(problems)} ({shown})")]

    def _media(self, job: TrackedJob, request_id: str, body: dict[str, Any]) -> list[Finding]:
        output = body.get("output")
        if not isinstance(output, dict):
            return []  # the body-schema rule has reported it
        findings: list[Finding] = []
        media_type = output.get("media_type")
        slug = request_id.split("_", 1)[0]
        expected = (
            {job.operation.media_type}
            if job.operation is not None
            else {op.media_type for op in self._by_slug.get(slug, [])}
        )
        if expected and media_type not in expected:
            findings.append(
                Finding("media-type", f"media_type {media_type!r}; documented {sorted(expected)}")
            )
        urls = output.get("media_url")
        if job.num_images is not None and isinstance(urls, list) and len(urls) != job.num_images:
            findings.append(
                Finding(
                    "media-count",
                    f"{len(urls)} media URL(s) for a submit of num_images={job.num_images}",
                )
            )
        return findings

    def _time(self, job: TrackedJob, body: dict[str, Any], now: float) -> None:
        """The first terminal read of a job adds its created-to-completed time."""
        completed = parse_timestamp(body.get("completed_at"))
        if job.timed or body.get("status") not in TERMINAL_STATUSES or job.operation is None:
            return
        if job.created_at is None or completed is None:
            return
        job.timed = True
        observed = now - job.submitted_at if job.submitted_at is not None else 0.0
        total = completed - job.created_at
        self.timings.add(JobTiming(job.operation.operation_id, total, None, None, observed))
