"""Snapshots (issue 17): a restored mock behaves exactly as the one the snapshot came from.

A busy mock (jobs in every status, an edit of real pixels, a refund, a webhook waiting for
its retry, fault rules part used, --any-key accounts, rate-limit buckets) is snapshotted
and restored into a fresh mock; then both get the same calls and must give the same bytes.
"""

from __future__ import annotations

import base64
import copy
import io
import json
from collections.abc import AsyncIterator
from typing import Any

import pytest
from PIL import Image

from gateway_helpers import BP_EDIT, CAT, EDIT, KEY, T0, T2I
from mock_gateway.config.settings import Settings
from mock_gateway.persistence.codec import (
    FORMAT,
    SECTIONS,
    SnapshotRefused,
    job_from_record,
    job_record,
    restore,
    section,
    snapshot,
)
from mock_gateway.steering.clock import VirtualClock
from mock_helpers import Running, running
from seedream_contracts.loopback import LoopbackReceiver

pytestmark = pytest.mark.anyio
TEAM = {"Ocp-Apim-Subscription-Key": "team"}
STRANGER = {"Ocp-Apim-Subscription-Key": "made-by-any-key"}


def settings() -> Settings:
    return Settings.load(seed=7, timing="manual", workers=2, any_key=True)


def png_data_url(color: tuple[int, int, int]) -> str:
    buffer = io.BytesIO()
    Image.new("RGB", (96, 64), color).save(buffer, "PNG")
    return "data:image/png;base64," + base64.b64encode(buffer.getvalue()).decode()


async def submit(mock: Running, path: str, body: dict[str, Any], headers: dict[str, str]) -> str:
    answer = await mock.http.post(path, json=body, headers=headers)
    assert answer.status_code == 202, answer.text
    request_id: str = answer.json()["request_id"]
    return request_id


async def make_busy(mock: Running, receiver: LoopbackReceiver) -> dict[str, dict[str, str]]:
    """Every kind of state a snapshot must hold; returns the request ids and their keys."""
    await mock.control("PUT", "/keys/team", {"balance_usd": "1.5", "note": "ours"})
    await mock.control("PUT", "/keys/team", {"rate_limits": {"submit": "20/m"}})
    await mock.control(
        "POST", "/faults", {"outcome": "ERROR", "times": 1, "prompt_contains": "oops"}
    )
    await mock.control(
        "POST", "/faults", {"status": 503, "endpoint": "status", "times": 3, "key": "team"}
    )
    await mock.control("POST", "/faults", {"latency_ms": 1, "probability": 0.5, "note": "dice"})
    receiver.fail(2)
    hooked = {**KEY, "X-Webhook-URL": receiver.url}
    pixels = {"model": "seedream-4-5-251128", "prompt": "edit", "image": png_data_url((200, 9, 9))}
    calls: list[tuple[str, dict[str, Any], dict[str, str]]] = [
        (T2I, {"prompt": "with a webhook"}, hooked),
        (EDIT, {"prompt": "edit a sample", "image_urls": [CAT]}, TEAM),
        (BP_EDIT, pixels, KEY),
        (T2I, {"prompt": "oops, an error"}, KEY),
        (T2I, {"prompt": "unsafe"}, KEY),
        (T2I, {"prompt": "a stranger", "num_images": 2}, STRANGER),
    ]
    ids = {await submit(mock, path, body, headers): headers for path, body, headers in calls}
    await mock.control("POST", "/clock/advance", {"seconds": 3})  # 2 done, 2 running, 2 wait
    await mock.control("POST", "/clock/advance", {"seconds": 2.5})  # the webhook failed twice
    ids[await submit(mock, T2I, {"prompt": "still queued"}, KEY)] = KEY
    for request_id in list(ids)[:2]:
        await mock.http.get(f"/v2/requests/status/{request_id}", headers=ids[request_id])
    return {
        request_id: {"Ocp-Apim-Subscription-Key": h["Ocp-Apim-Subscription-Key"]}
        for request_id, h in ids.items()
    }


