"""The control API (/_mock/): keys, reset, the clock, the token, and no 500 for any input."""

from __future__ import annotations

import json
from typing import Any

import httpx
import pytest
import yaml
from hypothesis import given, settings
from hypothesis import strategies as st

from gateway_helpers import KEY, T0, T2I
from mock_gateway.config.settings import Settings
from mock_gateway.steering.clock import VirtualClock
from mock_gateway.testing.server_thread import ServerThread
from mock_gateway.web.app import create_app
from mock_gateway.web.routes.control import OPENAPI_FILE
from mock_helpers import running
from url_strategies import url_like

pytestmark = pytest.mark.anyio


async def test_get_key_shows_balance_as_a_decimal_string() -> None:
    async with running() as mock:
        await mock.http.post(T2I, json={"prompt": "x"}, headers=KEY)
        info = await mock.control("GET", "/keys/test-key")
    assert info["balance_usd"] == "99.965" and info["forbidden"] is False
    assert info["key"] == "test-key"


async def test_put_key_creates_then_updates_keeping_unsent_fields() -> None:
    async with running() as mock:
        created = await mock.http.put("/_mock/keys/team-a", json={"balance_usd": 0.5})
        assert created.status_code == 201 and created.json()["balance_usd"] == "0.5"
        updated = await mock.http.put("/_mock/keys/team-a", json={"note": "ours"})
        assert updated.status_code == 200
        assert updated.json()["balance_usd"] == "0.5" and updated.json()["note"] == "ours"
        team = {"Ocp-Apim-Subscription-Key": "team-a"}
        for _ in range(14):
            assert (
                await mock.http.post(T2I, json={"prompt": "x"}, headers=team)
            ).status_code == 202
        broke = await mock.http.post(T2I, json={"prompt": "x"}, headers=team)
        assert broke.status_code == 402 and await mock.balance("team-a") == "0.01"
        listed = await mock.control("GET", "/keys")
        assert "team-a" in [entry["key"] for entry in listed["keys"]]


async def test_put_key_forbidden_and_rate_limits_take_effect() -> None:
    async with running() as mock:
        await mock.control("PUT", "/keys/test-key", {"forbidden": True})
        denied = await mock.http.post(T2I, json={"prompt": "x"}, headers=KEY)
        assert denied.status_code == 403 and denied.json()["statusCode"] == 403
        await mock.control(
            "PUT", "/keys/test-key", {"forbidden": False, "rate_limits": {"submit": "1/m"}}
        )
        codes = [(await mock.http.post(T2I, json={"prompt": "x"}, headers=KEY)).status_code]
        codes.append((await mock.http.post(T2I, json={"prompt": "y"}, headers=KEY)).status_code)
        assert codes == [202, 429]
        info = await mock.control("PUT", "/keys/test-key", {"rate_limits": {"submit": None}})
        assert info["rate_limits"] == {}
        assert (await mock.http.post(T2I, json={"prompt": "z"}, headers=KEY)).status_code == 202


async def test_delete_key_removes_it_with_its_jobs() -> None:
    async with running() as mock:
        await mock.control("PUT", "/keys/temp", {"balance_usd": "1"})
        temp = {"Ocp-Apim-Subscription-Key": "temp"}
        accepted = (await mock.http.post(T2I, json={"prompt": "x"}, headers=temp)).json()
        assert (await mock.http.delete("/_mock/keys/temp")).status_code == 204
        assert (await mock.http.get(accepted["polling_url"], headers=temp)).status_code == 401
        assert (await mock.http.delete("/_mock/keys/temp")).status_code == 404
        assert (await mock.http.get("/_mock/keys/temp")).status_code == 404


async def test_reset_returns_to_the_configured_start_state() -> None:
    settings = Settings.load(seed=1, faults=[{"status": 503, "endpoint": "status"}])
    async with running(settings) as mock:
        await mock.control("PUT", "/keys/extra", {"balance_usd": "3"})
        await mock.control("PUT", "/keys/test-key", {"balance_usd": "1"})
        await mock.control("DELETE", "/faults")
        await mock.control("POST", "/clock/rate", {"rate": 5})
        await mock.http.post(T2I, json={"prompt": "x"}, headers=KEY)
        answer = await mock.control("POST", "/reset")
        assert answer["clock"]["rate"] == 0.0  # back to the injected clock's own rate
        assert await mock.balance() == "100"
        assert (await mock.http.get("/_mock/keys/extra")).status_code == 404
        assert [rule["status"] for rule in (await mock.control("GET", "/faults"))["faults"]] == [
            503
        ]
        assert (await mock.control("GET", "/requests"))["requests"] == []


