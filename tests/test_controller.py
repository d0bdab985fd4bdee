"""MockController's key and fault helpers against a real mock on 127.0.0.1."""

from __future__ import annotations

from collections.abc import Iterator

import httpx
import pytest

from gateway_helpers import KEY, T2I
from mock_gateway.config.settings import Settings
from mock_gateway.testing.controller import ControlError, MockController
from mock_gateway.testing.server_thread import ServerThread
from mock_gateway.web.app import create_app


@pytest.fixture(scope="module")
def server() -> Iterator[ServerThread]:
    with ServerThread(create_app(Settings.load(seed=1))) as running:
        yield running


@pytest.fixture
def control(server: ServerThread) -> Iterator[MockController]:
    with MockController(server.base_url, key="test-key") as controller:
        controller.reset()
        yield controller


def submit(server: ServerThread) -> int:
    with httpx.Client(base_url=server.base_url) as http:
        return http.post(T2I, json={"prompt": "x"}, headers=KEY).status_code


def test_remove_fault_drops_one_rule_by_its_id(
    server: ServerThread, control: MockController
) -> None:
    first = control.inject_fault(status=503)
    second = control.inject_fault(status=500, endpoint="status")
    assert submit(server) == 503
    control.remove_fault(first["id"])
    assert [rule["id"] for rule in control.faults()] == [second["id"]]
    assert submit(server) == 202
    with pytest.raises(ControlError) as refused:
        control.remove_fault(first["id"])  # already gone
    assert refused.value.status == 404


def test_forbid_turns_a_key_into_a_403_and_back(
    server: ServerThread, control: MockController
) -> None:
    assert control.forbid()["forbidden"] is True
    assert control.key_info()["forbidden"] is True
    assert submit(server) == 403
    assert control.forbid(forbidden=False)["forbidden"] is False
    assert submit(server) == 202
    other = control.forbid("other-key")  # any key, not only the bound one
    assert other["forbidden"] is True and control.key_info("other-key")["forbidden"] is True
