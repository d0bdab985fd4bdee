"""What the ``seedream`` command shows: the live status line, results, and one-line errors."""

from __future__ import annotations

import itertools
import json
import threading
import time
from collections.abc import Sequence
from decimal import Decimal
from pathlib import Path
from typing import Any, TextIO

from seedream_client._exceptions import (
    APIStatusError,
    GatewayError,
    InsufficientBalanceError,
    JobErrorError,
    JobFailedError,
    ModelNotFoundError,
    RateLimitError,
    WaitTimeoutError,
)
from seedream_client._models import JobStatus, Status, usd

_SPINNER = "|/-\\"
_PREFIX = {
    400: "bad request",
    401: "authentication failed",
    403: "permission denied",
    404: "not found",
}


class Progress:
    """An ``on_update`` callback that shows status, time in queue and time elapsed.

    On a terminal the line is redrawn in place (a ticker thread keeps the clock moving between
    polls); otherwise each status change is one plain line.
    """

    def __init__(self, stream: TextIO, *, live: bool, request_id: str) -> None:
        self.stream, self.live, self.request_id = stream, live, request_id
        self.started = time.monotonic()
        self.status: JobStatus | None = None
        self.queued_for: float | None = None  # known once the job has left the queue
        self._stop = threading.Event()
        self._ticker: threading.Thread | None = None

    def __enter__(self) -> Progress:
        if self.live:
            self._ticker = threading.Thread(target=self._tick, daemon=True)
            self._ticker.start()
        return self

    def __exit__(self, *exc_info: object) -> None:
        self._stop.set()
        if self._ticker is not None:
            self._ticker.join()
            self.stream.write("\r\033[K" + self.line() + "\n")
            self.stream.flush()

    def __call__(self, status: JobStatus) -> None:
        if status.status is not Status.QUEUED and self.queued_for is None:
            # the gateway's own timestamps when it shows PROCESSING, else what we observed
            self.queued_for = status.queue_seconds or time.monotonic() - self.started
        self.status = status
        if not self.live:
            self.stream.write(self.line() + "\n")
            self.stream.flush()

    def queue_seconds(self) -> float:
        return time.monotonic() - self.started if self.queued_for is None else self.queued_for

    def line(self, spinner: str = "") -> str:
        state = self.status.status.value if self.status else "SUBMITTED"
        elapsed = time.monotonic() - self.started
        head = f"{spinner} " if spinner else ""
        return (
            f"{head}{self.request_id}  {state:<10}  queue {self.queue_seconds():5.1f}s  "
            f"elapsed {elapsed:5.1f}s"
        )

    def _tick(self) -> None:
        for frame in itertools.cycle(_SPINNER):
            self.stream.write("\r\033[K" + self.line(frame))
            self.stream.flush()
            if self._stop.wait(0.1):
                return


def describe(exc: GatewayError) -> str:
    """One line for the user, e.g. ``insufficient balance: required $0.035``."""
    if isinstance(exc, InsufficientBalanceError):
        required = exc.required_usd
        return "insufficient balance" + (
            f": required {usd(required)}" if required is not None else ""
        )
    if isinstance(exc, RateLimitError):
        wait = f": try again in {exc.retry_after:g} s" if exc.retry_after is not None else ""
        return "rate limited" + wait
    if isinstance(exc, ModelNotFoundError):
        return f"model not found: {exc.detail or exc.message}"
    if isinstance(exc, JobFailedError):
        return f"job {exc.request_id} failed: {exc.error_text or 'no error text'}"
    if isinstance(exc, JobErrorError):
        return f"job {exc.request_id} ended with a system error (not charged): {exc.error_text}"
    if isinstance(exc, WaitTimeoutError):
        return f"{exc.message}; resume with: seedream wait {exc.request_id}"
    if isinstance(exc, APIStatusError):
        code = exc.status_code or 0
        prefix = _PREFIX.get(code) or f"gateway error {code}"
        return f"{prefix}: {exc.detail or exc.error or exc.message}"
    return exc.message


def one_line(text: str) -> str:
    return " ".join(text.split())


def error_json(exc: BaseException, message: str) -> dict[str, Any]:
    info: dict[str, Any] = {"type": type(exc).__name__, "message": message}
    if isinstance(exc, GatewayError):
        info |= {"status_code": exc.status_code, "request_id": exc.request_id, "body": exc.body}
    return {"error": info}


def result_json(status: JobStatus, files: Sequence[Path], cost: Decimal | None) -> dict[str, Any]:
    return {
        **status.raw,
        "files": [str(f) for f in files],
        "estimated_cost_usd": None if cost is None else f"{cost.normalize():f}",
    }


def print_json(stream: TextIO, data: object) -> None:
    stream.write(json.dumps(data, indent=2, sort_keys=True, default=str) + "\n")


def print_status(stream: TextIO, status: JobStatus) -> None:
    stream.write(f"{status.request_id}  {status.status.value}  model {status.model_id}\n")
    if status.created_at:
        stream.write(f"created   {status.created_at.isoformat()}\n")
    if status.completed_at:
        stream.write(f"completed {status.completed_at.isoformat()}\n")
    if status.error:
        stream.write(f"error     {status.error}\n")
    for url in status.media_urls:
        stream.write(f"image     {url}\n")


def print_result(stream: TextIO, files: Sequence[Path], cost: Decimal | None, note: str) -> None:
    for path in files:
        stream.write(f"{path}\n")
    if cost is not None:
        stream.write(f"cost: {usd(cost)} ({note})\n")
