"""A proxy (``mock-gateway proxy``'s app) in front of any upstream, for the proxy's tests."""

from __future__ import annotations

import contextlib
from collections.abc import Iterator
from typing import Any

import httpx

from mock_gateway.proxy.app import create_proxy_app
from mock_gateway.proxy.settings import ProxySettings
from mock_gateway.testing.server_thread import ServerThread


@contextlib.contextmanager
def proxy_client(
    upstream: str, *, key: str | None = "test-key", **options: Any
) -> Iterator[httpx.Client]:
    """An HTTP client of a proxy to ``upstream`` (``base_url`` is the proxy's), sending
    ``key``; ``options`` are ``ProxySettings`` fields."""
    headers = {"Ocp-Apim-Subscription-Key": key} if key else {}
    app = create_proxy_app(ProxySettings(upstream, **options))
    with (
        ServerThread(app) as proxy,
        httpx.Client(base_url=proxy.base_url, headers=headers, trust_env=False) as http,
    ):
        yield http


def report(http: httpx.Client) -> dict[str, Any]:
    found: dict[str, Any] = http.get("/_proxy/report").json()
    return found


def rules(http: httpx.Client) -> list[str]:
    return [violation["rule"] for violation in report(http)["violations"]]
