"""What the inspector page reads and serves: ``/_mock/jobs``, thumbnails, rate-limit buckets,
the page's own files, the banner's URLs. (The page itself is tested in a browser: tests/ui/.)"""

from __future__ import annotations

import io
import re
import time

import httpx
import pytest
from PIL import Image

from gateway_helpers import KEY, T2I
from mock_gateway.config.settings import Settings
from mock_helpers import Running, running
from server_process import running_mock

pytestmark = pytest.mark.anyio


async def submit(mock: Running, prompt: str = "x", key: str = "test-key", **kw: object) -> str:
    headers = {"Ocp-Apim-Subscription-Key": key, **kw.pop("headers", {})}  # type: ignore[dict-item]
    response = await mock.http.post(T2I, json={"prompt": prompt, **kw}, headers=headers)
    assert response.status_code == 202, response.text
    request_id: str = response.json()["request_id"]
    return request_id


async def test_jobs_are_listed_newest_first_with_timeline_cost_and_outputs() -> None:
    async with running(timing="manual") as mock:
        first = await submit(mock, "first")
        second = await submit(mock, "second")
        listed = await mock.control("GET", "/jobs")
        assert [job["request_id"] for job in listed["jobs"]] == [second, first]
        assert listed["total"] == 2 and listed["next_offset"] is None
        job = listed["jobs"][1]
        assert job["status"] == "QUEUED" and job["prompt"] == "first"
        assert job["key"] == "****-key" and "test-key" not in str(listed)
        assert job["cost_usd"] == "0.035" and job["thumbnails"] == [] and job["media_url"] == []
        assert [moment["status"] for moment in job["timeline"]] == ["QUEUED"]
        await mock.control("POST", "/clock/advance", {"seconds": 600})
        done = (await mock.control("GET", "/jobs"))["jobs"][1]
    assert [m["status"] for m in done["timeline"]] == ["QUEUED", "PROCESSING", "COMPLETED"]
    times = [moment["time"] for moment in done["timeline"]]
    assert times == sorted(times) and done["completed_at"] == done["timeline"][-1]["at"]
    assert done["media_url"] == [f"http://mock.test/media/{first}/output-1.png"]
    assert done["thumbnails"] == [f"/_mock/jobs/{first}/thumbnails/output-1.png"]
    assert done["webhook"] is None and done["error"] is None


async def test_jobs_filter_by_key_model_and_status() -> None:
    async with running(timing="manual") as mock:
        await mock.control("PUT", "/keys/team-b", {})
        mine = await submit(mock)
        theirs = await submit(mock, key="team-b")
        await mock.control("POST", "/faults", {"outcome": "ERROR", "error": "GPU lost", "times": 1})
        failed = await submit(mock)
        await mock.control("POST", "/clock/advance", {"seconds": 600})

        async def ids(query: str) -> list[str]:
            return [
                job["request_id"] for job in (await mock.control("GET", f"/jobs?{query}"))["jobs"]
            ]

        assert await ids("key=team-b") == [theirs]
        assert await ids("key=test-key") == [failed, mine]
        assert await ids("status=ERROR") == [failed]
        assert await ids("model=seedream-5-0-lite-text-to-image&status=COMPLETED") == [theirs, mine]
        assert await ids("model=byteplus") == []
        error = (await mock.control("GET", "/jobs?status=ERROR"))["jobs"][0]
    assert error["error"] == "GPU lost" and error["refunded"] is True


async def test_jobs_are_paged_with_limit_and_offset() -> None:
    async with running(timing="manual") as mock:
        made = [await submit(mock, f"p{n}") for n in range(5)]
        pages, offset = [], 0
        while offset is not None:
            page = await mock.control("GET", f"/jobs?limit=2&offset={offset}")
            assert page["total"] == 5
            pages.append([job["request_id"] for job in page["jobs"]])
            offset = page["next_offset"]
        beyond = await mock.control("GET", "/jobs?offset=10")
        counted = await mock.control("GET", "/jobs?limit=0")
    assert pages == [made[4:2:-1], made[2:0:-1], made[:1]]
    assert beyond == {"jobs": [], "total": 5, "next_offset": None}
    assert counted == {"jobs": [], "total": 5, "next_offset": 0}


