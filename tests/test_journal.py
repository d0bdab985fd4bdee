"""The request journal: what it records, its filters, its bound, and seeded determinism."""

from __future__ import annotations

import base64
from typing import Any

import pytest

from gateway_helpers import BP_EDIT, KEY, T2I
from mock_gateway.config.settings import Settings
from mock_gateway.steering.bounded import PATH_CAP, TEXT_CAP
from mock_gateway.steering.journal import (
    BODY_CAP,
    ENTRY_OVERHEAD,
    Journal,
    JournalFilter,
    JournalNote,
    redact_key,
)
from mock_helpers import Running, running

pytestmark = pytest.mark.anyio


async def journal(mock: Running, **params: Any) -> list[dict[str, Any]]:
    entries: list[dict[str, Any]] = (await mock.control("GET", "/requests", params=params))[
        "requests"
    ]
    return entries


async def test_entries_record_what_the_client_sent_and_got() -> None:
    async with running() as mock:
        accepted = await mock.http.post(T2I, json={"prompt": "a lion", "seed": 4}, headers=KEY)
        mock.clock.advance(2)
        await mock.http.get(accepted.json()["polling_url"], headers=KEY)
        await mock.http.get("/v2/requests/status/byteplus_nope?subscription-key=limited-key")
        submit, poll, other = await journal(mock)
    assert submit["method"] == "POST" and submit["path"] == T2I and submit["status"] == 202
    assert submit["key"] == "****-key" and submit["body"] == {"prompt": "a lion", "seed": 4}
    assert submit["request_id"] == accepted.json()["request_id"] == poll["request_id"]
    assert submit["at"] == "2026-04-17T11:41:06.171Z"
    assert poll["time"] - submit["time"] == pytest.approx(2) and poll["body"] is None
    assert other["status"] == 404 and other["key"] == "****-key"
    assert [entry["seq"] for entry in (submit, poll, other)] == [1, 2, 3]


async def test_filters_combine() -> None:
    async with running() as mock:
        limited = {"Ocp-Apim-Subscription-Key": "limited-key"}
        for headers in (KEY, limited, limited, limited):
            await mock.http.post(T2I, json={"prompt": "x"}, headers=headers)
            mock.clock.advance(1)
        await mock.http.get("/v2/requests/status/nope", headers=KEY)
        assert len(await journal(mock, key="limited-key")) == 3
        assert [e["status"] for e in await journal(mock, key="limited-key", status=429)] == [429]
        assert len(await journal(mock, path="/v2/requests/status")) == 1
        assert len(await journal(mock, method="get")) == 1
        since = (await journal(mock))[2]["time"]
        assert [e["seq"] for e in await journal(mock, since=since)] == [3, 4, 5]
        assert [e["seq"] for e in await journal(mock, limit=2)] == [4, 5]


async def test_the_journal_is_bounded_to_the_newest_entries() -> None:
    async with running(control={"journal_size": 5}) as mock:
        for _ in range(20):
            await mock.http.get("/v2/requests/status/nope", headers=KEY)
        answer = await mock.control("GET", "/requests")
    assert [entry["seq"] for entry in answer["requests"]] == [16, 17, 18, 19, 20]
    assert answer["recorded"] == 20 and answer["capacity"] == 5


def test_memory_stays_flat_however_many_requests_come() -> None:
    journal = Journal(capacity=1000)
    note = JournalNote("k", body=b"{}")
    for number in range(200_000):
        journal.record(float(number), "GET", "/v2/requests/status/x", "k", 200, note)
    assert len(journal) == 1000 and journal.recorded == 200_000
    newest = journal.select(JournalFilter(limit=1))
    assert newest[0]["seq"] == 200_000


async def test_big_bodies_are_abbreviated() -> None:
    big = "data:image/png;base64," + base64.b64encode(b"\x89PNG" + b"0" * 20_000).decode()
    async with running() as mock:
        await mock.http.post(BP_EDIT, json={"prompt": "x", "image": big}, headers=KEY)
        [entry] = await journal(mock)
    shown = entry["body"]["image"]
    assert shown.startswith("data:image/png;base64,") and shown.endswith(" characters)")
    assert len(shown) < 200 and entry["body"]["prompt"] == "x"


