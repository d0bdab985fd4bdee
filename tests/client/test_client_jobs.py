"""Waiting on jobs without a server: status parsing, the poll schedule, the terminal errors."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from seedream_client import (
    APIResponseValidationError,
    Gateway,
    JobErrorError,
    JobFailedError,
    JobStatus,
    PollPolicy,
    Status,
    WaitTimeoutError,
)
from seedream_client._jobs import Waiter, download_path

RID = "byteplus_019d0000-0000-7000-8000-000000000000"


def body(status: str, **extra: Any) -> dict[str, Any]:
    return {"request_id": RID, "status": status, "model_id": "byteplus", "error": None,
            "output": None, "created_at": "2026-04-17T12:33:13.000Z",
            "updated_at": "2026-04-17T12:33:15.500Z", **extra}  # fmt: skip


def polled(*bodies: dict[str, Any]) -> tuple[Gateway, list[float]]:
    answers: Iterator[dict[str, Any]] = iter(bodies)
    sleeps: list[float] = []
    http = httpx.Client(
        transport=httpx.MockTransport(lambda r: httpx.Response(200, json=next(answers)))
    )
    poll = PollPolicy(initial=1.0, multiplier=2.0, maximum=3.0)
    return Gateway("k", "http://gw.test", http_client=http, sleep=sleeps.append, poll=poll), sleeps


def test_status_parsing() -> None:
    status = JobStatus.from_body(body("PROCESSING"))
    assert status.status is Status.PROCESSING and not status.is_terminal
    assert status.queue_seconds == 2.5  # created -> started processing, by the gateway's clock
    assert JobStatus.from_body(body("QUEUED")).queue_seconds is None
    bad_bodies: list[object] = [[], body("DONE"), body("COMPLETED"), {"status": "QUEUED"}]
    for bad in bad_bodies:
        with pytest.raises(APIResponseValidationError):
            JobStatus.from_body(bad)


def test_wait_backs_off_and_reports_changes() -> None:
    gw, sleeps = polled(body("QUEUED"), body("QUEUED"), body("PROCESSING"), body("PROCESSING"),
                        body("COMPLETED", output={"media_url": ["http://x/1.jpg"],
                                                  "media_type": "image/jpeg"}))  # fmt: skip
    seen: list[Status] = []
    final = gw.wait(RID, on_update=lambda s: seen.append(s.status))
    assert seen == [Status.QUEUED, Status.PROCESSING, Status.COMPLETED]
    assert sleeps == [1.0, 2.0, 3.0, 3.0] and final.media_urls == ("http://x/1.jpg",)


def test_failed_and_error_jobs_raise_with_the_gateway_text() -> None:
    gw, _ = polled(body("FAILED", error="OutputImageSensitiveContentDetected"))
    with pytest.raises(JobFailedError, match="OutputImageSensitiveContentDetected") as failed:
        gw.wait(RID)
    assert failed.value.request_id == RID and failed.value.status.status is Status.FAILED
    gw, _ = polled(body("ERROR", error="Description of the error"))
    with pytest.raises(JobErrorError, match=r"not charged\): Description of the error") as err:
        gw.job(RID).wait()
    assert err.value.error_text == "Description of the error"


def test_waiter_deadline() -> None:
    now = [0.0]
    waiter = Waiter(RID, 2.5, PollPolicy(1.0, 2.0, 10.0), clock=lambda: now[0])
    assert waiter.next_delay() == 1.0
    now[0] = 1.0
    assert waiter.next_delay() == 1.5  # 2.0, cut to the 1.5 s that remain
    now[0] = 2.5
    with pytest.raises(WaitTimeoutError, match="resume with wait") as info:
        waiter.next_delay()
    assert info.value.request_id == RID


def test_download_names_and_refusals(tmp_path: Path) -> None:
    status = JobStatus.from_body(body("COMPLETED", output={
        "media_url": ["http://x/a", "http://x/b.webp"], "media_type": "image/jpeg"}))  # fmt: skip
    assert download_path(tmp_path, status, 0, "http://x/a", "image/jpeg").name == f"{RID}-1.jpg"
    assert download_path(tmp_path, status, 1, "http://x/b.webp", "image/x-new").name == (
        f"{RID}-2.webp"
    )
    with pytest.raises(APIResponseValidationError, match="not an image"):
        download_path(tmp_path, status, 0, "http://x/a", "text/html; charset=utf-8")


def test_a_202_without_request_id_is_reported() -> None:
    http = httpx.Client(transport=httpx.MockTransport(lambda r: httpx.Response(202, text="ok")))
    with (
        Gateway("k", "http://gw.test", http_client=http) as gw,
        pytest.raises(APIResponseValidationError, match="cannot be tracked"),
    ):
        gw.text_to_image("a cat")
