"""The world a gateway call reads and changes, and the one place where time moves it.

``World.advance(now)`` is the only caller of the core's queue simulation outside the core
itself: the pipeline calls it first in every operation, and the HTTP layer's ticker, media
route and control API call it through ``MockState.advance``. It returns what advancing
caused (finished jobs, webhooks due) instead of acting on it.

Serialize once: a job's status body is encoded to bytes once per state change
(``StatusBodies``). Every poll of a job in the same state, from the same host, gets the
same bytes object; so does its webhook, which must carry exactly what a poll shows. The
media URLs in the body are built from the host the client used, so an entry is valid for
one (state, base URL) pair; a poll from another host re-encodes and replaces it. The cache
is bounded (oldest first out), so a million finished jobs cost no more memory than a
thousand.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, field

from mock_gateway.core import GatewayCore, Job, JobStatus
from mock_gateway.imaging import SampleImages
from mock_gateway.pipeline.answers import encode_json
from mock_gateway.pipeline.outcome import STILL, Advance, WebhookDue
from mock_gateway.steering.faults import FaultBook
from mock_gateway.steering.hygiene import Bounded, Hygiene
from mock_gateway.validation.contract import RequestSchemas

DEFAULT_CAPACITY = 4096  # jobs whose latest body is kept; a miss only costs one encoding


class StatusBodies:
    def __init__(self, capacity: int = DEFAULT_CAPACITY) -> None:
        # request id -> (the job, its status when encoded, base URL, bytes); the job itself
        # is compared so a recycled request id (a reset with a seed) never gets stale bytes
        self._cache: Bounded[str, tuple[Job, JobStatus, str, bytes]] = Bounded(capacity)

    def encode(self, job: Job, base_url: str) -> bytes:
        """The status endpoint's body for ``job`` now, with media URLs under ``base_url``."""
        hit = self._cache.get(job.request_id)
        if hit is not None and hit[0] is job and hit[1] is job.status and hit[2] == base_url:
            return hit[3]
        body = encode_json(job.status_body(f"{base_url}/media"))
        self._cache.put(job.request_id, (job, job.status, base_url, body))
        return body

    def clear(self) -> None:
        self._cache.clear()


@dataclass(eq=False)
class World:
    core: GatewayCore
    faults: FaultBook
    hygiene: Hygiene
    schemas: RequestSchemas
    samples: SampleImages
    fetch_remote_inputs: bool = False
    bodies: StatusBodies = field(default_factory=StatusBodies)

    def advance(self, now: float) -> Advance:
        """Move every job to ``now``; the finished ones' webhooks come back as events."""
        self.core.advance(now)
        finished = self.core.take_finished()
        if not finished:
            return STILL
        return Advance(len(finished), self._webhooks(finished, now))

    def _webhooks(self, finished: list[Job], now: float) -> tuple[WebhookDue, ...]:
        due = []
        for job in finished:
            url = job.spec.webhook_url
            if url:
                base = str(job.spec.extra.get("base_url", ""))
                at = job.completed_at if job.completed_at is not None else now
                due.append(
                    WebhookDue(job.request_id, job.owner, url, self.bodies.encode(job, base), at)
                )
        return tuple(due)

    def job_of(self, key: str, request_id: str) -> Job | None:
        """A job as its owner sees it (every other key gets None: a 404)."""
        return self.core.find_job(key, request_id)

    def completed_job(self, request_id: str) -> Job | None:
        """A completed job whatever its owner (its media URLs are public, like a CDN's)."""
        job = self.core.queue.get(request_id)
        return job if job is not None and job.status is JobStatus.COMPLETED else None

    def job_count(self) -> int:
        return len(self.core.queue)

    def jobs_newest_first(self) -> Iterator[Job]:
        """Every job held, the most recently submitted first (the inspector's list)."""
        return self.core.queue.newest_first()

    def unit_price_micros(self, operation_id: str) -> int:
        """One image's price (the contract's unless overridden), for an injected 402."""
        return self.core.unit_price_micros(operation_id)

    def status_call_price(self, key: str, request_id: str) -> int:
        """What a 402 on a status call names: the price of the job's operation when the id is
        a job of this key, else of the model its prefix names (the cheapest of that model's
        operations), else the cheapest operation of all."""
        job = self.job_of(key, request_id)
        if job is not None:
            return self.unit_price_micros(job.spec.operation_id)
        known = list(self.schemas.submit_operations())
        slug = request_id.partition("_")[0]
        candidates = [op for op in known if op.slug == slug] or known
        return min(self.unit_price_micros(op.operation_id) for op in candidates)

    def reset(self) -> None:
        self.bodies.clear()
