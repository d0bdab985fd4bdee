"""What the ``seedream`` command shows: the live status line, results, and one-line errors."""

from __future__ import annotations

import itertools
import json
import math
import shutil
import threading
import time
from collections.abc import Callable, Sequence
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


def terminal_width() -> int:
    return shutil.get_terminal_size((80, 24)).columns


def fit(line: str, width: int, request_id: str = "") -> str:
    """``line`` within ``width - 1`` columns (a full last column makes some terminals wrap):
    first the request id loses its middle (down to ``seedr…3a9f0c1d``), then the line its end."""
    room = max(10, width - 1)
    if len(line) <= room:
        return line
    if request_id and request_id in line:
        keep = max(14, len(request_id) - (len(line) - room))
        if keep < len(request_id):
            short = request_id[: keep - 9] + "…" + request_id[-8:]
            line = line.replace(request_id, short, 1)
    return line[:room]


def retry_reason(reason: str) -> str:
    """``HTTP 429`` -> ``rate limited (HTTP 429)``: what a retry's wait is for."""
    if reason == "HTTP 429":
        return "rate limited (HTTP 429)"
    return f"gateway answered {reason}" if reason.startswith("HTTP") else f"{reason}"


class Progress:
    """An ``on_update`` callback that shows status, time in queue and time elapsed.

    On a terminal the line is redrawn in place, cut to the terminal's width (a ticker thread
    keeps the clock moving between polls, and counts down a retry's wait); otherwise each
    status change, and each retry, is one plain line.
    """

    def __init__(
        self,
        stream: TextIO,
        *,
        live: bool,
        request_id: str,
        width: Callable[[], int] = terminal_width,
    ) -> None:
        self.stream, self.live, self.request_id, self.width = stream, live, request_id, width
        self.started = time.monotonic()
        self.status: JobStatus | None = None
        self.queued_for: float | None = None  # known once the job has left the queue
        self.retry: tuple[str, float] | None = None  # (why, monotonic time of the retry)
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
            self.retry = None
            self.stream.write("\r\033[K" + self.fitted() + "\n")
            self.stream.flush()

    def __call__(self, status: JobStatus) -> None:
        if status.status is not Status.QUEUED and self.queued_for is None:
            # the gateway's own timestamps when it shows PROCESSING, else what we observed
            self.queued_for = status.queue_seconds or time.monotonic() - self.started
        self.status = status
        self.retry = None
        if not self.live:
            self.stream.write(self.line() + "\n")
            self.stream.flush()

    def retrying(self, reason: str, delay: float) -> None:
        """A poll is retried after ``delay`` s (e.g. a 429's Retry-After): say so, counting down."""
        self.retry = (retry_reason(reason), time.monotonic() + delay)
        if not self.live:
            self.stream.write(f"{self.request_id}  {self.retry[0]}: retrying in {delay:.0f} s\n")
            self.stream.flush()

    def queue_seconds(self) -> float:
        return time.monotonic() - self.started if self.queued_for is None else self.queued_for

    def line(self, spinner: str = "") -> str:
        state = self.status.status.value if self.status else "SUBMITTED"
        elapsed = time.monotonic() - self.started
        head = f"{spinner} " if spinner else ""
        notice = ""  # before the clocks: on a narrow terminal the countdown is what matters
        if self.retry is not None and (left := self.retry[1] - time.monotonic()) > 0:
            notice = f"  {self.retry[0]}: retry in {math.ceil(left)}s"
        return (
            f"{head}{self.request_id}  {state:<10}{notice}  queue {self.queue_seconds():5.1f}s  "
            f"elapsed {elapsed:5.1f}s"
        )

    def fitted(self, spinner: str = "") -> str:
        return fit(self.line(spinner), self.width(), self.request_id)

    def _tick(self) -> None:
        for frame in itertools.cycle(_SPINNER):
            self.stream.write("\r\033[K" + self.fitted(frame))
            self.stream.flush()
            if self._stop.wait(0.1):
                return


class Countdown:
    """The ``sleep`` of the ``seedream`` command: a retry's wait before the job is submitted
    (a 429 on the submit) is said out loud, counting down on a terminal; once a job is being
    waited for, its Progress line shows the countdown instead."""

    def __init__(self, stream: TextIO, *, live: bool, sleep: Callable[[float], None]) -> None:
        self.stream, self.live, self._sleep = stream, live, sleep
        self.progress: Progress | None = None
        self._pending: str | None = None

    def on_retry(self, reason: str, delay: float) -> None:
        if self.progress is not None:
            self.progress.retrying(reason, delay)
        else:
            self._pending = retry_reason(reason)

    def sleep(self, seconds: float) -> None:
        why, self._pending = self._pending, None
        if why is None:
            self._sleep(seconds)
            return
        if not self.live:
            self.stream.write(f"seedream: {why}: retrying in {seconds:.0f} s\n")
            self.stream.flush()
            self._sleep(seconds)
            return
        left = seconds
        while left > 0:
            self.stream.write(f"\r\033[Kseedream: {why}: retrying in {math.ceil(left)} s")
            self.stream.flush()
            step = min(1.0, left)
            self._sleep(step)
            left -= step
        self.stream.write("\r\033[K")
        self.stream.flush()


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
        return f"{exc.message.split('; ')[0]}; the job goes on: {resume_hint(exc.request_id)}"
    if isinstance(exc, APIStatusError):
        code = exc.status_code or 0
        prefix = _PREFIX.get(code) or f"gateway error {code}"
        return f"{prefix}: {exc.detail or exc.error or exc.message}"
    return exc.message


def resume_hint(request_id: str | None) -> str:
    return f"resume with: seedream wait {request_id}" if request_id else "nothing to resume"


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