async def observe(mock: Running, ids: dict[str, dict[str, str]]) -> list[tuple[int, bytes]]:
    """What a client sees of every job: its status answer and each of its images."""
    seen = []
    for request_id, headers in ids.items():
        status = await mock.http.get(f"/v2/requests/status/{request_id}", headers=headers)
        seen.append((status.status_code, status.content))
        if status.status_code == 200 and status.json()["status"] == "COMPLETED":
            for url in status.json()["output"]["media_url"]:
                image = await mock.http.get(url)
                seen.append((image.status_code, image.content))
    return seen


@pytest.fixture
async def receiver() -> AsyncIterator[LoopbackReceiver]:
    with LoopbackReceiver() as loopback:
        yield loopback


async def test_a_restored_mock_behaves_exactly_as_the_original(receiver: LoopbackReceiver) -> None:
    async with running(settings()) as original:
        ids = await make_busy(original, receiver)
        taken = await original.control("POST", "/snapshot")
        statuses = {job["status"] for job in taken["jobs"]}
        assert statuses == {"QUEUED", "PROCESSING", "COMPLETED", "ERROR"}
        [pending] = taken["webhooks"]["deliveries"]
        assert pending["state"] == "pending" and len(pending["attempts"]) == 2
        later = VirtualClock(start=T0 + 5000, rate=0.0)  # a mock started elsewhere, later
        async with running(settings(), clock=later) as restored:
            answer = await restored.control("POST", "/restore", json.loads(json.dumps(taken)))
            assert answer["restored"] is True and answer["jobs"] == len(ids)
            assert answer["clock"]["time"] == taken["clock"]["time"]  # no jump
            assert await restored.control("POST", "/snapshot") == taken

            seen = await observe(restored, ids)
            assert seen == await observe(original, ids)
            assert [code for code, _ in seen].count(503) == 1  # the status fault had 2 left
            following = []
            for mock in (original, restored):  # the same steps: jobs, retries and refunds go on
                await mock.control("POST", "/clock/advance", {"seconds": 10})
                following.append(await submit(mock, T2I, {"prompt": "after"}, KEY))
            assert following[0] == following[1]  # the next id is the same in both (seeded)
            ids[following[0]] = KEY
            after = [await observe(mock, ids) for mock in (original, restored)]
            assert after[0] == after[1]
            assert [code for code, _ in after[0]].count(503) == 1  # and now its last
            warned = section(restored.state, "journal")["entries"][-len(after[1]) :]
            kinds = {kind for entry in warned for kind, _ in entry["warnings"]}
            assert "poll-after-terminal" in kinds  # the polls seen before the snapshot count
            for name in ("accounts", "faults", "rng", "jobs", "journal", "rate_limits"):
                assert section(restored.state, name) == section(original.state, name), name
            both = [
                await mock.control("GET", "/webhooks", params={"wait": 5})
                for mock in (original, restored)
            ]
    for listed in both:
        [delivery] = listed["webhooks"]
        assert delivery["state"] == "delivered" and len(delivery["attempts"]) == 3
    assert len(receiver.delivered) == 2  # one from each mock: the restored one went on


async def test_refunds_and_charges_happen_once_across_a_restore() -> None:
    async with running(settings()) as original:
        await original.control("POST", "/faults", {"outcome": "ERROR", "times": 1})
        await submit(original, T2I, {"prompt": "x"}, KEY)
        await original.control("POST", "/clock/advance", {"seconds": 5})
        assert await original.balance() == "100"  # charged, then refunded
        taken = await original.control("POST", "/snapshot")
        async with running(settings()) as restored:
            await restored.control("POST", "/restore", taken)
            await restored.control("POST", "/clock/advance", {"seconds": 60})
            assert await restored.balance() == "100"
            [job] = (await restored.control("GET", "/jobs"))["jobs"]
            assert job["status"] == "ERROR"


