"""An in-process mock on a state file (``create_app(store=...)``) with its lifespan running."""

from __future__ import annotations

import contextlib
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import httpx

from gateway_helpers import KEY, T0, T2I
from mock_gateway.config.settings import Settings
from mock_gateway.persistence.keeper import StateKeeper
from mock_gateway.persistence.options import StoreOptions
from mock_gateway.persistence.store import StateStore
from mock_gateway.steering.clock import VirtualClock
from mock_gateway.web.app import create_app
from mock_helpers import Running


@contextlib.asynccontextmanager
async def stateful(
    path: Path, *, options: StoreOptions | None = None, **overrides: Any
) -> AsyncIterator[Running]:
    """A mock kept in ``path``; leaving the block stops it cleanly (the last commit)."""
    settings = Settings.load(**{"seed": 1, **overrides})
    store = StateStore.open(path, options)
    app = create_app(settings, clock=VirtualClock(start=T0, rate=0.0), store=store)
    async with app.router.lifespan_context(app):
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url="http://mock.test") as client:
            yield Running(app, client, app.state.mock.clock)


def keeper_of(mock: Running) -> StateKeeper:
    keeper = mock.state.durability
    assert isinstance(keeper, StateKeeper)
    return keeper


async def submit(mock: Running, body: dict[str, Any] | None = None, path: str = T2I) -> str:
    response = await mock.http.post(path, json=body or {"prompt": "a lighthouse"}, headers=KEY)
    assert response.status_code == 202, response.text
    request_id: str = response.json()["request_id"]
    return request_id


async def poll(mock: Running, request_id: str) -> dict[str, Any]:
    response = await mock.http.get(f"/v2/requests/status/{request_id}", headers=KEY)
    assert response.status_code == 200, response.text
    body: dict[str, Any] = response.json()
    return body


async def media(mock: Running, body: dict[str, Any]) -> list[bytes]:
    """The bytes of every output image a completed status body names."""
    shown: list[bytes] = []
    for url in body["output"]["media_url"]:
        response = await mock.http.get(httpx.URL(url).path)
        assert response.status_code == 200
        shown.append(response.content)
    return shown
