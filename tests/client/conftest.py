"""Fixtures for the client's tests: the mock gateway in-process (ASGI) and over real HTTP.

Helpers live in ``seedream_testing`` (a unique name: conftest modules are not importable
reliably when several test folders have one).
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable, Iterator
from contextlib import AsyncExitStack
from typing import Any

import pytest
from seedream_testing import TINY_POLL, InProcess, mock_app

from mock_gateway.testing.server_thread import ServerThread
from seedream_client import Gateway


@pytest.fixture(scope="session")
def live_mock() -> Iterator[ServerThread]:
    """One mock over real HTTP for the session (state is shared: use it for stateless checks)."""
    with ServerThread(mock_app()) as server:
        yield server


@pytest.fixture
def serve() -> Iterator[Callable[[Any], ServerThread]]:
    """Start any ASGI app (a mock with special settings, a wrapped one) on a free port."""
    servers: list[ServerThread] = []

    def start(app: Any) -> ServerThread:
        server = ServerThread(app).__enter__()
        servers.append(server)
        return server

    yield start
    for server in servers:
        server.__exit__(None, None, None)


@pytest.fixture
def gateway(live_mock: ServerThread) -> Iterator[Gateway]:
    with Gateway("test-key", live_mock.base_url, poll=TINY_POLL) as gw:
        yield gw


@pytest.fixture
def anyio_backend() -> str:
    return "asyncio"


async def _close_all(mock: InProcess) -> None:
    for http in mock.clients:
        await http.aclose()


@pytest.fixture
async def make_mock() -> AsyncIterator[Callable[..., Any]]:
    """``await make_mock(**settings)`` -> an InProcess mock whose lifespan ends with the test."""
    async with AsyncExitStack() as stack:

        async def make(**overrides: Any) -> InProcess:
            app = mock_app(**overrides)
            await stack.enter_async_context(app.router.lifespan_context(app))
            mock = InProcess(app)
            stack.push_async_callback(_close_all, mock)
            return mock

        yield make


@pytest.fixture
async def mock(make_mock: Callable[..., Any]) -> InProcess:
    result: InProcess = await make_mock()
    return result
