"""Property: whatever a snapshot is changed into, ``POST /_mock/restore`` never answers 500.

Hypothesis mutates a valid snapshot (a value replaced by arbitrary JSON, a field deleted or
added, an item repeated). Either the mock refuses it (a 400 naming a field, and its state is
exactly what it was) or accepts it, and then every read of the control API, every poll and
a clock step still answer below 500 (so the checks on restore are enough for the rest of
the mock).
"""

from __future__ import annotations

import base64
import copy
import io
import json
from collections.abc import Iterator
from typing import Any

import httpx
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from PIL import Image

from gateway_helpers import BP_EDIT, KEY, T0, T2I
from mock_gateway.config.settings import Settings
from mock_gateway.steering.clock import VirtualClock
from mock_gateway.testing.server_thread import ServerThread
from mock_gateway.web.app import create_app

Path = tuple[str | int, ...]
SCALARS: st.SearchStrategy[Any] = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(-(2**64), 2**64),
    st.integers(-2, 5000),
    st.floats(allow_nan=False, allow_infinity=False),
    st.text(max_size=12),
    st.sampled_from(["COMPLETED", "QUEUED", "pending", "test-key", "f1", "image/png", "1.5"]),
)
JSON = st.recursive(
    SCALARS,
    lambda inner: (
        st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=6), inner, max_size=3)
    ),
    max_leaves=6,
)


def paths(node: Any, here: Path = ()) -> Iterator[Path]:
    """Every place in the snapshot a mutation may hit (not inside long arrays: the random
    generators' 625 words would swamp the rest)."""
    yield here
    if isinstance(node, dict):
        for name, value in node.items():
            yield from paths(value, (*here, name))
    elif isinstance(node, list) and len(node) <= 20:
        for index, value in enumerate(node):
            yield from paths(value, (*here, index))


def mutate(data: dict[str, Any], path: Path, kind: str, value: Any) -> Any:
    if not path:
        return value
    data = copy.deepcopy(data)
    parent: Any = data
    for part in path[:-1]:
        parent = parent[part]
    last = path[-1]
    if kind == "delete" and isinstance(parent, dict):
        del parent[last]
    elif kind == "add" and isinstance(parent[last], dict):
        parent[last]["extra_field"] = value
    elif kind == "repeat" and isinstance(parent[last], list) and parent[last]:
        parent[last].append(copy.deepcopy(parent[last][0]))
    else:
        parent[last] = value
    return data


@pytest.fixture(scope="module")
def client() -> Iterator[httpx.Client]:
    app = create_app(
        Settings.load(seed=3, timing="manual", workers=1), clock=VirtualClock(T0, rate=0.0)
    )
    server = ServerThread(app)
    with server, httpx.Client(transport=server.transport(), base_url=server.base_url) as http:
        yield http


def busy_snapshot(http: httpx.Client) -> dict[str, Any]:
    buffer = io.BytesIO()
    Image.new("RGB", (64, 48), (9, 99, 199)).save(buffer, "PNG")
    image = "data:image/png;base64," + base64.b64encode(buffer.getvalue()).decode()
    http.put("/_mock/keys/test-key", json={"rate_limits": {"status": "100/m"}})
    http.post("/_mock/faults", json={"status": 503, "endpoint": "status", "times": 2})
    hooked = {**KEY, "X-Webhook-URL": "http://127.0.0.1:9/hook"}  # refused: a retry waits
    for body, headers, path in [
        ({"prompt": "a"}, hooked, T2I),
        ({"model": "seedream-4-5-251128", "prompt": "b", "image": image}, KEY, BP_EDIT),
        ({"prompt": "c"}, KEY, T2I),
    ]:
        assert http.post(path, json=body, headers=headers).status_code == 202
    http.post("/_mock/clock/advance", json={"seconds": 3, "settle_seconds": 5})
    http.post("/_mock/clock/advance", json={"seconds": 0.5, "settle_seconds": 5})
    for job in http.get("/_mock/jobs").json()["jobs"]:
        http.get(f"/v2/requests/status/{job['request_id']}", headers=KEY)
    data: dict[str, Any] = http.post("/_mock/snapshot").json()
    return data


def still_answers(http: httpx.Client, data: Any) -> None:
    """After an accepted restore nothing the mock serves fails."""
    for route in ("/jobs", "/webhooks?wait=0", "/requests", "/faults", "/keys", "/clock"):
        answer = http.get(f"/_mock{route}")
        assert answer.status_code < 500, (route, answer.text)
    http.delete("/_mock/faults")  # a restored rule may answer 503 on purpose
    for job in data.get("jobs", []) if isinstance(data, dict) else []:
        headers = {"Ocp-Apim-Subscription-Key": str(job.get("owner"))}
        polled = http.get(f"/v2/requests/status/{job.get('request_id')}", headers=headers)
        assert polled.status_code < 500, polled.text
    stepped = http.post("/_mock/clock/advance", json={"seconds": 30, "settle_seconds": 0})
    assert stepped.status_code < 500, stepped.text
    assert http.post(T2I, json={"prompt": "z"}, headers=KEY).status_code < 500