def test_keys_are_redacted_to_their_last_four_characters() -> None:
    assert redact_key("sk-live-1234567890abcd") == "****abcd"
    assert redact_key("abc") == "****" and redact_key(None) is None


async def run_script(seed: int) -> tuple[list[dict[str, Any]], list[str]]:
    """The same calls against a fresh seeded mock on a frozen clock."""
    settings = Settings.load(seed=seed, faults=[{"status": 500, "probability": 0.4}])
    async with running(settings) as mock:
        ids = []
        for index in range(12):
            response = await mock.http.post(T2I, json={"prompt": f"p{index}"}, headers=KEY)
            if response.status_code == 202:
                ids.append(response.json()["request_id"])
            mock.clock.advance(0.5)
        for request_id in ids:
            await mock.http.get(f"/v2/requests/status/{request_id}", headers=KEY)
        return await journal(mock), ids


async def test_two_seeded_runs_on_a_frozen_clock_give_identical_journals() -> None:
    first, first_ids = await run_script(seed=42)
    second, second_ids = await run_script(seed=42)
    assert first == second and first_ids == second_ids
    assert {entry["status"] for entry in first} >= {202, 500}  # the faults fired, identically
    other, _ = await run_script(seed=43)
    assert other != first


def sized(length: int, fill: str = "k") -> str:
    return fill * length


@pytest.mark.parametrize("over", ["path", "key", "request_id", "body", None])
@pytest.mark.parametrize("by", [0, 1])
def test_texts_are_kept_up_to_their_caps_and_clipped_beyond(over: str | None, by: int) -> None:
    """Each text at its cap is kept as sent; one character more and only that one is
    clipped and named in ``truncated``; the weight counts what is kept."""
    caps = {"path": PATH_CAP, "key": TEXT_CAP, "request_id": TEXT_CAP, "body": BODY_CAP}
    sent = {name: cap - 10 for name, cap in caps.items()}
    if over is not None:
        sent[over] = caps[over] + by
    path, key, request_id = (
        "/" + sized(sent["path"] - 1),
        sized(sent["key"]),
        "r" * sent["request_id"],
    )
    body = b'"' + b"b" * (sent["body"] - 2) + b'"'
    journal = Journal(capacity=10)
    journal.record(1.0, "POST", path, key, 202, JournalNote(key, body, request_id, (), ("f1",)))
    [entry] = journal.entries()
    kept_path, kept_key, kept_body, kept_id = entry[3], entry[4], entry[6], entry[7]
    clipped = () if over is None or by == 0 else (over,)
    assert entry[11] == clipped
    assert (kept_path == path) is ("path" not in clipped) and len(kept_path) <= PATH_CAP
    assert (kept_key == key) is ("key" not in clipped) and len(kept_key or "") <= TEXT_CAP
    assert (kept_id == request_id) is ("request_id" not in clipped)
    assert (kept_body == body) is ("body" not in clipped) and entry[10] == len(body)
    assert entry[8:10] == ((), ("f1",)) and entry[:3] == (1, 1.0, "POST")
    texts = (kept_path, kept_key, kept_body, kept_id)
    assert journal.total_bytes == ENTRY_OVERHEAD + sum(len(text or "") for text in texts)


def test_an_entry_without_a_note_keeps_the_key_it_was_given() -> None:
    journal = Journal(capacity=10)
    journal.record(2.0, "GET", "/x", "sent-key", None, None, "gone")
    journal.record(3.0, "GET", "/y", None, 401, JournalNote(None))
    assert journal.entries() == [
        (1, 2.0, "GET", "/x", "sent-key", None, None, None, (), (), None, (), "gone"),
        (2, 3.0, "GET", "/y", None, 401, None, None, (), (), None, (), None),
    ]  # fmt: skip
    assert journal.total_bytes == 2 * ENTRY_OVERHEAD + len("/x") + len("sent-key") + len("/y")
