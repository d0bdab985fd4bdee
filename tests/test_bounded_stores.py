"""The journal, hygiene and webhook stores are bounded by bytes, not only by entries, and
the control API's lists are paged."""

from __future__ import annotations

import json
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from gateway_helpers import BP_EDIT, CAT, KEY, T2I
from mock_gateway.steering.bounded import PATH_CAP, TEXT_CAP, ByteBoundedLog
from mock_gateway.steering.journal_body import BODY_CAP
from mock_helpers import running

pytestmark = pytest.mark.anyio


def strict_json(text: str) -> Any:
    """Parse as a strict JSON parser would: bare NaN / Infinity tokens are errors."""

    def refuse(token: str) -> Any:
        raise ValueError(f"not JSON: {token}")

    return json.loads(text, parse_constant=refuse)


async def test_huge_request_ids_are_clipped_in_the_journal_and_hygiene() -> None:
    huge = "r" * 60_000  # httpx refuses URLs over 64 KB
    async with running() as mock:
        for _ in range(30):
            await mock.http.get(f"/v2/requests/status/{huge}", headers=KEY)
        answer = await mock.control("GET", "/requests")
        hygiene_bytes = sum(len(rid) for _, rid in mock.state.hygiene._polls._items)
    entry = answer["requests"][-1]
    assert len(entry["path"]) <= PATH_CAP and len(entry["request_id"]) <= TEXT_CAP
    assert set(entry["truncated"]) == {"path", "request_id"}
    assert "(60000 characters)" in entry["request_id"]
    assert answer["kept_bytes"] < 30 * (PATH_CAP + TEXT_CAP + 1000)
    assert hygiene_bytes <= TEXT_CAP  # one (clipped) id kept, not 60 KB


async def test_the_journal_keeps_at_most_its_byte_budget() -> None:
    prompt = "y" * 4000
    async with running(control={"journal_bytes": 65536}) as mock:
        for _ in range(100):
            await mock.http.post(T2I, json={"prompt": prompt}, headers=KEY)
        answer = await mock.control("GET", "/requests")
    assert answer["max_bytes"] == 65536 and answer["kept_bytes"] <= 65536
    assert 5 < answer["total"] < 20 and answer["recorded"] == 100
    assert answer["requests"][-1]["seq"] == 100  # the newest stay


async def test_a_big_body_is_kept_abbreviated_and_says_so() -> None:
    prompt = "z" * 3000
    body = json.dumps({"prompt": prompt, "image": CAT, "pad": ["p" * 300] * 40}).encode()
    async with running() as mock:
        headers = {**KEY, "Content-Type": "application/json"}
        await mock.http.post(BP_EDIT, content=body, headers=headers)
        [entry] = (await mock.control("GET", "/requests"))["requests"]
    assert entry["body_truncated"] is True and entry["body_bytes"] == len(body) > BODY_CAP
    assert entry["body"]["prompt"].endswith("(3000 characters)")
    assert entry["truncated"] == ["body"]


async def test_the_lists_are_paged() -> None:
    async with running() as mock:
        for _ in range(25):
            await mock.http.get("/v2/requests/status/nope", headers=KEY)
        first = await mock.control("GET", "/requests", params={"limit": 10, "offset": 0})
        last = await mock.control("GET", "/requests", params={"limit": 10, "offset": 20})
        newest = await mock.control("GET", "/requests", params={"limit": 10})
        everything = await mock.control("GET", "/requests")
        too_many = await mock.http.get("/_mock/requests", params={"limit": 1001})
        for number in range(5):
            await mock.control("PUT", f"/keys/paged-{number}", {"balance_usd": "1"})
        keys = await mock.control("GET", "/keys", params={"limit": 2, "offset": 1})
        hooks = await mock.control("GET", "/webhooks", params={"limit": 5})
    assert [e["seq"] for e in first["requests"]] == list(range(1, 11))
    assert first["total"] == 25 and first["next_offset"] == 10
    assert [e["seq"] for e in last["requests"]] == list(range(21, 26))
    assert last["next_offset"] is None
    assert [e["seq"] for e in newest["requests"]] == list(range(16, 26))
    assert newest["next_offset"] is None
    assert len(everything["requests"]) == 25 and everything["next_offset"] is None
    assert too_many.status_code == 400 and "limit" in too_many.json()["message"]
    assert len(keys["keys"]) == 2 and keys["next_offset"] == 3
    assert keys["total"] == len(mock.state.core.accounts)
    assert hooks == {"webhooks": [], "total": 0, "next_offset": None}


@pytest.mark.parametrize(
    ("value", "field"),
    [
        ('"guidance_scale": NaN', "guidance_scale"),
        ('"guidance_scale": Infinity', "guidance_scale"),
        ('"guidance_scale": -Infinity', "guidance_scale"),
        ('"guidance_scale": 1e999', "guidance_scale"),
        ('"extra": {"deep": [1, NaN]}', "extra.deep[1]"),
    ],
)
async def test_nan_and_infinity_are_refused_naming_the_field(value: str, field: str) -> None:
    text = '{"prompt": "x", "image": "' + CAT + '", ' + value + "}"
    async with running() as mock:
        headers = {**KEY, "Content-Type": "application/json"}
        response = await mock.http.post(BP_EDIT, content=text.encode(), headers=headers)
        journal = await mock.http.get("/_mock/requests")
    assert response.status_code == 400
    assert response.json()["message"].startswith(f"{field}: must be a finite number")
    [entry] = strict_json(journal.text)["requests"]  # the journal stays valid JSON
    assert entry["status"] == 400


