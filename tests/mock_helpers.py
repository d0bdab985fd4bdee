"""Helpers for the tests of the mock's extensions: an in-process mock with its lifespan
running (so the ticker delivers webhooks), on a frozen virtual clock."""

from __future__ import annotations

import contextlib
from collections.abc import AsyncIterator
from dataclasses import dataclass
from typing import Any

import httpx

from gateway_helpers import T0
from mock_gateway.config.settings import Settings
from mock_gateway.steering.clock import VirtualClock
from mock_gateway.web.app import create_app
from mock_gateway.web.state import MockState


@dataclass
class Running:
    app: Any
    http: httpx.AsyncClient
    clock: VirtualClock

    @property
    def state(self) -> MockState:
        state: MockState = self.app.state.mock
        return state

    async def control(self, method: str, path: str, body: Any = None, **kw: Any) -> Any:
        """A control call that must succeed; returns the parsed answer (or None)."""
        response = await self.http.request(method, f"/_mock{path}", json=body, **kw)
        assert response.status_code < 300, response.text
        return response.json() if response.content else None

    async def balance(self, key: str = "test-key") -> str:
        info = await self.control("GET", f"/keys/{key}")
        return str(info["balance_usd"])


@contextlib.asynccontextmanager
async def running(
    settings: Settings | None = None,
    *,
    clock: VirtualClock | None = None,
    http: httpx.AsyncClient | None = None,
    **overrides: Any,
) -> AsyncIterator[Running]:
    """``async with running(timing="manual") as mock: await mock.http.post(...)``"""
    settings = settings or Settings.load(**{"seed": 1, **overrides})
    clock = clock or VirtualClock(start=T0, rate=0.0)
    app = create_app(settings, clock=clock, http=http)
    async with app.router.lifespan_context(app):
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url="http://mock.test") as client:
            yield Running(app, client, clock)
