"""The world a gateway call reads and changes, and the one place where time moves it.

``World.advance(now)`` is the only caller of the core's queue simulation outside the core
itself: the pipeline calls it first in every operation, and the HTTP layer's ticker, media
route and control API call it through ``MockState.advance``. It returns what advancing
caused (finished jobs, webhooks due) instead of acting on it.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from mock_gateway.core import GatewayCore, Job, JobStatus
from mock_gateway.core.wallet import usd_to_micros
from mock_gateway.imaging import SampleImages
from mock_gateway.pipeline.bodies import StatusBodies
from mock_gateway.pipeline.outcome import STILL, Advance, WebhookDue
from mock_gateway.steering.faults import FaultBook
from mock_gateway.steering.hygiene import Hygiene
from mock_gateway.validation.contract import RequestSchemas


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
        return Advance(len(finished), tuple(self._webhooks(finished, now)))

    def _webhooks(self, finished: list[Job], now: float) -> list[WebhookDue]:
        due = []
        for job in finished:
            url = job.spec.webhook_url
            if url:
                base = str(job.spec.extra.get("base_url", ""))
                at = job.completed_at if job.completed_at is not None else now
                due.append(
                    WebhookDue(job.request_id, job.owner, url, self.bodies.encode(job, base), at)
                )
        return due

    def job_of(self, key: str, request_id: str) -> Job | None:
        """A job as its owner sees it (every other key gets None: a 404)."""
        job = self.core.queue.get(request_id)
        return job if job is not None and job.owner == key else None

    def completed_job(self, request_id: str) -> Job | None:
        """A completed job whatever its owner (its media URLs are public, like a CDN's)."""
        job = self.core.queue.get(request_id)
        return job if job is not None and job.status is JobStatus.COMPLETED else None

    def job_count(self) -> int:
        return len(self.core.queue)

    def unit_price_micros(self, operation_id: str) -> int:
        """One image's price, for the 402 body of an injected fault."""
        return usd_to_micros(self.core.settings.prices_usd.get(operation_id, 0))

    def reset(self) -> None:
        self.bodies.clear()