@pytest.mark.parametrize("encoding", ["utf-16", "utf-16-le", "utf-16-be", "utf-32"])
async def test_utf16_and_utf32_bodies_are_refused(encoding: str) -> None:
    body = json.dumps({"prompt": "a lion"}).encode(encoding)
    async with running() as mock:
        headers = {**KEY, "Content-Type": "application/json"}
        response = await mock.http.post(T2I, content=body, headers=headers)
    assert response.status_code == 400
    assert "must be UTF-8 encoded JSON" in response.json()["message"]


def test_the_webhook_log_keeps_at_most_its_byte_budget() -> None:
    from mock_gateway.steering.webhook_policy import WebhookSettings
    from mock_gateway.steering.webhooks import WebhookDispatcher

    hooks = WebhookDispatcher(WebhookSettings(), capacity=10_000, max_bytes=200_000)
    body = b'{"pad":"' + b"x" * 20_000 + b'"}'
    for number in range(100):
        hooks.enqueue(f"r{number}", "k", "http://127.0.0.1:9/hook", body, 0.0)
    kept = hooks.matching()
    assert 5 <= len(kept) <= 10 and kept[-1].request_id == "r99"
    assert hooks._log_bytes <= 200_000


def test_the_controller_reads_every_page() -> None:
    import httpx

    from mock_gateway.testing.controller import MockController

    entries = [{"seq": number} for number in range(2500)]
    asked: list[dict[str, str]] = []

    def answer(request: httpx.Request) -> httpx.Response:
        params = dict(request.url.params)
        asked.append(params)
        offset = int(params.get("offset", 0))
        page = entries[offset : offset + 1000]
        after = offset + len(page)
        next_offset = after if after < len(entries) else None
        body = {"requests": page, "total": len(entries), "next_offset": next_offset}
        return httpx.Response(200, json=body)

    with MockController("http://mock.test", transport=httpx.MockTransport(answer)) as control:
        found = control.requests(all_keys=True)
        one_page = control.requests(all_keys=True, limit=5)
    assert [entry["seq"] for entry in found] == list(range(2500))
    assert [params.get("offset") for params in asked[:3]] == ["0", "1000", "2000"]
    assert len(one_page) == 1000  # the fake ignores limit; the controller asked once
    assert len(asked) == 4


def test_the_controller_pages_with_a_path_filter() -> None:
    import httpx

    from mock_gateway.testing.controller import MockController

    def answer(request: httpx.Request) -> httpx.Response:
        assert request.url.params["path"] == "/v2"
        return httpx.Response(200, json={"requests": [{"seq": 1}], "next_offset": None})

    with MockController("http://mock.test", transport=httpx.MockTransport(answer)) as control:
        assert control.requests(all_keys=True, path="/v2") == [{"seq": 1}]


@pytest.mark.parametrize(
    "raw",
    [
        b"[" + b"1," * 1_000_000 + b"1]",  # no strings at all
        b'{"a":"' + b'\\"' * 1_000_000 + b'"}',  # a million escaped quotes
        json.dumps({f"k{number}": "v" * 300 for number in range(20_000)}).encode(),
        b'{"open": "never closed' + b"x" * 20_000,
    ],
)
def test_hostile_big_bodies_are_kept_as_a_bounded_prefix(raw: bytes) -> None:
    from mock_gateway.steering.journal_body import keep_body

    kept = keep_body(raw)
    assert isinstance(kept, str) and len(kept) <= BODY_CAP + 40
    assert kept.endswith(f"...({len(raw)} bytes)") or len(kept) <= BODY_CAP


def test_an_abbreviated_body_is_still_json_with_escapes_and_utf8_intact() -> None:
    from mock_gateway.steering.journal_body import keep_body, show_body

    body = {"prompt": "é" * 400, "quoted": 'a\\"b' * 200, "image": "data:," + "A" * 9000}
    raw = json.dumps(body).encode()
    shown = show_body(keep_body(raw))
    assert isinstance(shown, dict) and set(shown) == {"prompt", "quoted", "image"}
    assert shown["prompt"].startswith("é") and shown["image"].startswith("data:,AAA")


@settings(max_examples=200, deadline=None)
@given(
    capacity=st.integers(1, 6),
    max_bytes=st.integers(1, 60),
    weights=st.lists(st.integers(0, 40), max_size=40),
)
def test_a_byte_bounded_log_keeps_the_newest_entries_that_fit(
    capacity: int, max_bytes: int, weights: list[int]
) -> None:
    """Against the plain rule: after each append, the newest entries, at most ``capacity``
    of them, dropping the oldest while they weigh more than ``max_bytes`` (one always stays)."""
    log: ByteBoundedLog[int] = ByteBoundedLog(capacity, max_bytes)
    kept: list[tuple[int, int]] = []
    for number, weight in enumerate(weights):
        log.append(number, weight)
        kept = [*kept, (number, weight)][-capacity:]
        while sum(w for _, w in kept) > max_bytes and len(kept) > 1:
            kept = kept[1:]
        assert list(log) == [n for n, _ in kept] and len(log) == len(kept)
        assert log.total_bytes == sum(w for _, w in kept)
    log.clear()
    assert list(log) == [] and log.total_bytes == 0
