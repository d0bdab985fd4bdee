"""Snapshots from Python: ``MockController.snapshot/restore`` and the pytest plugin's
``mock_gateway_snapshot`` (marker and fixture), used as a user's suite would use them."""

from __future__ import annotations

import json
from pathlib import Path

import httpx
import pytest

from gateway_helpers import T2I
from mock_gateway.testing.controller import ControlError, MockController
from mock_gateway.testing.plugin_support import start_server
from test_plugin import run_suite

TEAM = {"Ocp-Apim-Subscription-Key": "team"}


def prepared_state(path: Path) -> str:
    """A state a colleague prepared: key "team" with $2 and one finished job. Returns its id."""
    with (
        start_server(timing="manual", seed=4) as server,
        MockController(server.base_url, transport=server.transport()) as control,
        httpx.Client(base_url=server.base_url, transport=server.transport()) as http,
    ):
        control.put_key("team", balance_usd="2")
        accepted = http.post(T2I, json={"prompt": "prepared"}, headers=TEAM)
        control.advance(5)
        taken = control.snapshot(path)
    assert json.loads(path.read_text()) == taken
    request_id: str = accepted.json()["request_id"]
    return request_id


def test_controller_snapshot_and_restore(tmp_path: Path) -> None:
    request_id = prepared_state(tmp_path / "state.json")
    with (
        start_server(seed=9, timing="manual") as server,
        MockController(server.base_url, transport=server.transport()) as control,
        httpx.Client(base_url=server.base_url, transport=server.transport()) as http,
    ):
        before = control.snapshot()
        with pytest.raises(ControlError) as refused:
            control.restore({**before, "format": 99})
        assert refused.value.status == 400 and refused.value.message.startswith("format: 99")
        assert control.snapshot() == before
        answer = control.restore(tmp_path / "state.json")
        assert answer["restored"] is True and answer["jobs"] == 1
        polled = http.get(f"/v2/requests/status/{request_id}", headers=TEAM)
        assert polled.json()["status"] == "COMPLETED"
        assert str(control.balance("team")) == "1.965"
        control.restore(before)
        assert control.snapshot() == before


USER_SUITE = """
import json
from decimal import Decimal
from pathlib import Path

import httpx
import pytest

STATE = json.loads((Path(__file__).parent / "state.json").read_text())
REQUEST_ID = STATE["jobs"][0]["request_id"]


def poll(mock_gateway, key="team"):
    with httpx.Client(base_url=mock_gateway.base_url) as http:
        headers = {"Ocp-Apim-Subscription-Key": key}
        return http.get(f"/v2/requests/status/{REQUEST_ID}", headers=headers)


@pytest.mark.mock_gateway_snapshot("state.json")
def test_a_snapshot_file_beside_the_test(mock_gateway):
    assert poll(mock_gateway).json()["status"] == "COMPLETED"
    assert mock_gateway.balance("team") == Decimal("1.965")
    assert mock_gateway.balance() == Decimal("100")  # the test's own key was added


def test_the_next_test_starts_from_the_configured_state(mock_gateway):
    assert poll(mock_gateway).status_code == 401  # no key "team" any more


@pytest.mark.mock_gateway(timing="manual")
@pytest.mark.mock_gateway_snapshot(STATE)
def test_a_dict_on_a_dedicated_server(mock_gateway):
    assert poll(mock_gateway).json()["status"] == "COMPLETED"


class TestAFixtureOverride:
    @pytest.fixture
    def mock_gateway_snapshot(self):
        return STATE

    def test_every_test_here_starts_from_it(self, mock_gateway):
        assert poll(mock_gateway).json()["status"] == "COMPLETED"


@pytest.mark.mock_gateway_snapshot({**STATE, "format": 99})
def test_a_bad_snapshot_is_an_error_naming_the_field(mock_gateway):
    pass
"""


def test_the_plugin_starts_tests_from_a_snapshot(tmp_path: Path) -> None:
    prepared_state(tmp_path / "state.json")
    result = run_suite(tmp_path, USER_SUITE)
    output = result.stdout + result.stderr
    assert "4 passed, 1 error" in output, output
    assert "400: format: 99 is newer than this mock reads (1)" in output, output