async def test_clock_steps_a_job_through_every_status() -> None:
    async with running(timing="manual") as mock:
        accepted = (await mock.http.post(T2I, json={"prompt": "x"}, headers=KEY)).json()
        seen = [(await mock.http.get(accepted["polling_url"], headers=KEY)).json()["status"]]
        for seconds in (1, 2):  # manual timing: 1 s queued, then 2 s processing
            clock = await mock.control("POST", "/clock/advance", {"seconds": seconds})
            assert clock["frozen"] is True
            status = await mock.http.get(accepted["polling_url"], headers=KEY)
            seen.append(status.json()["status"])
    assert seen == ["QUEUED", "PROCESSING", "COMPLETED"]


async def test_clock_freeze_resume_and_time_scale() -> None:
    async with running() as mock:
        before = await mock.control("GET", "/clock")
        assert before["frozen"] is True and before["now"].endswith("Z")
        assert (await mock.control("POST", "/clock/resume", {"rate": 10}))["rate"] == 10
        assert (await mock.control("POST", "/clock/rate", {"rate": 2.5}))["rate"] == 2.5
        assert (await mock.control("POST", "/clock/freeze"))["frozen"] is True
        assert (await mock.control("POST", "/clock/resume"))["rate"] == 1.0
        after = await mock.control("POST", "/clock/advance", {"seconds": 60})
        assert after["time"] >= before["time"] + 60


@pytest.mark.parametrize(
    "headers",
    [{"Authorization": "Bearer s3cret"}, {"X-Mock-Control-Token": "s3cret"}],
    ids=["bearer", "header"],
)
async def test_control_token_is_required_when_set(headers: dict[str, str]) -> None:
    settings = Settings.load(seed=1, control={"token": "s3cret"})
    async with running(settings) as mock:
        for wrong in ({}, {"Authorization": "Bearer nope"}, {"X-Mock-Control-Token": "x"}):
            denied = await mock.http.get("/_mock/clock", headers=wrong)
            assert denied.status_code == 401 and "--control-token" in denied.json()["message"]
        assert (await mock.http.get("/_mock/clock", headers=headers)).status_code == 200
        # The gateway itself is unaffected by the control token.
        assert (await mock.http.post(T2I, json={"prompt": "x"}, headers=KEY)).status_code == 202


async def test_no_control_means_no_control_routes() -> None:
    async with running(Settings.load(control={"enabled": False})) as mock:
        for path in ("/_mock/clock", "/_mock/keys/test-key", "/_mock/openapi.json"):
            response = await mock.http.get(path)
            assert response.status_code == 404
            assert response.json() == {"statusCode": 404, "message": "Resource not found"}


BAD_INPUT: list[tuple[str, str, Any]] = [
    ("PUT", "/keys/k", b"{not json"),
    ("PUT", "/keys/k", [1, 2]),
    ("PUT", "/keys/k", {"balance_usd": "lots"}),
    ("PUT", "/keys/k", {"balance_usd": -1}),
    ("PUT", "/keys/k", {"balance_usd": "1e400"}),
    ("PUT", "/keys/k", {"balance_usd": "NaN"}),
    ("PUT", "/keys/k", {"balance_usd": True}),
    ("PUT", "/keys/k", {"balance_usd": "0.0000001"}),
    ("PUT", "/keys/k", {"balance": 1}),
    ("PUT", "/keys/k", {"forbidden": "yes"}),
    ("PUT", "/keys/k", {"rate_limits": "10/m"}),
    ("PUT", "/keys/k", {"rate_limits": {"media": "1/s"}}),
    ("PUT", "/keys/k", {"rate_limits": {"submit": "lots"}}),
    ("PUT", "/keys/k", {"rate_limits": {"submit": 10}}),
    ("PUT", "/keys/" + "k" * 300, {}),
    ("POST", "/clock/advance", {}),
    ("POST", "/clock/advance", {"seconds": -1}),
    ("POST", "/clock/advance", {"seconds": "5"}),
    ("POST", "/clock/advance", {"seconds": 1e308}),
    ("POST", "/clock/advance", {"seconds": 1, "settle_seconds": -2}),
    ("POST", "/clock/advance", b"[]"),
    ("POST", "/clock/resume", {"rate": 0}),
    ("POST", "/clock/rate", {"rate": -1}),
    ("POST", "/clock/rate", {"speed": 2}),
    ("POST", "/clock/freeze", {"now": True}),
    ("POST", "/faults", {}),
    ("POST", "/faults", {"status": 99}),
    ("POST", "/faults", {"status": "500"}),
    ("POST", "/faults", {"status": 500, "outcome": "ERROR"}),
    ("POST", "/faults", {"outcome": "COMPLETED"}),
    ("POST", "/faults", {"outcome": "ERROR", "endpoint": "status"}),
    ("POST", "/faults", {"status": 500, "endpoint": "/nowhere"}),
    ("POST", "/faults", {"status": 500, "probability": 2}),
    ("POST", "/faults", {"status": 500, "times": 0}),
    ("POST", "/faults", {"latency_ms": -5}),
    ("POST", "/faults", {"error": "x"}),
    ("POST", "/faults", {"body": {}}),
    ("POST", "/faults", {"status": 500, "headers": {"a": 1}}),
    ("POST", "/faults", {"status": 500, "stauts": 1}),
    ("POST", "/faults", [{"status": 500}, "nope"]),
    ("POST", "/faults", "500"),
    ("DELETE", "/faults/f999", None),
    ("GET", "/requests?status=abc", None),
    ("GET", "/requests?since=yesterday", None),
    ("GET", "/requests?limit=-1", None),
    ("GET", "/requests?stauts=200", None),
    ("GET", "/requests?warned=maybe", None),
    ("GET", "/webhooks?state=lost", None),
    ("GET", "/webhooks?wait=1000", None),
    ("GET", "/keys/nobody", None),
    ("GET", "/nothing-here", None),
]


