"""Faults injected through the mock's control API (issue 7): 5xx, ERROR jobs, dropped lines.

Skipped when the mock has no ``/_mock/faults`` (the control API is a separate piece of work).
"""

from __future__ import annotations

from typing import Any

import httpx
import pytest
from seedream_testing import InProcess, mock_app

from seedream_client import (
    APIConnectionError,
    Gateway,
    InternalServerError,
    JobErrorError,
    RetryPolicy,
    Status,
)

QUICK = RetryPolicy(initial_delay=0.001, max_delay=0.01)


async def inject(mock: InProcess, **rule: Any) -> None:
    async with httpx.AsyncClient(transport=mock.transport(), base_url=mock.base_url) as http:
        answer = await http.post("/_mock/faults", json=rule)
    assert answer.status_code in (200, 201), answer.text


async def fired(mock: InProcess) -> int:
    async with httpx.AsyncClient(transport=mock.transport(), base_url=mock.base_url) as http:
        listing: Any = (await http.get("/_mock/faults")).json()
    if isinstance(listing, dict):
        listing = listing.get("faults", listing.get("rules", []))
    rules: list[dict[str, Any]] = listing
    return sum(int(rule.get("fired", 0)) for rule in rules)


@pytest.mark.anyio
async def test_a_500_is_retried_and_then_raised(mock: InProcess) -> None:
    await inject(mock, status=500, endpoint="submit", times=1)
    async with mock.gateway(retry=QUICK) as gw:
        job = await gw.text_to_image("after one 500")
        assert (await job.wait(timeout=10)).status is Status.COMPLETED
        await inject(mock, status=500, endpoint="submit", times=3)
        with pytest.raises(InternalServerError) as info:
            await gw.text_to_image("three 500s")
    assert info.value.status_code == 500 and info.value.body and "error" in info.value.body
    assert await fired(mock) == 4  # 1, then 3 attempts (max_retries=2)


@pytest.mark.anyio
async def test_error_outcome_raises_job_error(mock: InProcess) -> None:
    await inject(mock, outcome="ERROR", error="GPU lost", times=1)
    async with mock.gateway() as gw:
        job = await gw.text_to_image("doomed")
        with pytest.raises(JobErrorError, match="GPU lost") as info:
            await job.wait(timeout=10)
    assert info.value.status.status is Status.ERROR and info.value.request_id == job.request_id


@pytest.mark.anyio
async def test_dropped_submit_is_not_resent(mock: InProcess) -> None:
    await inject(mock, drop_connection=True, endpoint="submit", times=1)
    async with mock.gateway(retry=QUICK) as gw:
        # a resend would have succeeded (the rule fires once): raising proves there was none
        with pytest.raises(APIConnectionError, match="may have been queued"):
            await gw.text_to_image("dropped")
    assert await fired(mock) == 1


@pytest.mark.anyio
async def test_dropped_and_limited_polls_are_retried(mock: InProcess) -> None:
    async with mock.gateway(retry=QUICK) as gw:
        job = await gw.text_to_image("polls are safe")
        await inject(mock, drop_connection=True, endpoint="status", times=1)
        await inject(mock, status=429, retry_after=0, endpoint="status", times=1)
        assert (await job.wait(timeout=10)).status is Status.COMPLETED
    assert await fired(mock) == 2


def test_connection_dropped_over_real_http(serve: Any) -> None:
    server = serve(mock_app())
    with httpx.Client(base_url=server.base_url) as http:
        answer = http.post("/_mock/faults", json={"drop_connection": True, "times": 1,
                                                  "endpoint": "submit"})  # fmt: skip
    assert answer.status_code in (200, 201), answer.text
    sleeps: list[float] = []
    with Gateway("test-key", server.base_url, sleep=sleeps.append) as gw:
        with pytest.raises(APIConnectionError, match="not resent"):
            gw.text_to_image("hung up on")
        assert sleeps == []
        assert gw.text_to_image("again, by choice").request_id  # the rule fired once
