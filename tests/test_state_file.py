"""``--state FILE`` in process: what a restart keeps, group commits, reset, a full disk, the
layout migration and the export/import commands."""

from __future__ import annotations

import asyncio
import base64
import contextlib
import io
import json
import sqlite3
import subprocess
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from PIL import Image

from gateway_helpers import BP_EDIT, KEY, T0
from mock_gateway.cli import main
from mock_gateway.persistence import schema
from mock_gateway.persistence.attach import codec_module
from mock_gateway.persistence.options import StoreOptions
from mock_gateway.persistence.store import APPLICATION_ID
from state_helpers import keeper_of, media, poll, stateful, submit

pytestmark = pytest.mark.anyio


def png_data_url(size: tuple[int, int] = (64, 48)) -> str:
    buffer = io.BytesIO()
    Image.new("RGB", size, (30, 120, 200)).save(buffer, "PNG")
    return "data:image/png;base64," + base64.b64encode(buffer.getvalue()).decode()


async def test_jobs_keys_and_clock_go_on_after_a_restart(tmp_path: Path) -> None:
    db = tmp_path / "mock.db"
    async with stateful(db, timing="manual") as mock:
        await mock.control("PUT", "/keys/team-key", {"balance_usd": "7.5", "note": "shared"})
        done = await submit(mock)
        await mock.control("POST", "/clock/advance", {"seconds": 5})
        running = await submit(mock)
        later = await submit(mock, {"prompt": "another"})  # a newer row than running's
        await mock.control("POST", "/clock/advance", {"seconds": 1.5})  # queued 1 s, runs 2 s
        before = {rid: await poll(mock, rid) for rid in (done, running)}
        images = await media(mock, before[done])
        stopped_at = mock.clock.now()
        balance = await mock.balance()
    assert before[running]["status"] == "PROCESSING"

    async with stateful(db, timing="manual") as mock:
        assert mock.clock.now() == stopped_at  # a clean stop: exactly where it stood
        assert (await mock.control("GET", "/keys/team-key"))["balance_usd"] == "7.5"
        assert await mock.balance() == balance  # charged once, not again
        assert await poll(mock, done) == before[done]
        assert await media(mock, before[done]) == images  # re-rendered byte for byte
        assert await poll(mock, running) == before[running]
        await mock.control("POST", "/clock/advance", {"seconds": 2})
        finished = await poll(mock, running)
    assert finished["status"] == "COMPLETED"
    # on its schedule: started at T0+6, 2 s of processing (manual timing has no jitter)
    assert finished["completed_at"] == before[done]["completed_at"].replace(":09.", ":14.")
    async with stateful(db, timing="manual") as mock:  # what changed after a restart is kept
        assert await poll(mock, done) == before[done]
        assert await poll(mock, running) == finished
        assert (await poll(mock, later))["status"] == "COMPLETED"
        assert len(mock.state.core.queue) == 3


async def test_an_edit_keeps_its_input_image(tmp_path: Path) -> None:
    db = tmp_path / "mock.db"
    body = {"prompt": "paint it", "image": png_data_url()}
    async with stateful(db) as mock:
        rid = await submit(mock, body, BP_EDIT)
        await mock.control("POST", "/clock/advance", {"seconds": 5})
        shown = await poll(mock, rid)
        images = await media(mock, shown)
    async with stateful(db) as mock:
        job = mock.state.core.queue.get(rid)
        assert job is not None and len(job.spec.input_images) == 1
        assert await media(mock, await poll(mock, rid)) == images


async def test_concurrent_submits_share_commits(tmp_path: Path) -> None:
    async with stateful(tmp_path / "mock.db") as mock:
        keeper = keeper_of(mock)
        before = keeper.commits
        ids = await asyncio.gather(*(submit(mock, {"prompt": f"p{n}"}) for n in range(40)))
        commits = keeper.commits - before
        saved = keeper.store.saved()
    assert saved is not None
    assert set(ids) <= {job["request_id"] for job in saved.data["jobs"]}
    assert 1 <= commits < 20, commits  # every 202 waited for a commit; most shared one