@pytest.mark.parametrize(("method", "path", "body"), BAD_INPUT)
async def test_bad_control_input_gets_a_clear_4xx(method: str, path: str, body: Any) -> None:
    async with running() as mock:
        content = body if isinstance(body, bytes) else None
        payload = None if isinstance(body, bytes) or body is None else body
        response = await mock.http.request(
            method,
            f"/_mock{path}",
            content=content,
            json=payload,
            headers={"Content-Type": "application/json"},
        )
    assert 400 <= response.status_code < 500, response.text
    answer = response.json()
    assert answer.get("message"), answer


async def test_control_openapi_documents_every_control_route() -> None:
    document = yaml.safe_load(OPENAPI_FILE.read_text())
    documented = {
        (method.upper(), path)
        for path, item in document["paths"].items()
        for method in item
        if method in ("get", "put", "post", "delete")
    }
    async with running() as mock:
        served = (await mock.http.get("/_mock/openapi.json")).json()
        routes = {
            (method, route.path.replace("{key:path}", "{key}"))
            for route in mock.app.routes
            if route.path.startswith("/_mock")
            for method in route.methods
            if method != "HEAD"
        }
    assert served == document
    assert routes == documented


async def test_control_calls_stay_out_of_the_journal() -> None:
    async with running() as mock:
        await mock.control("GET", "/clock")
        await mock.http.get("/_health")
        await mock.http.post(T2I, json={"prompt": "x"}, headers=KEY)
        entries = (await mock.control("GET", "/requests"))["requests"]
    assert [entry["path"] for entry in entries] == [T2I]


FIELDS = ["balance_usd", "forbidden", "rate_limits", "note", "seconds", "rate", "settle_seconds"]
FIELDS += ["status", "outcome", "error", "times", "probability", "endpoint", "model", "key"]
FIELDS += ["prompt_contains", "latency_ms", "drop_connection", "body", "headers", "retry_after"]
SCALARS: st.SearchStrategy[Any] = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(-(2**70), 2**70),
    st.floats(allow_nan=True, allow_infinity=True),
    st.text(max_size=12),
    url_like,  # an endpoint "or a path", a key in a URL path: strings that look like URLs
    st.sampled_from(["10/m", "ERROR"]),
)
JSON = st.recursive(
    SCALARS,
    lambda inner: (
        st.lists(inner, max_size=3)
        | st.dictionaries(st.sampled_from(FIELDS) | st.text(max_size=5), inner, max_size=4)
    ),
    max_leaves=8,
)
TARGETS = [
    ("PUT", "/_mock/keys/fuzz"),
    ("POST", "/_mock/clock/advance"),
    ("POST", "/_mock/clock/resume"),
    ("POST", "/_mock/clock/rate"),
    ("POST", "/_mock/faults"),
]


def test_no_json_body_makes_a_control_endpoint_fail() -> None:
    """Property: whatever JSON a test sends (NaN and Infinity included), the control API
    answers below 500."""
    app = create_app(Settings.load(seed=1), clock=VirtualClock(start=T0, rate=0.0))
    server = ServerThread(app)
    with server, httpx.Client(transport=server.transport(), base_url=server.base_url) as client:

        @settings(max_examples=150, deadline=None, derandomize=True)
        @given(target=st.sampled_from(TARGETS), body=JSON)
        def check(target: tuple[str, str], body: Any) -> None:
            method, path = target
            response = client.request(method, path, content=json.dumps(body))
            assert response.status_code < 500, (target, body, response.text)
            client.post("/_mock/clock/freeze")  # keep the clock frozen for the next case

        check()