async def test_round_trip_is_a_fixed_point(receiver: LoopbackReceiver) -> None:
    async with running(settings()) as original:
        await make_busy(original, receiver)
        first = snapshot(original.state)
        async with running(settings()) as other:
            restore(other.state, json.loads(json.dumps(first)))
            second = snapshot(other.state)
            restore(other.state, second)
            assert snapshot(other.state) == second == first
    assert first["format"] == FORMAT and set(first) == {"format", "jobs", *SECTIONS}


async def test_one_job_round_trips_with_its_input_pixels() -> None:
    async with running(settings()) as mock:
        body = {"model": "seedream-4-5-251128", "prompt": "e", "image": png_data_url((1, 2, 3))}
        request_id = await submit(mock, BP_EDIT, body, KEY)
        job = mock.state.core.queue.get(request_id)
        assert job is not None and job.spec.input_images
        record = job_record(job)
        again = job_from_record(json.loads(json.dumps(record)))
        assert job_record(again) == record and again.spec == job.spec
        with pytest.raises(SnapshotRefused, match=r"^job\.spec\.width: must be an integer"):
            job_from_record({**record, "spec": {**record["spec"], "width": 0}})


async def test_reset_after_a_restore_returns_to_the_configured_start_state(
    receiver: LoopbackReceiver,
) -> None:
    configured = Settings.load(
        seed=7, timing="manual", any_key=True, faults=[{"status": 500, "endpoint": "status"}]
    )
    async with running(configured) as busy:
        await make_busy(busy, receiver)
        taken = await busy.control("POST", "/snapshot")
    async with running(configured) as mock, running(configured) as fresh:
        await mock.control("POST", "/restore", taken)
        await mock.control("POST", "/reset")
        reset, start = snapshot(mock.state), snapshot(fresh.state)
    for name in (*SECTIONS, "jobs"):
        if name == "clock":  # time never runs back; the rate is the configured one
            assert reset["clock"]["rate"] == start["clock"]["rate"] == 0.0
        elif name == "rng":  # ids never repeat within a run; the job and fault dice restart
            assert reset["rng"]["core"] == start["rng"]["core"]
            assert reset["rng"]["faults"] == start["rng"]["faults"]
        else:
            assert reset[name] == start[name], name


def mutated(data: dict[str, Any], path: str, value: Any) -> dict[str, Any]:
    """``data`` with the field at ``path`` (``jobs[0].spec.width``) set to ``value``."""
    data = copy.deepcopy(data)
    node: Any = data
    parts = path.replace("[", ".").replace("]", "").split(".")
    for part in parts[:-1]:
        node = node[int(part)] if isinstance(node, list) else node[part]
    last = parts[-1]
    if isinstance(node, list):
        node[int(last)] = value
    elif value is DELETE:
        del node[last]
    else:
        node[last] = value
    return data


DELETE = object()
REFUSED = [
    ("format", 2, "format: 2 is newer"),
    ("format", "1", "format: must be an integer"),
    ("clock.rate", -1, "clock.rate: must be a number"),
    ("clock.time", float("nan"), "clock.time: must be a number"),
    ("jobs", DELETE, "jobs: is missing"),
    ("jobz", [], "jobz: unknown field"),
    ("accounts[0].balance_usd", "-1", "accounts[0].balance_usd"),
    ("accounts[0].rate_limits", {"media": None}, "accounts[0].rate_limits"),
    ("jobs[0].spec.width", 0, "jobs[0].spec.width: must be an integer from 1 to 4096"),
    ("jobs[0].spec.media_type", "image/gif", "jobs[0].spec.media_type"),
    ("jobs[0].spec.input_images", ["not base64!"], "jobs[0].spec.input_images[0]"),
    ("jobs[0].spec.webhook_url", "ftp://x", "jobs[0].spec.webhook_url"),
    ("jobs[0].status", "DONE", "jobs[0].status: must be one of"),
    ("jobs[0].owner", "nobody", "jobs[0].owner: no account has this key"),
    ("jobs[0].started_at", None, "jobs[0].started_at: must be set for COMPLETED"),
    ("jobs[0].completed_at", 1.0, "jobs[0].completed_at: cannot be before"),
    ("jobs[1].request_id", "x/../y", "jobs[1].request_id"),
    ("rng.core", [3, [1, 2], None], "rng.core"),
    ("faults.rules[0].rule", {"status": 99}, "faults.rules[0].rule: status"),
    ("faults.rules[0].id", "f99", "faults.rules[0].id"),
    ("journal.entries[0].status", 99, "journal.entries[0].status"),
    ("journal.entries[0].warnings", [["only a kind"]], "journal.entries[0].warnings[0]"),
    ("queue.unreported", ["nope"], "queue.unreported[0]"),
    ("rate_limits", [["team", "media", 1, 1]], "rate_limits[0].group"),
]


