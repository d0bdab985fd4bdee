"""A real uvicorn server on a free port of 127.0.0.1, in a background thread.

It is the server ``mock-gateway serve`` runs (``mock_gateway.web.server``: uvloop where
installed, httptools, the same connection bounds), minus signal handling.

Used by the pytest plugin, and by anyone who wants the mock inside their own process. Its
``asgi_transport()`` reaches the same app without sockets: requests are handed to the
server's event loop, so they share its state (one clock, one journal) safely instead of
touching it from a second thread.
"""

from __future__ import annotations

import asyncio
import threading
import time
from concurrent.futures import Future
from typing import TYPE_CHECKING, Any

import httpx

if TYPE_CHECKING:
    from mock_gateway.web.server import ConnectionLimits


class ServerThread:
    def __init__(
        self,
        app: Any,
        host: str = "127.0.0.1",
        *,
        start_timeout: float = 15.0,
        limits: ConnectionLimits | None = None,  # None: the defaults (``mock-gateway serve``'s)
    ) -> None:
        # late: importing the plugin must stay cheap
        from mock_gateway.web.server import (
            ConnectionLimits,
            GuardedServer,
            event_loop_factory,
            listening_socket,
        )

        self.app = app
        self.start_timeout = start_timeout
        self.sock = listening_socket(host, 0)
        self.port: int = self.sock.getsockname()[1]
        shown = f"[{host}]" if ":" in host else host
        self.base_url = f"http://{shown}:{self.port}"
        self.server = GuardedServer(app, limits or ConnectionLimits())
        self._loop_factory = event_loop_factory()
        self.loop: asyncio.AbstractEventLoop | None = None
        self._thread = threading.Thread(target=self._run, name="mock-gateway", daemon=True)

    def _run(self) -> None:
        with asyncio.Runner(loop_factory=self._loop_factory) as runner:
            runner.run(self._serve())

    async def _serve(self) -> None:
        self.loop = asyncio.get_running_loop()
        await self.server.serve(sockets=[self.sock])

    def start(self) -> ServerThread:
        self._thread.start()
        deadline = time.monotonic() + self.start_timeout
        while not self.server.started:
            if time.monotonic() > deadline or not self._thread.is_alive():
                self.stop()
                raise RuntimeError("the mock gateway did not start (see the log above)")
            time.sleep(0.005)
        return self

    def stop(self) -> None:
        self.server.should_exit = True
        if self._thread.is_alive():
            self._thread.join(timeout=10)
        self.sock.close()

    def __enter__(self) -> ServerThread:
        return self.start()

    def __exit__(self, *exc_info: object) -> None:
        self.stop()

    def _submit(self, request: httpx.Request) -> Future[httpx.Response]:
        if self.loop is None or not self.server.started:
            raise RuntimeError("the mock gateway is not running")
        return asyncio.run_coroutine_threadsafe(_call_app(self.app, request), self.loop)

    def asgi_transport(self) -> httpx.AsyncBaseTransport:
        """An httpx transport that calls the app in-process (no sockets, no HTTP parsing)."""
        return _AsyncBridge(self)

    def transport(self) -> httpx.BaseTransport:
        """The same for a synchronous ``httpx.Client``."""
        return _SyncBridge(self)


async def _call_app(app: Any, request: httpx.Request) -> httpx.Response:
    """Runs on the server's loop: the app sees the request as if it came over the wire."""
    transport = httpx.ASGITransport(app=app, client=("127.0.0.1", 0))
    response = await transport.handle_async_request(request)
    content = await response.aread()
    return httpx.Response(response.status_code, headers=response.headers, content=content)


class _AsyncBridge(httpx.AsyncBaseTransport):
    def __init__(self, server: ServerThread) -> None:
        self._server = server

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        await request.aread()  # the body crosses threads as bytes
        future = self._server._submit(request)
        try:
            asyncio.get_running_loop()
        except RuntimeError:  # trio and friends: wait for the answer in a worker thread
            import anyio.to_thread

            return await anyio.to_thread.run_sync(future.result)
        return await asyncio.wrap_future(future)


class _SyncBridge(httpx.BaseTransport):
    def __init__(self, server: ServerThread) -> None:
        self._server = server

    def handle_request(self, request: httpx.Request) -> httpx.Response:
        request.read()
        return self._server._submit(request).result()