def test_no_mutated_snapshot_makes_restore_fail(client: httpx.Client) -> None:
    good = busy_snapshot(client)
    assert {job["status"] for job in good["jobs"]} == {"COMPLETED", "PROCESSING", "QUEUED"}
    assert good["webhooks"]["scheduled"] and good["faults"]["rules"]
    places = list(paths(good))

    @settings(
        max_examples=120,
        deadline=None,
        derandomize=True,
        suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
    )
    @given(
        place=st.sampled_from(places),
        kind=st.sampled_from(["replace", "replace", "delete", "add", "repeat"]),
        value=JSON,
    )
    def check(place: Path, kind: str, value: Any) -> None:
        bad = mutate(good, place, kind, value)
        answer = client.post("/_mock/restore", content=json.dumps(bad))
        assert answer.status_code in (200, 400), (place, kind, value, answer.text)
        if answer.status_code == 400:
            assert answer.json()["message"], answer.text
            assert client.post("/_mock/snapshot").json() == good, (place, kind, value)
            return
        try:
            still_answers(client, bad)
        finally:
            assert client.post("/_mock/restore", content=json.dumps(good)).status_code == 200

    check()


# -- a restored mock goes on as the original: random histories ----------------------------

TEAM = {"Ocp-Apim-Subscription-Key": "team"}
OPERATIONS: st.SearchStrategy[tuple[str, Any]] = st.one_of(
    st.tuples(st.just("submit"), st.tuples(st.sampled_from(["a", "unsafe b"]), st.booleans())),
    st.tuples(st.just("advance"), st.sampled_from([0.5, 1.0, 2.5, 30.0])),
    st.tuples(
        st.just("fault"),
        st.sampled_from(
            [
                {"status": 503, "endpoint": "status", "times": 2},
                {"outcome": "ERROR", "times": 1},
                {"status": 500, "endpoint": "submit", "probability": 0.5, "times": 3},
                {"latency_ms": 1, "probability": 0.3},
            ]
        ),
    ),
    st.tuples(st.just("balance"), st.sampled_from(["0.04", "5"])),
    st.tuples(st.just("limit"), st.sampled_from(["2/m", None])),
    st.tuples(st.just("poll"), st.none()),
)


def play(http: httpx.Client, operations: list[tuple[str, Any]]) -> list[tuple[int, bytes]]:
    """Carry out ``operations``; what the client saw (status codes and bodies)."""
    seen: list[tuple[int, bytes]] = []
    for name, argument in operations:
        if name == "submit":
            prompt, team = argument
            answer = http.post(T2I, json={"prompt": prompt}, headers=TEAM if team else KEY)
        elif name == "advance":
            answer = http.post("/_mock/clock/advance", json={"seconds": argument})
        elif name == "fault":
            answer = http.post("/_mock/faults", json=argument)
        elif name == "balance":
            answer = http.put("/_mock/keys/team", json={"balance_usd": argument})
        elif name == "limit":
            answer = http.put("/_mock/keys/team", json={"rate_limits": {"submit": argument}})
        else:
            for job in http.get("/_mock/jobs").json()["jobs"]:
                key = {"Ocp-Apim-Subscription-Key": job["key"]}
                polled = http.get(f"/v2/requests/status/{job['request_id']}", headers=key)
                seen.append((polled.status_code, polled.content))
            continue
        seen.append((answer.status_code, answer.content))
    return seen


@pytest.fixture(scope="module")
def twins() -> Iterator[tuple[httpx.Client, httpx.Client]]:
    """Two mocks with the same settings (a seed, a frozen clock), reached as one host."""
    configured = Settings.load(seed=11, timing="manual", workers=2)
    servers = [ServerThread(create_app(configured, clock=VirtualClock(T0, rate=0.0))) for _ in "ab"]
    with servers[0], servers[1]:
        clients = [
            httpx.Client(transport=server.transport(), base_url="http://mock.test")
            for server in servers
        ]
        with clients[0], clients[1]:
            yield clients[0], clients[1]


def test_a_restored_mock_goes_on_as_the_original(twins: tuple[httpx.Client, httpx.Client]) -> None:
    original, restored = twins

    @settings(max_examples=40, deadline=None, derandomize=True)
    @given(before=st.lists(OPERATIONS, max_size=8), after=st.lists(OPERATIONS, max_size=8))
    def check(before: list[tuple[str, Any]], after: list[tuple[str, Any]]) -> None:
        original.post("/_mock/reset")
        original.put("/_mock/keys/team", json={"balance_usd": "1"})
        play(original, before)
        taken = original.post("/_mock/snapshot").json()
        assert restored.post("/_mock/restore", json=taken).status_code == 200
        assert play(restored, after) == play(original, after), (before, after)
        mine, theirs = (client.post("/_mock/snapshot").json() for client in twins)
        for name in ("accounts", "jobs", "faults", "rng", "queue", "journal", "hygiene"):
            assert mine[name] == theirs[name], name

    check()