@pytest.mark.parametrize(("path", "value", "message"), REFUSED, ids=[r[0] for r in REFUSED])
async def test_a_bad_snapshot_is_refused_naming_the_field_and_nothing_changes(
    path: str, value: Any, message: str
) -> None:
    async with running(settings()) as mock:
        await mock.control("POST", "/faults", {"status": 500, "endpoint": "status", "times": 1})
        await mock.control("PUT", "/keys/test-key", {"rate_limits": {"submit": "10/m"}})
        await submit(mock, T2I, {"prompt": "x"}, KEY)
        await submit(mock, T2I, {"prompt": "y"}, KEY)
        await mock.control("POST", "/clock/advance", {"seconds": 3})
        good = await mock.control("POST", "/snapshot")
        assert good["journal"]["entries"] and good["rate_limits"]
        bad = mutated(good, path, value)
        answer = await mock.http.post("/_mock/restore", content=json.dumps(bad))
        assert answer.status_code == 400, answer.text
        assert message in answer.json()["message"] and answer.json()["error"] == "Bad Request"
        assert await mock.control("POST", "/snapshot") == good


@pytest.mark.parametrize("body", [b"", b"{", b"[]", b'"snapshot"', b"null"])
async def test_a_body_that_is_no_snapshot_gets_a_400(body: bytes) -> None:
    async with running(settings()) as mock:
        before = await mock.control("POST", "/snapshot")
        answer = await mock.http.post("/_mock/restore", content=body)
        assert answer.status_code == 400 and answer.json()["message"].startswith(
            ("body", "snapshot")
        )
        assert await mock.control("POST", "/snapshot") == before


async def test_the_snapshot_is_what_the_control_document_describes(
    receiver: LoopbackReceiver,
) -> None:
    """The documented Snapshot schema accepts what the mock writes (openapi-spec-validator
    checks the document itself)."""
    from jsonschema import Draft202012Validator

    from mock_gateway.web.routes.control import control_openapi

    components = control_openapi()["components"]
    validator = Draft202012Validator(
        {"$ref": "#/components/schemas/Snapshot", "components": components}
    )
    async with running(settings()) as mock:
        await make_busy(mock, receiver)
        taken = await mock.control("POST", "/snapshot")
    errors = [f"{list(e.absolute_path)}: {e.message}" for e in validator.iter_errors(taken)]
    assert not errors, errors
    assert not validator.is_valid({**taken, "jobz": []})


async def test_ids_go_on_from_a_seeded_snapshot_and_an_unseeded_one_leaves_ours() -> None:
    seeded, unseeded = settings(), Settings.load(timing="manual")
    async with running(seeded) as a, running(unseeded) as b, running(seeded) as c:
        await submit(a, T2I, {"prompt": "x"}, KEY)
        restore(b.state, snapshot(a.state))  # a seeded snapshot into an unseeded mock
        restore(c.state, snapshot(b.state))  # the restored state carries a's id generator
        following = [await submit(mock, T2I, {"prompt": "y"}, KEY) for mock in (a, b, c)]
        assert following[0] == following[1] == following[2]
        async with running(unseeded) as d:
            assert snapshot(d.state)["rng"]["ids"] is None
            restore(c.state, snapshot(d.state))  # "ids": null: c keeps the source it had
        assert await submit(c, T2I, {"prompt": "z"}, KEY) == await submit(
            a, T2I, {"prompt": "z"}, KEY
        )


