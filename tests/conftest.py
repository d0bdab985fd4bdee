"""Shared fixtures: an in-process mock on a frozen virtual clock, reached through httpx."""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Any

import httpx
import pytest

from gateway_helpers import T0
from mock_gateway.config.settings import Settings
from mock_gateway.steering.clock import VirtualClock
from mock_gateway.web.app import create_app


@pytest.fixture
def anyio_backend() -> str:
    return "asyncio"


@pytest.fixture
def clock() -> VirtualClock:
    return VirtualClock(start=T0, rate=0.0)


@pytest.fixture
def settings() -> Settings:
    return Settings.load(timing="fast", seed=1)


@pytest.fixture
def app(settings: Settings, clock: VirtualClock) -> Any:
    return create_app(settings, clock=clock)


@pytest.fixture
async def client(app: Any) -> AsyncIterator[httpx.AsyncClient]:
    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(transport=transport, base_url="http://mock.test") as http:
        yield http
