"""Helpers for the client's tests: mock settings, servers on 127.0.0.1, sample images.

Everything binds to 127.0.0.1; nothing here touches the internet. Jobs are made to finish in
tens of milliseconds (a test-only timing profile) and polls are tiny, so the suite is quick.
"""

from __future__ import annotations

import io
import sys
import tomllib
from dataclasses import replace
from pathlib import Path
from typing import TYPE_CHECKING, Any

import httpx

ROOT = Path(__file__).resolve().parents[2]
if str(ROOT) not in sys.path:  # the project may not be pip-installed in this venv yet
    sys.path.insert(0, str(ROOT))

from PIL import Image  # noqa: E402

from seedream_client import AsyncGateway, PollPolicy  # noqa: E402

if TYPE_CHECKING:
    from mock_gateway.config.settings import Settings

SAMPLE_URL = (
    "https://pub-582b7213209642b9b995c96c95a30381.r2.dev/byteplus/1757499948018-hntkjsg9kj.jpg"
)
SAMPLE_URL_2 = "https://pub-582b7213209642b9b995c96c95a30381.r2.dev/model.png"
WEBHOOK_SECRET = "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw"
TINY_POLL = PollPolicy(initial=0.01, multiplier=1.5, maximum=0.05)
# A key whose rate limit answers Retry-After: 1, so a test can honour it for real in 1 s.
QUICK_LIMITED = {"key": "quick-limited-key", "balance_usd": "100", "rate_limits": {"submit": "1/s"}}


def _keys() -> list[dict[str, Any]]:
    with (ROOT / "fixtures" / "keys.toml").open("rb") as handle:
        keys: list[dict[str, Any]] = tomllib.load(handle)["keys"]
    return [*keys, QUICK_LIMITED]


def mock_settings(*, queue_seconds: float = 0.02, **overrides: Any) -> Settings:
    """The mock's settings with the fixture keys plus ours; jobs wait ``queue_seconds`` and
    then finish almost at once, unless ``timing="manual"`` (frozen clock: jobs stay QUEUED).

    The mock is imported here, not at module level, so the client's unit tests still run
    while the mock is being changed."""
    from mock_gateway.config.settings import Settings
    from mock_gateway.core.settings import Durations, TimingProfile

    settings = Settings.load(keys=_keys(), **overrides)
    if overrides.get("timing") != "manual":
        timing = TimingProfile("test", {"default": Durations(queue_seconds, 0.05, 0.0)})
        settings = replace(settings, core=replace(settings.core, timing=timing))
    return settings


def mock_app(**overrides: Any) -> Any:
    """A fresh mock gateway ASGI app with ``mock_settings(**overrides)``."""
    from mock_gateway.web.app import create_app

    return create_app(mock_settings(**overrides))


def png_bytes(size: tuple[int, int] = (64, 48), fmt: str = "PNG") -> bytes:
    buffer = io.BytesIO()
    Image.new("RGB", size, (200, 60, 30)).save(buffer, format=fmt)
    return buffer.getvalue()


class InProcess:
    """A fresh mock app per test, reached through httpx's ASGI transport (lifespan running)."""

    def __init__(self, app: Any) -> None:
        self.app = app
        self.base_url = "http://mock.test"
        self.clients: list[httpx.AsyncClient] = []

    def transport(self) -> httpx.AsyncBaseTransport:
        return httpx.ASGITransport(app=self.app)

    def gateway(self, key: str = "test-key", **kw: Any) -> AsyncGateway:
        kw.setdefault("poll", TINY_POLL)
        http = httpx.AsyncClient(transport=kw.pop("transport", None) or self.transport())
        self.clients.append(http)
        return AsyncGateway(key, self.base_url, http_client=http, **kw)