async def test_a_big_snapshot_is_checked_off_the_event_loop_just_as_strictly() -> None:
    from mock_gateway.web.routes.control_snapshot import INLINE_CHECK

    async with running(settings()) as mock:
        big_body = {"detail": "x" * INLINE_CHECK}
        await mock.control(
            "POST", "/faults", {"status": 500, "body": big_body, "endpoint": "status"}
        )
        await submit(mock, T2I, {"prompt": "x"}, KEY)
        taken = await mock.control("POST", "/snapshot")
        assert len(json.dumps(taken)) > INLINE_CHECK
        bad = mutated(taken, "jobs[0].spec.height", 5000)
        refused = await mock.http.post("/_mock/restore", content=json.dumps(bad))
        assert refused.status_code == 400
        assert refused.json()["message"].startswith("jobs[0].spec.height: must be an integer")
        assert await mock.control("POST", "/snapshot") == taken
        await mock.control("POST", "/reset")
        assert (await mock.control("POST", "/restore", taken))["jobs"] == 1
        assert await mock.control("POST", "/snapshot") == taken


async def test_an_attempt_in_flight_is_due_again_after_a_restore(
    receiver: LoopbackReceiver,
) -> None:
    """At least once: a snapshot taken while a callback is on the wire has it due at once."""
    import anyio

    receiver.slow_down(1.0)
    async with running(settings()) as original:
        await submit(original, T2I, {"prompt": "x"}, {**KEY, "X-Webhook-URL": receiver.url})
        await original.control("POST", "/clock/advance", {"seconds": 3, "settle_seconds": 0})
        with anyio.fail_after(10):
            while original.state.webhooks.in_flight == 0:
                await anyio.sleep(0.01)
        taken = await original.control("POST", "/snapshot")
        [delivery] = taken["webhooks"]["deliveries"]
        assert delivery["state"] == "pending" and delivery["next_at"] == taken["clock"]["time"]
        assert taken["webhooks"]["scheduled"] == [delivery["id"]] and not delivery["attempts"]
        receiver.slow_down(0)
        async with running(settings()) as restored:
            await restored.control("POST", "/restore", taken)
            [done] = (await restored.control("GET", "/webhooks", params={"wait": 5}))["webhooks"]
            assert done["state"] == "delivered"
        receiver.wait_for(2)  # the original's attempt arrives too: twice, never zero times


async def test_a_snapshot_without_the_logs_restores_them_as_empty() -> None:
    from mock_gateway.persistence.codec import REQUIRED
    from mock_gateway.web.routes.control import control_openapi

    async with running(settings()) as mock:
        await submit(mock, T2I, {"prompt": "x"}, KEY)
        taken = await mock.control("POST", "/snapshot", {"without": ["journal", "hygiene"]})
        assert "journal" not in taken and "hygiene" not in taken and taken["jobs"]
        await mock.control("POST", "/restore", taken)
        assert (await mock.control("GET", "/requests"))["requests"] == []
        assert len((await mock.control("GET", "/jobs"))["jobs"]) == 1
        for wrong in (["jobs"], "journal", ["nope"]):
            answer = await mock.http.post("/_mock/snapshot", json={"without": wrong})
            assert answer.status_code == 400 and answer.json()["message"].startswith("without:")
    documented = control_openapi()["paths"]["/_mock/snapshot"]["post"]["requestBody"]
    enum = documented["content"]["application/json"]["schema"]["properties"]["without"]
    assert enum["items"]["enum"] == [name for name in SECTIONS if name not in REQUIRED]
