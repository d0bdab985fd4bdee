"""An LRU of rendered images, bounded by total bytes, safe for concurrent async callers.

Renders run in worker threads (``anyio.to_thread.run_sync``), at most
``max_concurrent_renders`` at a time, so the event loop never blocks and a burst of 4K
requests cannot exhaust memory. Callers asking for a key that is being rendered wait for that
render instead of starting another: a 4K image is rendered once however often it is fetched.
"""

from __future__ import annotations

import os
from collections import OrderedDict
from collections.abc import Callable
from typing import TYPE_CHECKING

import anyio
import anyio.to_thread

if TYPE_CHECKING:
    from mock_gateway.imaging.render import RenderRequest

Renderer = Callable[["RenderRequest"], bytes]


def render_image(req: RenderRequest) -> bytes:
    """``render``, importing Pillow and the renderer with the first image, not at start-up."""
    from mock_gateway.imaging.render import render

    return render(req)


class _Pending:
    """One render in flight; waiters block on ``done``."""

    __slots__ = ("discarded", "done", "error", "result")

    def __init__(self) -> None:
        self.done = anyio.Event()
        self.result: bytes | None = None
        self.error: Exception | None = None
        self.discarded = False  # its job went away while rendering: do not keep the result


class ImageCache:
    """LRU of rendered images bounded by total bytes (default 256 MiB).

    Keys are chosen by the caller (e.g. ``"<request_id>/<index>"``); the first request seen for
    a key is the one rendered. ``renderer`` exists for tests (count or stub renders).
    """

    def __init__(
        self,
        max_bytes: int = 256 * 1024 * 1024,
        *,
        renderer: Renderer | None = None,
        max_concurrent_renders: int | None = None,
    ) -> None:
        if max_bytes < 0:
            raise ValueError("max_bytes must not be negative")
        self.max_bytes = max_bytes
        self._renderer = renderer or render_image
        self._tokens = max_concurrent_renders or os.cpu_count() or 1
        self._limiter: anyio.CapacityLimiter | None = None
        self._entries: OrderedDict[str, bytes] = OrderedDict()
        self._pending: dict[str, _Pending] = {}
        self._total = 0
        self.hits = 0
        self.renders = 0

    async def get_or_render(self, key: str, req: RenderRequest) -> bytes:
        """The cached image for ``key``, rendering ``req`` (once) if it is not cached."""
        while True:
            data = self._entries.get(key)
            if data is not None:
                self._entries.move_to_end(key)
                self.hits += 1
                return data
            pending = self._pending.get(key)
            if pending is None:
                return await self._render(key, req)
            await pending.done.wait()
            if pending.result is not None:
                self.hits += 1
                return pending.result
            if pending.error is not None:
                raise pending.error
            # The rendering caller was cancelled before it finished: try again (and maybe lead).

    def discard_prefix(self, prefix: str) -> None:
        """Drop every image whose key starts with ``prefix`` (an expired or removed job),
        including ones still rendering, which then are not stored."""
        for key in [key for key in self._entries if key.startswith(prefix)]:
            self._total -= len(self._entries.pop(key))
        for key, pending in self._pending.items():
            if key.startswith(prefix):
                pending.discarded = True

    def clear(self) -> None:
        self.discard_prefix("")

    @property
    def total_bytes(self) -> int:
        return self._total

    def __len__(self) -> int:
        return len(self._entries)

    def __contains__(self, key: object) -> bool:
        return key in self._entries

    async def _render(self, key: str, req: RenderRequest) -> bytes:
        pending = self._pending[key] = _Pending()
        self.renders += 1
        if self._limiter is None:
            self._limiter = anyio.CapacityLimiter(self._tokens)
        try:
            data = await anyio.to_thread.run_sync(self._renderer, req, limiter=self._limiter)
        except Exception as exc:
            pending.error = exc
            raise
        else:
            pending.result = data
            if not pending.discarded:
                self._store(key, data)
            return data
        finally:
            # Reached on success, error and cancellation alike, so waiters never hang.
            del self._pending[key]
            pending.done.set()

    def _store(self, key: str, data: bytes) -> None:
        if len(data) > self.max_bytes:
            return  # would evict everything and still not fit
        previous = self._entries.pop(key, None)
        if previous is not None:
            self._total -= len(previous)
        self._entries[key] = data
        self._total += len(data)
        while self._total > self.max_bytes:
            _, evicted = self._entries.popitem(last=False)
            self._total -= len(evicted)
