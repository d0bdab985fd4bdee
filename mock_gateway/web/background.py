"""The lifespan's background tasks: the ticker, webhook deliveries, the state keeper.

Plain asyncio tasks, not an anyio task group: importing anyio's asyncio backend, which a
task group (or a ``CapacityLimiter``) loads, took 18 ms, an eighth of the mock's start-up,
and nothing before the first answer needs it; a webhook delivery, which does, loads it when
the first one starts. Unlike a task group's, a task that fails is logged and the others
go on: a bug in one delivery must not stop the ticker (or every later webhook).
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable, Coroutine
from typing import Any

log = logging.getLogger("mock_gateway")


class Background:
    """Tasks started while the mock runs, all cancelled (and awaited) when it stops."""

    def __init__(self) -> None:
        self._tasks: set[asyncio.Task[None]] = set()

    def start_soon(self, function: Callable[..., Coroutine[Any, Any, None]], *args: Any) -> None:
        task = asyncio.get_running_loop().create_task(function(*args))
        self._tasks.add(task)  # (the loop keeps only a weak reference to a task)
        task.add_done_callback(self._ended)

    def _ended(self, task: asyncio.Task[None]) -> None:
        self._tasks.discard(task)
        if not task.cancelled() and task.exception() is not None:
            log.error("a background task failed", exc_info=task.exception())

    def __len__(self) -> int:
        return len(self._tasks)

    async def aclose(self) -> None:
        """Cancel every task (and any that they start meanwhile); return once all ended."""
        while self._tasks:
            running = list(self._tasks)
            for task in running:
                task.cancel()
            await asyncio.gather(*running, return_exceptions=True)
