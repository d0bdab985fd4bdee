"""What a job handle needs besides I/O: when to poll, when to give up, what a status means,
and where a download goes. Shared by the sync ``Job`` and the async ``AsyncJob``."""

from __future__ import annotations

import time
from collections.abc import Callable
from decimal import Decimal
from pathlib import Path, PurePosixPath
from urllib.parse import urlsplit

from seedream_client._exceptions import (
    APIResponseValidationError,
    JobErrorError,
    JobFailedError,
    WaitTimeoutError,
)
from seedream_client._models import JobStatus, Status
from seedream_client._retry import PollPolicy

_EXTENSIONS = {"image/png": "png", "image/jpeg": "jpg", "image/webp": "webp", "image/gif": "gif"}


class Waiter:
    """One wait: which statuses are news, how long until the next poll, when to give up."""

    def __init__(
        self,
        request_id: str,
        timeout: float | None,
        poll: PollPolicy,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.request_id = request_id
        self.timeout = timeout
        self.poll = poll
        self.clock = clock
        self.started = clock()
        self.deadline = None if timeout is None else self.started + timeout
        self.last: JobStatus | None = None
        self.polls = 0

    def observe(self, status: JobStatus) -> bool:
        """Record a poll's answer; True if the status changed (the first answer counts)."""
        changed = self.last is None or self.last.status is not status.status
        self.last = status
        return changed

    def next_delay(self) -> float:
        """Seconds to sleep before the next poll; raises WaitTimeoutError when time is up."""
        delay = self.poll.delay(self.polls)
        self.polls += 1
        if self.deadline is not None:
            remaining = self.deadline - self.clock()
            if remaining <= 0:
                raise self.timed_out()
            delay = min(delay, remaining)
        return delay

    def timed_out(self) -> WaitTimeoutError:
        state = self.last.status.value if self.last else "unknown"
        return WaitTimeoutError(
            f"gave up waiting for {self.request_id} after {self.timeout:g} s (still {state}); "
            "the job goes on: resume with wait(request_id)",
            request_id=self.request_id,
            last_status=self.last,
        )


def finish(status: JobStatus) -> JobStatus:
    """Return a COMPLETED status; raise JobFailedError / JobErrorError for the other ends."""
    if status.status is Status.FAILED:
        raise JobFailedError(
            f"job {status.request_id} FAILED: {status.error or 'no error text'}", status=status
        )
    if status.status is Status.ERROR:
        raise JobErrorError(
            f"job {status.request_id} ended with a system ERROR (not charged): "
            f"{status.error or 'no error text'}",
            status=status,
        )
    return status


def download_path(
    directory: Path, status: JobStatus, index: int, url: str, content_type: str | None
) -> Path:
    """Where image ``index`` of a job goes; refuses an answer that is not an image."""
    media = (content_type or "").split(";")[0].strip().lower()
    if not media.startswith("image/"):
        raise APIResponseValidationError(
            f"{url} answered with {media or 'no content type'}, not an image",
            request_id=status.request_id,
        )
    ext = _EXTENSIONS.get(media) or PurePosixPath(urlsplit(url).path).suffix.lstrip(".") or "img"
    name = status.request_id if len(status.media_urls) == 1 else f"{status.request_id}-{index + 1}"
    return directory / f"{name}.{ext}"


def partial_path(path: Path) -> Path:
    return path.with_name(path.name + ".part")


class BaseJob:
    """A submitted request: its id, what it was, what it should cost, and what we last saw."""

    def __init__(
        self,
        request_id: str,
        *,
        model: str | None = None,
        estimated_cost: Decimal | None = None,
        polling_url: str | None = None,
    ) -> None:
        self.request_id = request_id
        self.model = model
        self.estimated_cost = estimated_cost
        self.polling_url = polling_url
        self.last_status: JobStatus | None = None

    def __repr__(self) -> str:
        state = self.last_status.status.value if self.last_status else "submitted"
        return f"{type(self).__name__}({self.request_id!r}, model={self.model!r}, {state})"
