"""Fault rules: every kind, the filters, times and seeded probabilities, over HTTP."""

from __future__ import annotations

import datetime
import time
from pathlib import Path
from typing import Any

import httpx
import pytest

from gateway_helpers import BP_T2I, KEY, T2I
from mock_gateway.config.settings import ConfigError, Settings, fault_endpoints
from mock_gateway.core import JobStatus
from mock_gateway.steering.faults import Call, FaultBook, FaultError, parse_rule
from mock_gateway.testing.server_thread import ServerThread
from mock_gateway.web.app import create_app
from mock_helpers import running

pytestmark = pytest.mark.anyio
ENDPOINTS = fault_endpoints()
SUBMIT = Call("submit", "liteTextToImageSubmit", frozenset({"seedream-5-0-lite-text-to-image"}))


def test_the_issue_examples_are_accepted_as_written() -> None:
    answer = parse_rule({"status": 500, "times": 1}, ENDPOINTS)
    assert answer.status == 500 and answer.times == 1 and answer.endpoint is None
    outcome = parse_rule({"outcome": "ERROR", "error": "GPU lost", "times": 1}, ENDPOINTS)
    assert outcome.outcome is JobStatus.ERROR and outcome.error == "GPU lost"
    narrowed = parse_rule(
        {
            "endpoint": T2I,
            "model": "seedream-5-0-lite-text-to-image",
            "key": "k",
            "prompt_contains": "lion",
            "probability": 0.5,
            "latency_ms": 20,
            "drop_connection": True,
        },
        ENDPOINTS,
    )
    assert narrowed.endpoint == "liteTextToImageSubmit" and narrowed.drop_connection


@pytest.mark.parametrize(
    ("rule", "fragment"),
    [
        ({"times": 1}, "needs an action"),
        ({"status": 500, "drop_connection": True}, "cannot be combined"),
        ({"outcome": "ERROR", "endpoint": "status"}, "applies to submits"),
        ({"status": 500, "endpoint": "media"}, "endpoint: must be one of"),
        ({"status": 500, "probabilty": 0.5}, "probabilty: unknown field"),
        ({"latency_ms": 1, "body": {}}, "only make sense with status"),
        # a scenario file's TOML can hold a date, which no JSON answer could carry
        ({"status": 500, "body": {"at": datetime.date(2026, 1, 1)}}, "body: must be plain JSON"),
        ({"status": 500, "body": float("nan")}, "body: must be plain JSON"),
    ],
)
def test_unusable_rules_name_the_problem(rule: dict[str, Any], fragment: str) -> None:
    with pytest.raises(FaultError, match=fragment):
        parse_rule(rule, ENDPOINTS)


def test_times_and_first_decisive_rule_wins() -> None:
    book = FaultBook(seed=1)
    book.add(parse_rule({"latency_ms": 5}, ENDPOINTS))
    book.add(parse_rule({"status": 503, "times": 2}, ENDPOINTS))
    book.add(parse_rule({"status": 500}, ENDPOINTS))
    decisions = [book.decide(SUBMIT) for _ in range(3)]
    statuses = [d.answer.status for d in decisions if d and d.answer]
    assert statuses == [503, 503, 500]
    assert all(d is not None and d.latency_ms == 5 for d in decisions)


def test_seeded_probabilities_repeat_run_to_run() -> None:
    def pattern(seed: int) -> list[bool]:
        book = FaultBook(seed=seed)
        book.add(parse_rule({"status": 500, "probability": 0.3}, ENDPOINTS))
        return [book.decide(SUBMIT) is not None for _ in range(200)]

    assert pattern(7) == pattern(7)
    assert pattern(7) != pattern(8)
    assert 30 < sum(pattern(7)) < 90


async def test_next_gateway_call_gets_500_then_normal_service() -> None:
    async with running() as mock:
        await mock.control("POST", "/faults", {"status": 500, "times": 1})
        first = await mock.http.post(T2I, json={"prompt": "x"}, headers=KEY)
        second = await mock.http.post(T2I, json={"prompt": "x"}, headers=KEY)
        assert first.status_code == 500 and first.json()["error"] == "Internal Server Error"
        assert second.status_code == 202
        assert await mock.balance() == "99.965"  # the faulted submit was never charged
        [rule] = (await mock.control("GET", "/faults"))["faults"]
        assert rule["fired"] == 1 and rule["remaining"] == 0


@pytest.mark.parametrize(
    ("status", "shape"),
    [
        (400, {"error": "Bad Request"}),
        (401, {"statusCode": 401}),
        (402, {"error": "Insufficient Balance"}),
        (403, {"statusCode": 403}),
        (429, {"statusCode": 429}),
        (500, {"error": "Internal Server Error"}),
        (502, {"error": "Bad Gateway"}),
        (503, {"error": "Service Unavailable"}),
    ],
)
async def test_each_status_gets_the_shape_the_gateway_would_use(
    status: int, shape: dict[str, Any]
) -> None:
    async with running() as mock:
        await mock.control("POST", "/faults", {"status": status, "endpoint": "submit"})
        answer = await mock.http.post(T2I, json={"prompt": "x"}, headers=KEY)
    assert answer.status_code == status
    assert shape.items() <= answer.json().items() and answer.json()["message"]
    if status == 429:
        assert answer.headers["retry-after"] == "1"
    if status == 402:
        assert answer.json()["message"].endswith("Required: $0.035")


