"""Jobs and their state machine: QUEUED -> PROCESSING -> COMPLETED | FAILED | ERROR."""

from __future__ import annotations

import enum
import functools
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any


class JobStatus(enum.StrEnum):
    QUEUED = "QUEUED"
    PROCESSING = "PROCESSING"
    COMPLETED = "COMPLETED"
    FAILED = "FAILED"
    ERROR = "ERROR"

    @property
    def terminal(self) -> bool:
        return self in TERMINAL_STATUSES


TERMINAL_STATUSES = frozenset({JobStatus.COMPLETED, JobStatus.FAILED, JobStatus.ERROR})

# The documented flow, as a table: an illegal move is a bug in the mock and raises.
ALLOWED_TRANSITIONS: dict[JobStatus, frozenset[JobStatus]] = {
    JobStatus.QUEUED: frozenset({JobStatus.PROCESSING}),
    JobStatus.PROCESSING: TERMINAL_STATUSES,
    JobStatus.COMPLETED: frozenset(),
    JobStatus.FAILED: frozenset(),
    JobStatus.ERROR: frozenset(),
}


class IllegalTransition(RuntimeError):
    pass


@functools.lru_cache(maxsize=8192)  # a polled job formats the same three moments again and again
def format_timestamp(epoch_seconds: float) -> str:
    """ISO 8601 UTC with milliseconds and ``Z``, as in ``2026-04-17T11:41:07.503Z``."""
    millis = int(epoch_seconds * 1000)
    moment = datetime.fromtimestamp(millis / 1000, tz=UTC)
    return moment.strftime("%Y-%m-%dT%H:%M:%S.") + f"{millis % 1000:03d}Z"


@dataclass(slots=True)
class JobSpec:
    """What a validated submit asks for; everything the core and the renderer need.

    Never changed once made (jobs and snapshots share it). Not ``frozen``: a frozen
    dataclass sets each of its 15 fields through ``object.__setattr__``, 1.1 us more per
    submit; with a dict field it was never hashable anyway."""

    operation_id: str
    slug: str  # request id prefix and ``model_id``
    model: str  # the concrete model (byteplus ``model`` field or the slug)
    media_type: str
    prompt: str
    num_images: int
    width: int
    height: int
    seed: int | None
    watermark: bool = False
    safety_checker: bool = True
    inputs: tuple[str, ...] = ()  # the image URLs / data URLs as sent
    input_images: tuple[bytes, ...] = ()  # the pixels the mock could see (for rendering)
    webhook_url: str | None = None
    extra: dict[str, Any] = field(default_factory=dict)


@dataclass(slots=True, eq=False)
class Job:
    request_id: str
    owner: str
    spec: JobSpec
    seed: int  # resolved seed (random when the request gave none or -1)
    cost_micros: int
    created_at: float
    ready_at: float  # earliest moment a worker may pick it up
    processing_seconds: float
    outcome: JobStatus = JobStatus.COMPLETED
    outcome_error: str | None = None
    status: JobStatus = JobStatus.QUEUED
    updated_at: float = 0.0
    started_at: float | None = None
    completed_at: float | None = None
    error: str | None = None
    refunded: bool = False

    def __post_init__(self) -> None:
        self.updated_at = self.created_at

    def move_to(self, status: JobStatus, at: float) -> None:
        if status not in ALLOWED_TRANSITIONS[self.status]:
            raise IllegalTransition(f"{self.request_id}: {self.status} -> {status}")
        self.status = status
        self.updated_at = at
        if status is JobStatus.PROCESSING:
            self.started_at = at
        elif status.terminal:
            self.completed_at = at
            if status is not JobStatus.COMPLETED:
                self.error = self.outcome_error or "Description of the error"

    def media_filenames(self) -> list[str]:
        ext = "png" if self.spec.media_type == "image/png" else "jpg"
        return [f"output-{index}.{ext}" for index in range(1, self.spec.num_images + 1)]

    def status_body(self, media_base_url: str) -> dict[str, Any]:
        """The status endpoint's body (and the webhook's) at this moment.

        ``media_base_url`` is where this mock serves generated images, so the URLs point back
        at the host the client used.
        """
        output: dict[str, Any] | None = None
        if self.status is JobStatus.COMPLETED:
            output = {
                "media_url": [
                    f"{media_base_url}/{self.request_id}/{name}" for name in self.media_filenames()
                ],
                "media_type": self.spec.media_type,
            }
        return {
            "request_id": self.request_id,
            "status": self.status.value,
            "model_id": self.spec.slug,
            "error": self.error,
            "output": output,
            "created_at": format_timestamp(self.created_at),
            "updated_at": format_timestamp(self.updated_at),
            "completed_at": None
            if self.completed_at is None
            else format_timestamp(self.completed_at),
        }