async def test_a_control_change_is_on_disk_before_its_answer(tmp_path: Path) -> None:
    async with stateful(tmp_path / "mock.db") as mock:
        await mock.control("PUT", "/keys/fresh", {"balance_usd": "3"})
        saved = keeper_of(mock).store.saved()
        assert saved is not None
        text = json.dumps(saved.data)
    assert "fresh" in text


async def test_reset_returns_the_file_to_the_start_state(tmp_path: Path) -> None:
    db = tmp_path / "mock.db"
    async with stateful(db) as mock:
        await mock.control("PUT", "/keys/temp", {"balance_usd": "1"})
        rid = await submit(mock)
        await mock.control("POST", "/reset")
    async with stateful(db) as mock:
        assert (await mock.http.get("/_mock/keys/temp")).status_code == 404
        assert mock.state.core.queue.get(rid) is None
        assert await mock.balance() == "100"


async def test_a_full_disk_answers_503_and_keeps_every_acknowledged_job(tmp_path: Path) -> None:
    db = tmp_path / "mock.db"
    accepted: list[str] = []
    refused: Any = None
    limit = StoreOptions(max_bytes=160 * 1024)
    async with stateful(db, options=limit) as mock:
        for n in range(400):
            before = await mock.balance()
            answer = await mock.http.post(
                "/seedream-5-0-lite-text-to-image/v1/seedream-5-0-lite-text-to-image-request",
                json={"prompt": f"{n} " + "a very long prompt " * 100},
                headers=KEY,
            )
            if answer.status_code != 202:
                refused = answer
                break
            accepted.append(answer.json()["request_id"])
        assert refused is not None, "the size limit was never reached"
        assert refused.status_code == 503
        assert refused.headers["retry-after"] == "1"
        assert set(refused.json()) == {"error", "message"}
        assert "nothing was charged" in refused.json()["message"]
        assert await mock.balance() == before  # the refused submit's charge went back
        status = await mock.http.put("/_mock/keys/late", json={"balance_usd": "1"})
        assert status.status_code == 503
    async with stateful(db) as mock:  # no limit now: the file opens with all it had
        kept = {job.request_id for job in mock.state.core.queue}
    assert accepted and set(accepted) <= kept


def _refusal(capsys: pytest.CaptureFixture[str], path: Path) -> str:
    assert main(["serve", "--port", "0", "--state", str(path)]) == 2
    err = capsys.readouterr().err.strip()
    assert len(err.splitlines()) == 1 and "Traceback" not in err, err
    assert str(path) in err
    return err