async def test_custom_body_headers_and_retry_after_on_the_status_endpoint() -> None:
    async with running() as mock:
        accepted = (await mock.http.post(T2I, json={"prompt": "x"}, headers=KEY)).json()
        rule = {
            "endpoint": "status",
            "status": 429,
            "retry_after": 7,
            "body": {"statusCode": 429, "message": "slow down"},
            "headers": {"X-Trace": "abc"},
        }
        await mock.control("POST", "/faults", rule)
        limited = await mock.http.get(accepted["polling_url"], headers=KEY)
        assert limited.status_code == 429 and limited.json()["message"] == "slow down"
        assert limited.headers["retry-after"] == "7" and limited.headers["x-trace"] == "abc"
        # Submits are not matched by a status rule.
        assert (await mock.http.post(T2I, json={"prompt": "y"}, headers=KEY)).status_code == 202


@pytest.mark.parametrize(("outcome", "balance"), [("ERROR", "100"), ("FAILED", "99.965")])
async def test_outcome_rules_end_the_job_and_error_is_refunded(outcome: str, balance: str) -> None:
    async with running() as mock:
        rule = {"outcome": outcome, "error": "GPU lost", "times": 1}
        await mock.control("POST", "/faults", rule)
        accepted = (await mock.http.post(T2I, json={"prompt": "x"}, headers=KEY)).json()
        await mock.control("POST", "/clock/advance", {"seconds": 10})
        final = (await mock.http.get(accepted["polling_url"], headers=KEY)).json()
        assert final["status"] == outcome and final["error"] == "GPU lost"
        assert final["output"] is None
        assert await mock.balance() == balance


async def test_filters_by_endpoint_model_key_and_prompt() -> None:
    async with running() as mock:
        await mock.control("PUT", "/keys/other", {"balance_usd": "10"})
        other = {"Ocp-Apim-Subscription-Key": "other"}
        rules = [
            {"status": 503, "model": "byteplus"},
            {"status": 502, "key": "other", "endpoint": "liteTextToImageSubmit"},
            {"status": 500, "prompt_contains": "LION"},
        ]
        await mock.control("POST", "/faults", rules)
        calls = [
            (BP_T2I, {"prompt": "cat"}, KEY),
            (T2I, {"prompt": "cat"}, other),
            (T2I, {"prompt": "a lion at dusk"}, KEY),
            (T2I, {"prompt": "cat"}, KEY),
        ]
        codes = [(await mock.http.post(p, json=b, headers=h)).status_code for p, b, h in calls]
    assert codes == [503, 502, 500, 202]


async def test_latency_delays_the_answer_in_real_time() -> None:
    async with running() as mock:
        await mock.control("POST", "/faults", {"latency_ms": 150, "times": 1})
        started = time.perf_counter()
        answer = await mock.http.post(T2I, json={"prompt": "x"}, headers=KEY)
        assert answer.status_code == 202 and time.perf_counter() - started >= 0.15
        [entry] = (await mock.control("GET", "/requests"))["requests"]
        assert entry["faults"] == ["f1"]


async def test_drop_connection_in_process_raises_what_httpx_raises() -> None:
    async with running() as mock:
        await mock.control("POST", "/faults", {"drop_connection": True, "times": 1})
        with pytest.raises(httpx.RemoteProtocolError):
            await mock.http.post(T2I, json={"prompt": "x"}, headers=KEY)
        assert (await mock.http.post(T2I, json={"prompt": "x"}, headers=KEY)).status_code == 202
        entries = (await mock.control("GET", "/requests"))["requests"]
        assert [entry["status"] for entry in entries] == [None, 202]
        assert await mock.balance() == "99.965"


def test_drop_connection_over_a_real_socket() -> None:
    server = ServerThread(create_app(Settings.load(seed=1)))
    with server, httpx.Client(base_url=server.base_url) as http:
        rule = {"drop_connection": True, "endpoint": "status", "times": 1}
        assert http.post("/_mock/faults", json=rule).status_code == 201
        with pytest.raises(httpx.RemoteProtocolError):
            http.get("/v2/requests/status/byteplus_x", headers=KEY)
        assert http.get("/v2/requests/status/byteplus_x", headers=KEY).status_code == 404


async def test_configured_faults_apply_from_the_start() -> None:
    settings = Settings.load(seed=1, faults=[{"status": 503, "times": 1}])
    async with running(settings) as mock:
        codes = [(await mock.http.post(T2I, json={"prompt": "x"}, headers=KEY)).status_code]
        codes.append((await mock.http.post(T2I, json={"prompt": "x"}, headers=KEY)).status_code)
        await mock.control("POST", "/reset")
        codes.append((await mock.http.post(T2I, json={"prompt": "x"}, headers=KEY)).status_code)
    assert codes == [503, 202, 503]


async def test_delete_one_rule_or_a_keys_rules() -> None:
    async with running() as mock:
        added = await mock.control(
            "POST", "/faults", [{"status": 500}, {"status": 502, "key": "a"}]
        )
        ids = [rule["id"] for rule in added["faults"]]
        assert (await mock.http.delete(f"/_mock/faults/{ids[0]}")).status_code == 204
        assert (await mock.control("DELETE", "/faults", params={"key": "a"}))["removed"] == 1
        assert (await mock.control("GET", "/faults"))["faults"] == []


def test_a_config_file_whose_fault_body_holds_a_toml_date_is_refused(tmp_path: Path) -> None:
    config = tmp_path / "mock.toml"
    config.write_text("[[faults]]\nstatus = 500\nbody = { at = 2026-01-01 }\n")
    with pytest.raises(ConfigError, match="body: must be plain JSON"):
        Settings.load(config)
