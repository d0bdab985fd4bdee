"""The ``gateway_proxy`` fixture: ``mock-gateway proxy`` in front of this test's mock."""

from __future__ import annotations

import contextlib
from collections.abc import Iterator
from decimal import Decimal
from pathlib import Path
from typing import Any, Self

import httpx

from mock_gateway.proxy.app import create_proxy_app
from mock_gateway.proxy.settings import ProxySettings
from mock_gateway.testing.plugin_support import MockGateway
from mock_gateway.testing.server_thread import ServerThread


class GatewayProxy:
    """A running proxy whose upstream is ``mock`` (the ``mock_gateway`` fixture).

    ``base_url``   where to point the client under test (instead of the mock)
    ``key``        the mock fixture's funded key; ``headers`` carries it
    ``mock``       the mock behind the proxy (a ``MockGateway``: steer it as usual)
    ``report()``   the proxy's ``/_proxy/report``; ``violations(rule=None)`` its violations
    """

    def __init__(self, server: ServerThread, mock: MockGateway) -> None:
        self.server = server
        self.mock = mock
        self.base_url = server.base_url
        self._http = httpx.Client(base_url=server.base_url, transport=server.transport())

    @classmethod
    @contextlib.contextmanager
    def start(cls, mock: MockGateway, **options: Any) -> Iterator[Self]:
        """``options`` are ``ProxySettings`` fields (``max_spend_usd="0.10"``,
        ``reject_invalid=True``, ``record_dir=...``, ``max_exchanges=...``)."""
        if options.get("max_spend_usd") is not None:
            options["max_spend_usd"] = Decimal(str(options["max_spend_usd"]))
        if options.get("record_dir") is not None:
            options["record_dir"] = Path(options["record_dir"])
        settings = ProxySettings(upstream=mock.base_url, **options)
        with ServerThread(create_proxy_app(settings)) as server:
            proxy = cls(server, mock)
            try:
                yield proxy
            finally:
                proxy._http.close()

    @property
    def key(self) -> str:
        return self.mock.key or ""

    @property
    def headers(self) -> dict[str, str]:
        return self.mock.headers

    def url(self, path: str) -> str:
        return f"{self.base_url}/{path.lstrip('/')}"

    def report(self) -> dict[str, Any]:
        report: dict[str, Any] = self._http.get("/_proxy/report").json()
        return report

    def violations(self, rule: str | None = None) -> list[dict[str, Any]]:
        found: list[dict[str, Any]] = self.report()["violations"]
        return [item for item in found if rule is None or item["rule"] == rule]

    def assert_no_violations(self) -> None:
        found = self.violations()
        lines = [f"{v['operation']} [{v['rule']}] {v['evidence']}" for v in found]
        assert not found, "the proxy saw contract violations:\n" + "\n".join(lines)
