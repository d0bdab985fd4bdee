"""Serialize once: a job's status body as bytes, encoded once per state change.

Every poll of a job in the same state, from the same host, gets the same bytes object; so
does its webhook, which must carry exactly what a poll shows. The media URLs in the body
are built from the host the client used, so an entry is valid for one (state, base URL)
pair; a poll from another host re-encodes and replaces it. The cache is bounded (oldest
first out), so a million finished jobs cost no more memory than a thousand.
"""

from __future__ import annotations

from mock_gateway.core import Job, JobStatus
from mock_gateway.pipeline.answers import encode_json
from mock_gateway.steering.hygiene import Bounded

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
