"""The lifespan's background tasks (``web/background.py``): plain asyncio tasks, so that
start-up does not load anyio's backend, with a failure logged instead of ending them all."""

from __future__ import annotations

import asyncio
import logging
import subprocess
import sys

import pytest

from mock_gateway.web.background import Background


def test_a_failing_task_is_logged_and_the_others_go_on(caplog: pytest.LogCaptureFixture) -> None:
    ticks: list[int] = []

    async def ticker() -> None:
        while True:
            ticks.append(1)
            await asyncio.sleep(0.001)

    async def broken() -> None:
        raise RuntimeError("a bug in one delivery")

    async def main() -> int:
        tasks = Background()
        tasks.start_soon(ticker)
        tasks.start_soon(broken)
        await asyncio.sleep(0.02)
        before = len(ticks)
        await asyncio.sleep(0.02)
        assert len(ticks) > before  # still ticking after the failure
        running = len(tasks)
        await tasks.aclose()
        assert len(tasks) == 0
        return running

    with caplog.at_level(logging.ERROR, logger="mock_gateway"):
        assert asyncio.run(main()) == 1  # the failed one is gone, the ticker was left
    assert "a background task failed" in caplog.text and "a bug in one delivery" in caplog.text


def test_closing_cancels_what_the_tasks_start_meanwhile() -> None:
    ended: list[str] = []

    async def starter(tasks: Background) -> None:
        try:
            await asyncio.sleep(10)
        except asyncio.CancelledError:
            tasks.start_soon(late)  # e.g. a retry scheduled on the way out
            ended.append("starter")
            raise

    async def late() -> None:
        try:
            await asyncio.sleep(10)
        finally:
            ended.append("late")

    async def main() -> None:
        tasks = Background()
        tasks.start_soon(starter, tasks)
        await asyncio.sleep(0)
        await asyncio.wait_for(tasks.aclose(), 5)
        assert len(tasks) == 0

    asyncio.run(main())
    assert ended == ["starter", "late"]


def test_serving_and_answering_leaves_anyios_backend_unloaded() -> None:
    """What the first answers need loads at start-up; anyio's backend is not among them."""
    script = """
import sys
from mock_gateway.config.settings import Settings
from mock_gateway.testing.server_thread import ServerThread
from mock_gateway.web.app import create_app
import httpx
with ServerThread(create_app(Settings.load(timing="fast"))) as server:
    base = f"http://127.0.0.1:{server.port}"
    assert httpx.get(f"{base}/_health").status_code == 200
    sent = httpx.post(
        f"{base}/seedream-5-0-lite-text-to-image/v1/seedream-5-0-lite-text-to-image-request",
        json={"prompt": "a fox"}, headers={"Ocp-Apim-Subscription-Key": "test-key"})
    assert sent.status_code == 202, sent.text
    key = {"Ocp-Apim-Subscription-Key": "test-key"}
    polled = httpx.get(sent.json()["polling_url"], headers=key)
    assert polled.status_code == 200
    print("anyio._backends._asyncio" in sys.modules)
"""
    done = subprocess.run(
        [sys.executable, "-c", script], capture_output=True, text=True, timeout=60, check=False
    )
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip() == "False"