@pytest.mark.parametrize(
    "query",
    [
        *["status=DONE", "limit=-1", "limit=1001", "limit=ten", "colour=red"],
        *["offset=-1", "offset=x", "offset=9007199254740992"],
    ],
)
async def test_bad_jobs_query_gets_a_clear_400(query: str) -> None:
    async with running() as mock:
        response = await mock.http.get(f"/_mock/jobs?{query}")
    assert response.status_code == 400 and response.json()["message"].split(":")[0] in query


async def test_a_jobs_webhook_state_is_shown_waiting_then_blocked_with_the_reason() -> None:
    async with running(timing="manual") as mock:
        hook = {"X-Webhook-URL": "https://hooks.example.com/done"}
        request_id = await submit(mock, headers=hook)
        waiting = (await mock.control("GET", "/jobs"))["jobs"][0]["webhook"]
        await mock.control("POST", "/clock/advance", {"seconds": 600})
        blocked = (await mock.control("GET", "/jobs"))["jobs"][0]["webhook"]
    assert waiting == {"url": "https://hooks.example.com/done", "state": "waiting"}
    assert blocked["state"] == "blocked" and "--webhook-allow-host" in blocked["reason"]
    assert blocked["attempts"] == 0 and request_id


async def test_thumbnail_is_a_small_jpeg_of_a_completed_output_and_not_journaled() -> None:
    async with running(timing="manual") as mock:
        request_id = await submit(mock, size="2048x2048")
        path = f"/_mock/jobs/{request_id}/thumbnails/output-1.png"
        assert (await mock.http.get(path)).status_code == 404  # not COMPLETED yet
        await mock.control("POST", "/clock/advance", {"seconds": 600})
        response = await mock.http.get(path)
        missing = await mock.http.get(f"/_mock/jobs/{request_id}/thumbnails/output-9.png")
        unknown = await mock.http.get("/_mock/jobs/nobody/thumbnails/output-1.png")
        journal = await mock.control("GET", "/requests")
    assert response.status_code == 200 and response.headers["content-type"] == "image/jpeg"
    preview = Image.open(io.BytesIO(response.content))
    assert preview.format == "JPEG" and max(preview.size) == 256
    assert missing.status_code == unknown.status_code == 404
    assert [entry["path"] for entry in journal["requests"]] == [T2I]


async def test_rate_limit_buckets_show_calls_left_and_retry_after() -> None:
    async with running() as mock:
        limited = {"Ocp-Apim-Subscription-Key": "limited-key"}
        codes = [
            (await mock.http.post(T2I, json={"prompt": "x"}, headers=limited)).status_code
            for _ in range(3)
        ]
        buckets = (await mock.control("GET", "/rate-limits"))["rate_limits"]
        await mock.control("PUT", "/keys/test-key", {"rate_limits": {"status": "5/m"}})
        after = (await mock.control("GET", "/rate-limits"))["rate_limits"]
    assert codes == [202, 202, 429]
    submit_bucket = next(b for b in buckets if (b["key"], b["group"]) == ("limited-key", "submit"))
    assert submit_bucket["remaining"] == 0 and submit_bucket["retry_after"] >= 1
    assert submit_bucket["source"] == "key" and submit_bucket["limit"] == "2/60s"
    own = next(b for b in after if b["key"] == "test-key")
    assert own == {
        "key": "test-key",
        "group": "status",
        "limit": "5/60s",
        "source": "key",
        "remaining": 5,
        "burst": 5,
        "retry_after": None,
    }


