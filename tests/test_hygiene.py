"""Client hygiene warnings: habits that cost money or get a client throttled in production."""

from __future__ import annotations

import logging
from typing import Any

import httpx
import pytest

from gateway_helpers import KEY, T2I
from mock_helpers import Running, running
from seedream_client import AsyncGateway

pytestmark = pytest.mark.anyio
LIMITED = {"Ocp-Apim-Subscription-Key": "limited-key"}


async def kinds(mock: Running, **params: Any) -> list[str]:
    entries = (await mock.control("GET", "/requests", params={"warned": True, **params}))[
        "requests"
    ]
    return [warning["kind"] for entry in entries for warning in entry["warnings"]]


async def test_retrying_before_retry_after_is_flagged() -> None:
    async with running() as mock:
        for prompt in "abc":  # limited-key: 2 submits a minute, so the third gets 429 (30 s)
            await mock.http.post(T2I, json={"prompt": prompt}, headers=LIMITED)
        mock.clock.advance(10)
        early = await mock.http.post(T2I, json={"prompt": "d"}, headers=LIMITED)
        assert early.status_code == 429
        mock.clock.advance(30)
        on_time = await mock.http.post(T2I, json={"prompt": "e"}, headers=LIMITED)
        assert on_time.status_code == 202
        entries = (await mock.control("GET", "/requests", params={"warned": True}))["requests"]
    assert [entry["seq"] for entry in entries] == [4]
    [warning] = entries[0]["warnings"]
    assert warning["kind"] == "retry-before-retry-after"
    assert "20.0 s before the Retry-After: 30" in warning["message"]


async def poll_kinds(gaps: tuple[float, ...]) -> list[str]:
    """Poll one job (about 51 s long) with these gaps of mock time; the warnings it got."""
    async with running(timing="realistic") as mock:
        accepted = (await mock.http.post(T2I, json={"prompt": "x"}, headers=KEY)).json()
        for gap in gaps:
            mock.clock.advance(gap)
            await mock.http.get(accepted["polling_url"], headers=KEY)
        return await kinds(mock)


async def test_sustained_polling_faster_than_five_seconds_is_flagged() -> None:
    assert await poll_kinds((0, 1, 1, 5, 5)) == ["poll-too-fast"]  # the third poll
    assert await poll_kinds((0, 4, 4, 4)) == ["poll-too-fast", "poll-too-fast"]
    assert await poll_kinds((0, 0, 0)) == ["poll-too-fast"]  # a tight loop on a frozen clock


async def test_a_client_that_backs_off_is_never_flagged() -> None:
    assert await poll_kinds((0, 1, 1.6, 2.56, 4.1, 6.55, 10)) == []  # seedream's defaults
    assert await poll_kinds((0, 0.5, 5, 5)) == []  # one quick second look is not sustained


async def test_the_clients_default_polling_raises_no_hygiene_warning() -> None:
    """The real client with its default PollPolicy, on a job of the documented ~51 s; its
    sleeps advance the mock's clock, so every gap the mock sees is one the client chose."""
    async with running(timing="realistic") as mock:
        sleeps: list[float] = []

        async def sleep(seconds: float) -> None:
            sleeps.append(seconds)
            mock.clock.advance(seconds)

        http = httpx.AsyncClient(transport=httpx.ASGITransport(app=mock.app))
        async with AsyncGateway("test-key", str(mock.http.base_url), http_client=http,
                                sleep=sleep) as gateway:  # fmt: skip
            job = await gateway.text_to_image("a lighthouse")
            status = await job.wait(timeout=600)
        assert status.status == "COMPLETED" and len(sleeps) >= 6  # the backoff was exercised
        entries = (await mock.control("GET", "/requests", params={"warned": True}))["requests"]
        assert entries == []


async def test_polling_after_a_terminal_status_is_flagged() -> None:
    async with running(timing="manual") as mock:
        accepted = (await mock.http.post(T2I, json={"prompt": "x"}, headers=KEY)).json()
        for _ in range(3):
            mock.clock.advance(10)
            status = await mock.http.get(accepted["polling_url"], headers=KEY)
        assert status.json()["status"] == "COMPLETED"
        assert await kinds(mock) == ["poll-after-terminal", "poll-after-terminal"]


async def test_an_identical_submit_resent_within_seconds_is_flagged(
    caplog: pytest.LogCaptureFixture,
) -> None:
    caplog.set_level(logging.WARNING, logger="mock_gateway.steering.hygiene")
    async with running() as mock:
        body = {"prompt": "a lion", "seed": 1}
        await mock.http.post(T2I, json=body, headers=KEY)
        mock.clock.advance(2)
        await mock.http.post(T2I, json=body, headers=KEY)
        await mock.http.post(T2I, json={**body, "seed": 2}, headers=KEY)  # a different job
        mock.clock.advance(60)
        await mock.http.post(T2I, json=body, headers=KEY)  # long after: a deliberate rerun
        mock.clock.advance(1)
        await mock.http.post(T2I, json=body, headers=KEY)
        assert await kinds(mock) == ["duplicate-submit", "duplicate-submit"]
    lines = [record.getMessage() for record in caplog.records]
    assert len(lines) == 1 and "double charge" in lines[0]  # the log says it once per key


def test_polling_on_after_a_terminal_status_reuses_one_flag() -> None:
    """The flag of a client polling on is built once per job and status: polling on makes
    no new objects for the cyclic GC to walk, and the journal says the same thing."""
    from mock_gateway.steering.hygiene import Hygiene
    from mock_gateway.steering.journal import flag_json

    hygiene = Hygiene(min_poll_seconds=5, duplicate_window_seconds=60, capacity=100)
    assert hygiene.poll("k", "job", 0.0, "COMPLETED") is None
    first = hygiene.poll("k", "job", 10.0, "COMPLETED")
    again = hygiene.poll("k", "job", 20.0, "COMPLETED")
    assert first is not None and again is first
    assert flag_json(first)["kind"] == "poll-after-terminal"
    assert "polled job again after it had reported COMPLETED" in flag_json(first)["message"]
    other = hygiene.poll("k", "other-job", 0.0, "FAILED")
    assert other is None and hygiene.poll("k2", "job", 30.0, "COMPLETED") is None
    hygiene.clear()
    assert hygiene.poll("k", "job", 40.0, "FAILED") is None  # forgotten with the rest
    failed = hygiene.poll("k", "job", 50.0, "FAILED")
    assert failed is not None and failed is not first
    assert "reported FAILED" in flag_json(failed)["message"]


def test_a_bounded_table_forgets_its_oldest_first() -> None:
    from mock_gateway.steering.hygiene import Bounded

    table: Bounded[str, int] = Bounded(3)
    for number, key in enumerate("abcd"):
        table.put(key, number)
    assert table.items() == [("b", 1), ("c", 2), ("d", 3)]  # "a" went first
    table.put("b", 10)  # a key it holds keeps its place
    assert table.swap("e", 4) is None
    assert table.items() == [("c", 2), ("d", 3), ("e", 4)]  # so "b" was the oldest
    assert table.swap("d", 30) == 3
    table.pop("c")
    table.pop("missing")
    table.put("f", 5)
    assert table.items() == [("d", 30), ("e", 4), ("f", 5)]
    assert table.get("c") is None and table.get("f") == 5
