"""The pytest plugin, used the way a user would: from a separate test suite in its own
pytest process (the entry point loads it; nothing is imported by hand)."""

from __future__ import annotations

import os
import subprocess
import sys
import textwrap
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent

USER_SUITE = """
import httpx
import pytest

T2I = "/seedream-5-0-lite-text-to-image/v1/seedream-5-0-lite-text-to-image-request"


def submit(mock_gateway, prompt="x", **headers):
    with httpx.Client(base_url=mock_gateway.base_url) as http:
        return http.post(T2I, json={"prompt": prompt}, headers={**mock_gateway.headers, **headers})


def test_a_fault_left_behind(mock_gateway):
    mock_gateway.inject_fault(status=500)  # never cleared: the next test must not see it
    assert submit(mock_gateway).status_code == 500


def test_the_next_test_starts_fresh(mock_gateway):
    assert mock_gateway.faults() == []
    assert submit(mock_gateway).status_code == 202
    assert [entry["status"] for entry in mock_gateway.requests()] == [202]
    assert mock_gateway.key.startswith("pytest-") and mock_gateway.key != "test-key"
    assert "test-key" in mock_gateway.keys


def test_the_scenario_option_applies_to_the_shared_server(mock_gateway):
    codes = [submit(mock_gateway, f"p{i}").status_code for i in range(6)]
    assert codes == [202] * 5 + [429]  # rate-limited: 5 submits a minute


def test_the_seed_option_makes_draws_repeat(mock_gateway):
    def draws():
        mock_gateway.clear_faults()
        mock_gateway.inject_fault(status=500, probability=0.9)
        return [submit(mock_gateway, f"p{i}").status_code for i in range(5)]

    first = draws()
    mock_gateway.reset()  # re-seeds the fault RNG from --mock-gateway-seed
    mock_gateway.put_key(balance_usd="100")
    assert draws() == first and set(first) == {202, 500}


def test_sync_transport_and_extra_keys(mock_gateway):
    broke = mock_gateway.new_key(balance_usd="0")
    with httpx.Client(transport=mock_gateway.transport(), base_url=mock_gateway.base_url) as http:
        answer = http.post(T2I, json={"prompt": "x"}, headers={"Ocp-Apim-Subscription-Key": broke})
    assert answer.status_code == 402


def test_receiver_told_to_fail(mock_gateway, webhook_receiver):
    webhook_receiver.fail(1, status=503)
    mock_gateway.freeze()
    assert submit(mock_gateway, **{"X-Webhook-URL": webhook_receiver.url}).status_code == 202
    mock_gateway.advance(30)
    [delivery] = mock_gateway.webhooks()
    assert [a["status"] for a in delivery["attempts"]] == [503, 200]
    assert [c.answered for c in webhook_receiver.callbacks] == [503, 200]


@pytest.mark.mock_gateway(timing="manual", control={"token": "t0k"})
def test_marker_settings_reach_a_dedicated_server(mock_gateway):
    assert mock_gateway.clock()["frozen"] is True  # the fixture's controller has the token
    with httpx.Client(base_url=mock_gateway.base_url) as http:
        assert http.get("/_mock/clock").status_code == 401
        assert http.get("/_mock/clock", headers={"Authorization": "Bearer t0k"}).status_code == 200
"""


def run_suite(tmp_path: Path, code: str, *args: str) -> subprocess.CompletedProcess[str]:
    (tmp_path / "test_users_suite.py").write_text(textwrap.dedent(code))
    command = [sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", *args]
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    return subprocess.run(
        command, cwd=tmp_path, capture_output=True, text=True, timeout=120, env=env, check=False
    )


def test_a_users_suite_gets_fresh_isolated_state(tmp_path: Path) -> None:
    result = run_suite(
        tmp_path,
        USER_SUITE,
        "--mock-gateway-scenario",
        "rate-limited",
        "--mock-gateway-seed",
        "5",
    )
    output = result.stdout + result.stderr
    assert "7 passed" in output, output


PARALLEL_SUITE = """
import time
from decimal import Decimal

import httpx
import pytest

T2I = "/seedream-5-0-lite-text-to-image/v1/seedream-5-0-lite-text-to-image-request"


@pytest.mark.parametrize("n", range(8))
def test_parallel_tests_do_not_see_each_other(mock_gateway, n):
    mock_gateway.set_balance(f"{n + 1}")
    mock_gateway.inject_fault(status=503, prompt_contains=f"mine-{n}")
    with httpx.Client(base_url=mock_gateway.base_url, headers=mock_gateway.headers) as http:
        assert http.post(T2I, json={"prompt": f"mine-{n}"}).status_code == 503
        time.sleep(0.05)  # overlap with the other worker's tests
        assert http.post(T2I, json={"prompt": f"other-{n}"}).status_code == 202
    assert mock_gateway.balance() == Decimal(n + 1) - Decimal("0.035")
    assert [entry["status"] for entry in mock_gateway.requests()] == [503, 202]
    assert len(mock_gateway.faults()) == 1
"""


def test_parallel_workers_are_isolated(tmp_path: Path) -> None:
    result = run_suite(tmp_path, PARALLEL_SUITE, "-n", "2")
    output = result.stdout + result.stderr
    assert "8 passed" in output, output


def test_importing_the_plugin_imports_nothing_heavy() -> None:
    probe = (
        "import sys, mock_gateway.testing.pytest_plugin as p; "
        "heavy = {'uvicorn', 'httpx', 'starlette', 'mock_gateway.web.app', 'jsonschema', 'PIL'}; "
        "print(sorted(heavy & set(sys.modules)))"
    )
    result = subprocess.run(
        [sys.executable, "-c", probe],
        capture_output=True,
        text=True,
        timeout=60,
        check=True,
        env={**os.environ, "PYTHONPATH": str(ROOT)},
    )
    assert result.stdout.strip() == "[]"
