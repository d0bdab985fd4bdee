"""pytest plugin (entry point ``pytest11``): a running mock gateway for every test.

Fixtures:

- ``mock_gateway``: a real uvicorn server on a free port of 127.0.0.1, reset before each
  test, plus a funded key of the test's own; the object is a ``MockController`` bound to
  that key (``set_balance``, ``advance``, ``freeze``, ``inject_fault``, ``requests``,
  ``webhooks``, ``reset`` ...) with ``base_url``, ``key``, ``headers`` and
  ``asgi_transport()`` for in-process calls. ``@pytest.mark.mock_gateway(scenario="flaky",
  timing="manual", seed=1, ...)`` gives a test a dedicated server with those settings.
- ``mock_gateway_snapshot``: the snapshot the ``mock_gateway`` fixture's mock starts from
  (None: the configured start state). ``@pytest.mark.mock_gateway_snapshot("state.json")``
  (a path relative to the test file, or a dict from ``snapshot()``) sets it for one test;
  overriding the fixture sets it for a module or a whole conftest. The test's own key is
  added (funded, $100) unless the snapshot has it.
- ``webhook_receiver``: a loopback HTTP server that records callbacks and can be told to
  fail the next N.
- ``gateway_proxy``: ``mock-gateway proxy`` in front of the ``mock_gateway`` fixture's mock
  (``base_url``, ``key``, ``headers``, ``mock``, ``report()``, ``violations()``,
  ``assert_no_violations()``); ``@pytest.mark.gateway_proxy(max_spend_usd="0.10",
  reject_invalid=True, record_dir=...)`` sets its options.

pytest loads this module in every session, so importing it must do nothing: the mock, uvicorn
and httpx are imported only when a fixture is first used.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterator
from typing import TYPE_CHECKING, Any

import pytest

if TYPE_CHECKING:
    from mock_gateway.testing.plugin_support import MockGateway
    from mock_gateway.testing.proxy_support import GatewayProxy
    from mock_gateway.testing.server_thread import ServerThread
    from seedream_contracts.loopback import LoopbackReceiver


def pytest_addoption(parser: pytest.Parser) -> None:
    group = parser.getgroup("mock_gateway", "Seedream gateway mock")
    group.addoption(
        "--mock-gateway-scenario",
        default=None,
        metavar="NAME|PATH",
        help="scenario of the mock_gateway fixture's shared server (default: none)",
    )
    group.addoption(
        "--mock-gateway-seed",
        type=int,
        default=None,
        help="seed of the mock_gateway fixture's shared server (repeatable ids and faults)",
    )


def pytest_configure(config: pytest.Config) -> None:
    config.addinivalue_line(
        "markers",
        "mock_gateway(scenario=None, timing=None, seed=None, **settings): run this test "
        "against a dedicated mock gateway with these settings",
    )
    config.addinivalue_line(
        "markers",
        "mock_gateway_snapshot(snapshot): start this test's mock_gateway from a snapshot "
        "(a dict, or the path of its JSON file relative to the test file)",
    )
    config.addinivalue_line(
        "markers",
        "gateway_proxy(max_spend_usd=None, reject_invalid=False, record_dir=None, ...): "
        "options of the gateway_proxy fixture",
    )


@pytest.fixture(scope="session")
def mock_gateway_server(pytestconfig: pytest.Config) -> Iterator[ServerThread]:
    """The shared server (one per session, so one per pytest-xdist worker)."""
    from mock_gateway.testing.plugin_support import start_server

    scenario = pytestconfig.getoption("--mock-gateway-scenario", None)
    seed = pytestconfig.getoption("--mock-gateway-seed", None)
    with start_server(scenario=scenario, seed=seed) as server:
        yield server


def _test_key(nodeid: str) -> str:
    """A key unique to the test and stable across runs (so seeded journals repeat)."""
    return "pytest-" + hashlib.sha256(nodeid.encode()).hexdigest()[:16]


@pytest.fixture
def mock_gateway_snapshot(request: pytest.FixtureRequest) -> Any:
    """The snapshot ``mock_gateway`` starts from: the ``mock_gateway_snapshot`` marker's, or
    None (the configured start state). Override this fixture to give one to many tests."""
    from mock_gateway.testing.plugin_support import marked_snapshot

    marker = request.node.get_closest_marker("mock_gateway_snapshot")
    return None if marker is None else marked_snapshot(marker.args, request.path)


@pytest.fixture
def mock_gateway(
    request: pytest.FixtureRequest, mock_gateway_snapshot: Any
) -> Iterator[MockGateway]:
    """A mock gateway with fresh state (or ``mock_gateway_snapshot``'s) and a funded key of
    this test's own ($100)."""
    from mock_gateway.testing.plugin_support import MockGateway, start_server

    marker = request.node.get_closest_marker("mock_gateway")
    key = _test_key(request.node.nodeid)
    if marker is None:
        server: ServerThread = request.getfixturevalue("mock_gateway_server")
        with MockGateway(server, key) as gateway:
            gateway.reset()
            gateway.start_from(mock_gateway_snapshot)
            yield gateway
        return
    settings: dict[str, Any] = dict(marker.kwargs)
    with start_server(**settings) as dedicated, MockGateway(dedicated, key) as gateway:
        gateway.start_from(mock_gateway_snapshot)
        yield gateway


@pytest.fixture
def webhook_receiver() -> Iterator[LoopbackReceiver]:
    """A loopback receiver: ``.url``, ``.fail(n)``, ``.wait_for(count)``, ``.bodies()``."""
    from seedream_contracts.loopback import LoopbackReceiver

    with LoopbackReceiver() as receiver:
        yield receiver


@pytest.fixture
def gateway_proxy(
    request: pytest.FixtureRequest, mock_gateway: MockGateway
) -> Iterator[GatewayProxy]:
    """A validating proxy in front of this test's mock (``mock_gateway``): point the client
    under test at ``gateway_proxy.base_url``, then check ``gateway_proxy.violations()``."""
    from mock_gateway.testing.proxy_support import GatewayProxy

    marker = request.node.get_closest_marker("gateway_proxy")
    with GatewayProxy.start(mock_gateway, **(dict(marker.kwargs) if marker else {})) as proxy:
        yield proxy
