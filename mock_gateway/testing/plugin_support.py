"""What the pytest plugin's fixtures are made of (imported only when a fixture is used)."""

from __future__ import annotations

import contextlib
import uuid
from collections.abc import Iterator, Mapping
from pathlib import Path
from typing import Any

import httpx

from mock_gateway.config.settings import Settings
from mock_gateway.testing.controller import ControlError, MockController, SnapshotSource
from mock_gateway.testing.server_thread import ServerThread
from mock_gateway.web.app import create_app


@contextlib.contextmanager
def start_server(
    *,
    scenario: str | None = None,
    seed: int | None = None,
    timing: str | None = None,
    **settings: Any,
) -> Iterator[ServerThread]:
    """A mock on a free loopback port with these settings (config file names), stopped after."""
    loaded = Settings.load(scenario=scenario, seed=seed, timing=timing, **settings)
    with ServerThread(create_app(loaded)) as server:
        yield server


class MockGateway(MockController):
    """The ``mock_gateway`` fixture: a controller bound to this test's key, plus the server.

    ``base_url``   where to point the client under test
    ``key``        a funded key of this test's own; ``headers`` carries it
    ``keys``       the configured test keys (``test-key``, ``broke-key`` ...), shared
    """

    def __init__(self, server: ServerThread, key: str) -> None:
        token = server.app.state.mock.settings.control_token  # the fixture may always steer
        super().__init__(server.base_url, key=key, token=token, transport=server.transport())
        self.server = server

    def start_from(self, snapshot: SnapshotSource | None) -> None:
        """Restore ``snapshot`` (None: keep the state as it is), then make sure this test's
        own key exists, funded with $100 when the snapshot did not have it."""
        if snapshot is not None:
            self.restore(snapshot)
            try:
                self.key_info()
                return
            except ControlError as exc:
                if exc.status != 404:
                    raise
        self.put_key(self.key, balance_usd="100", note="this test's own key")

    @property
    def controller(self) -> MockController:
        return self

    @property
    def headers(self) -> dict[str, str]:
        """The auth header for this test's key (add ``Content-Type`` for submits)."""
        return {"Ocp-Apim-Subscription-Key": self._key(None)}

    @property
    def keys(self) -> list[str]:
        return [str(info["key"]) for info in self._every("/keys", "keys")]

    def url(self, path: str) -> str:
        return f"{self.base_url}/{path.lstrip('/')}"

    def new_key(self, balance_usd: str = "100", **fields: Any) -> str:
        """Another key for this test (``forbidden``, ``rate_limits``, ``note`` ...)."""
        key = f"{self.key}-{uuid.uuid4().hex[:8]}"
        self.put_key(key, balance_usd=balance_usd, **fields)
        return key

    def asgi_transport(self) -> httpx.AsyncBaseTransport:
        """For ``httpx.AsyncClient(transport=...)``: the same mock, reached in-process
        (no sockets), so the fastest tests share this fixture's state and clock."""
        return self.server.asgi_transport()

    def transport(self) -> httpx.BaseTransport:
        """The same for a synchronous ``httpx.Client``."""
        return self.server.transport()


def marked_snapshot(args: tuple[Any, ...], test_file: Path) -> SnapshotSource:
    """The ``mock_gateway_snapshot`` marker's one argument: a dict, or a path (relative to
    the test file when it exists there, else to the working directory)."""
    if len(args) != 1:
        raise TypeError("mock_gateway_snapshot takes one argument: a snapshot or its path")
    (snapshot,) = args
    if isinstance(snapshot, Mapping):
        return snapshot
    path = Path(snapshot)
    beside = test_file.parent / path
    return beside if not path.is_absolute() and beside.exists() else path