async def test_control_root_leads_to_the_page_and_the_page_ships_its_files() -> None:
    async with running() as mock:
        root = await mock.http.get("/_mock/")
        page = await mock.http.get("/_mock/ui")
        files = {
            name: await mock.http.get(f"/_mock/ui/{name}")
            for name in ("inspector.css", "inspector.js", "icon.svg")
        }
        wrong = [
            await mock.http.get(f"/_mock/ui/{name}")
            for name in ("index.html", "..%2Fcontrol-openapi.yaml", "x.js")
        ]
    assert root.status_code == 307 and root.headers["location"] == "/_mock/ui"
    assert page.status_code == 200 and page.headers["content-type"].startswith("text/html")
    policy = page.headers["content-security-policy"]
    assert "script-src 'self'" in policy and "unsafe-inline" not in policy
    for src in re.findall(r'(?:src|href)="([^"]+)"', page.text):
        assert src.startswith("ui/"), src  # nothing from another server: works offline
    assert files["inspector.js"].headers["content-type"].startswith("text/javascript")
    assert all(response.status_code == 200 for response in files.values())
    assert [response.status_code for response in wrong] == [404, 404, 404]


async def test_page_is_served_without_the_token_but_its_data_needs_it() -> None:
    async with running(Settings.load(control={"token": "s3cret"})) as mock:
        page = await mock.http.get("/_mock/ui")
        denied = await mock.http.get("/_mock/jobs")
        allowed = await mock.http.get("/_mock/jobs", headers={"X-Mock-Control-Token": "s3cret"})
        thumb = await mock.http.get("/_mock/jobs/x/thumbnails/output-1.png")
    assert page.status_code == 200 and "s3cret" not in page.text
    assert denied.status_code == 401 and allowed.status_code == 200
    assert thumb.status_code == 401


async def test_no_control_means_no_page_and_no_jobs_list() -> None:
    async with running(Settings.load(control={"enabled": False})) as mock:
        for path in (
            "/_mock/",
            "/_mock/ui",
            "/_mock/ui/inspector.js",
            "/_mock/jobs",
            "/_mock/rate-limits",
        ):
            response = await mock.http.get(path)
            assert response.status_code == 404, path
            assert response.json() == {"statusCode": 404, "message": "Resource not found"}


def test_every_url_the_banner_prints_answers() -> None:
    with running_mock("--timing", "fast") as server:
        for _ in range(100):  # the banner's lines arrive as the server prints them
            if any("Test keys" in line for line in server.output):
                break
            time.sleep(0.05)
        banner = "\n".join(server.output)
        found = re.findall(r"(?:(GET|POST)\s+)?(http://[^\s)]+)", banner)
        assert any(url.endswith("/_mock/ui") for _, url in found), banner
        request_id = ""
        browser = {**KEY, "Accept": "text/html,*/*"}
        with httpx.Client(follow_redirects=True, timeout=10, headers=browser) as http:
            assert http.get(server.base_url, headers={"Accept": "*/*"}).status_code == 404
            for method, url in found:
                if method == "POST":
                    response = http.post(url, json={"prompt": "banner"}, headers=KEY)
                    assert response.status_code == 202, url
                    request_id = response.json()["request_id"]
                else:
                    url = url.replace("<request_id>", request_id)
                    response = http.get(url)
                    assert response.status_code == 200, (url, response.text[:200])


def test_the_page_files_ship_in_the_wheel() -> None:
    import fnmatch
    import tomllib
    from pathlib import Path

    import mock_gateway.inspector as inspector
    from mock_gateway.inspector import MEDIA_TYPES, asset

    pyproject = Path(__file__).resolve().parent.parent / "pyproject.toml"
    setuptools = tomllib.loads(pyproject.read_text())["tool"]["setuptools"]
    globs = setuptools["package-data"]["mock_gateway.inspector"]
    folder = Path(inspector.__file__).parent
    files = [path.name for path in folder.iterdir() if path.suffix not in (".py", ".pyc")]
    files = [name for name in files if name != "__pycache__"]
    assert sorted(files) == sorted(MEDIA_TYPES)
    assert all(any(fnmatch.fnmatch(name, glob) for glob in globs) for name in files), globs
    assert all(asset(name) for name in MEDIA_TYPES)