def test_a_file_that_is_not_a_database_is_refused(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    path = tmp_path / "notes.db"
    path.write_text("shopping list\n" * 100)
    assert "not a mock-gateway state file" in _refusal(capsys, path)
    assert path.read_text() == "shopping list\n" * 100  # never reset


def test_another_programs_database_is_refused(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    path = tmp_path / "other.db"
    with contextlib.closing(sqlite3.connect(path)) as db:
        db.execute("CREATE TABLE things (x)")
        db.commit()
    assert "not a mock-gateway state file" in _refusal(capsys, path)


async def test_a_newer_and_a_corrupt_file_are_refused(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    newer, corrupt = tmp_path / "newer.db", tmp_path / "corrupt.db"
    for path in (newer, corrupt):
        async with stateful(path) as mock:
            for n in range(30):
                await submit(mock, {"prompt": f"job {n} " + "x" * 500})
    with contextlib.closing(sqlite3.connect(newer)) as db:
        db.execute(f"PRAGMA user_version = {schema.VERSION + 1}")
    assert "newer mock-gateway" in _refusal(capsys, newer)
    data = bytearray(corrupt.read_bytes())
    data[4096 * 2 : 4096 * 4] = b"\xa5" * 8192  # pages of the jobs' rows
    corrupt.write_bytes(bytes(data))
    assert "corrupt" in _refusal(capsys, corrupt)


def test_a_read_only_file_or_one_in_use_is_refused(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    from mock_gateway.persistence.store import StateStore

    path = tmp_path / "mock.db"
    StateStore.open(path).close()
    path.chmod(0o444)
    assert "read-only" in _refusal(capsys, path)
    path.chmod(0o644)
    holder = StateStore.open(path)
    try:
        assert "in use by another running mock-gateway" in _refusal(capsys, path)
    finally:
        holder.close()
    assert "folder does not exist" in _refusal(capsys, tmp_path / "missing" / "mock.db")


async def test_a_layout_1_file_is_migrated(tmp_path: Path) -> None:
    """Layout 1 kept each snapshot section in one ``state`` row, the jobs as one list."""
    source = tmp_path / "source.db"
    async with stateful(source, timing="manual") as mock:
        await mock.control("PUT", "/keys/old-key", {"balance_usd": "2"})
        first, second = await submit(mock), await submit(mock)
        await mock.control("POST", "/clock/advance", {"seconds": 10})
        snapshot = codec_module().snapshot(mock.state)
        shown = await poll(mock, first)
    old = tmp_path / "old.db"
    with contextlib.closing(sqlite3.connect(old)) as db:
        db.executescript(schema.LAYOUT_1)
        db.execute(f"PRAGMA application_id = {APPLICATION_ID}")
        db.execute("PRAGMA user_version = 1")
        db.execute("INSERT INTO meta VALUES ('codec_format', ?)", (str(snapshot["format"]),))
        for name, data in snapshot.items():
            if name != "format":
                db.execute("INSERT INTO state VALUES (?, ?)", (name, json.dumps(data)))
        db.commit()
    async with stateful(old, timing="manual") as mock:
        assert (await mock.control("GET", "/keys/old-key"))["balance_usd"] == "2"
        assert await poll(mock, first) == shown
        assert mock.state.core.queue.get(second) is not None
    with contextlib.closing(sqlite3.connect(old)) as db:
        assert db.execute("PRAGMA user_version").fetchone()[0] == schema.VERSION
        assert db.execute("SELECT count(*) FROM jobs").fetchone()[0] == 2


async def test_export_then_import_into_another_file(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    source, copy, out = tmp_path / "a.db", tmp_path / "b.db", tmp_path / "snap.json"
    async with stateful(source) as mock:
        rid = await submit(mock)
        await mock.control("PUT", "/keys/exported", {"balance_usd": "4"})
    assert main(["state", "export", "--state", str(source), str(out)]) == 0
    assert rid in out.read_text()
    assert main(["state", "import", "--state", str(copy), str(out)]) == 0
    async with stateful(copy) as mock:
        assert mock.state.core.queue.get(rid) is not None
        assert (await mock.control("GET", "/keys/exported"))["balance_usd"] == "4"
    assert main(["state", "export", "--state", str(tmp_path / "none.db"), str(out)]) == 2
    assert not (tmp_path / "none.db").exists()  # an export creates nothing
    out.write_text('{"format": 99}')
    assert main(["state", "import", "--state", str(copy), str(out)]) == 2
    err = capsys.readouterr().err
    assert "refused" in err and "Traceback" not in err
    assert T0  # the helpers' clock starts at the documented example's moment


async def test_the_journal_survives_a_restart_and_a_reset_empties_it(tmp_path: Path) -> None:
    db = tmp_path / "mock.db"
    async with stateful(db) as mock:
        rid = await submit(mock)
        await poll(mock, rid)
        before = await mock.control("GET", "/requests")
    async with stateful(db) as mock:
        after = await mock.control("GET", "/requests")
        assert after["requests"] == before["requests"] and after["recorded"] == 2
        await poll(mock, rid)
        await mock.control("POST", "/reset")
        await submit(mock)
    async with stateful(db) as mock:
        kept = await mock.control("GET", "/requests")
    assert [entry["seq"] for entry in kept["requests"]] == [1]  # only what came after the reset


async def test_a_restored_snapshot_is_what_the_file_holds(tmp_path: Path) -> None:
    async with stateful(tmp_path / "a.db") as mock:
        await mock.control("PUT", "/keys/from-snapshot", {"balance_usd": "9"})
        rid = await submit(mock)
        snapshot = await mock.control("POST", "/snapshot")
    db = tmp_path / "b.db"
    async with stateful(db) as mock:
        await submit(mock, {"prompt": "replaced by the restore"})
        await mock.control("POST", "/restore", snapshot)
    async with stateful(db) as mock:
        assert [job.request_id for job in mock.state.core.queue] == [rid]
        assert (await mock.control("GET", "/keys/from-snapshot"))["balance_usd"] == "9"


@contextlib.contextmanager
def small_disk(folder: Path, size: str = "400k") -> Iterator[Path]:
    """A tmpfs of ``size`` at ``folder`` (root only: the test skips without it)."""
    folder.mkdir()
    mounted = subprocess.run(
        ["mount", "-t", "tmpfs", "-o", f"size={size}", "tmpfs", str(folder)],
        capture_output=True,
        check=False,
    )
    if mounted.returncode != 0:
        pytest.skip("cannot mount a tmpfs here (needs root)")
    try:
        yield folder
    finally:
        subprocess.run(["umount", "-l", str(folder)], check=False)


async def test_a_real_full_disk_answers_503_and_loses_nothing(tmp_path: Path) -> None:
    accepted: list[str] = []
    with small_disk(tmp_path / "disk") as disk:
        db = disk / "mock.db"
        async with stateful(db) as mock:
            for n in range(2000):
                answer = await mock.http.post(
                    "/seedream-5-0-lite-text-to-image/v1/seedream-5-0-lite-text-to-image-request",
                    json={"prompt": f"{n} " + "fill the disk " * 200},
                    headers=KEY,
                )
                if answer.status_code != 202:
                    break
                accepted.append(answer.json()["request_id"])
            assert answer.status_code == 503, answer.text
            assert "nothing was charged" in answer.json()["message"]
        async with stateful(db) as mock:
            kept = {job.request_id for job in mock.state.core.queue}
    assert accepted and set(accepted) <= kept


async def test_a_webhook_not_yet_handed_on_is_owed_after_a_restart(tmp_path: Path) -> None:
    """A job whose world advanced inside a submit that then awaited (a big body, a remote
    input) is finished before its webhook reaches the dispatcher: a commit in between must
    still lead a restarted mock to send it."""
    db = tmp_path / "mock.db"
    async with stateful(db, timing="manual") as mock:
        response = await mock.http.post(
            "/seedream-5-0-lite-text-to-image/v1/seedream-5-0-lite-text-to-image-request",
            json={"prompt": "owed"},
            headers={**KEY, "X-Webhook-URL": "http://127.0.0.1:9/hook"},
        )
        rid = response.json()["request_id"]
        mock.clock.advance(10)
        advanced = mock.state.world.advance(mock.clock.now())  # as a submit mid-way does
        assert [due.request_id for due in advanced.webhooks] == [rid]
        await keeper_of(mock).wait()  # a commit lands before carry_out
        saved = keeper_of(mock).store.saved()
        assert saved is not None and saved.data["queue"]["unreported"] == [rid]
        keeper_of(mock).store.close()  # "crash": nothing more reaches the file
        mock.state.durability = None  # (the stopping lifespan must not write either)
    async with stateful(db, timing="manual") as mock:
        mock.state.advance()
        delivery = mock.state.webhooks.for_request(rid)
    assert delivery is not None


async def test_full_sync_commits_from_the_writer_thread(tmp_path: Path) -> None:
    db = tmp_path / "mock.db"
    full = StoreOptions(synchronous="full")
    async with stateful(db, options=full) as mock:
        assert not keeper_of(mock).inline  # an fsync per commit must not hold the loop
        ids = await asyncio.gather(*(submit(mock, {"prompt": f"f{n}"}) for n in range(20)))
    async with stateful(db, options=full) as mock:
        assert {job.request_id for job in mock.state.core.queue} == set(ids)
