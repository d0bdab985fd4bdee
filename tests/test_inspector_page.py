"""The inspector page in a real browser (headless Chromium via Playwright).

Jobs are submitted over HTTP while the page is open, and the tests assert what a person
sees: rows, statuses turning COMPLETED live, thumbnails that loaded, balances, a fault added
from the form taking effect, the clock buttons stepping a frozen job, escaping, and no
JavaScript errors. ``make test-ui`` runs only these; ``make test`` runs them when Chromium is
installed and otherwise skips them with a one-line reason.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from browser_helpers import CHROMIUM_ARGS, REQUIRED, Console, Mock, chromium_path, missing
from gateway_helpers import BP_T2I, T2I
from seedream_contracts.loopback import LoopbackReceiver
from server_process import running_mock

ROOT = Path(__file__).resolve().parent.parent
SCREENSHOT = ROOT / "docs" / "images" / "inspector.png"
WHY_NOT = missing()
if WHY_NOT is not None:
    if REQUIRED:
        raise RuntimeError(WHY_NOT)
    pytest.skip(WHY_NOT, allow_module_level=True)  # one line in the summary, not one a test

from playwright.sync_api import Browser, Locator, Page, expect, sync_playwright  # noqa: E402

SEEN = 5000  # ms Playwright waits for what a person would see (the page polls every 500 ms)


@pytest.fixture(scope="module")
def browser() -> Iterator[Browser]:
    with sync_playwright() as playwright:
        launched = playwright.chromium.launch(executable_path=chromium_path(), args=CHROMIUM_ARGS)
        yield launched
        launched.close()


@pytest.fixture(scope="module")
def served() -> Iterator[Mock]:
    with (
        running_mock("--timing", "fast", "--seed", "7") as server,
        httpx.Client(base_url=server.base_url, timeout=30) as http,
    ):
        yield Mock(server.base_url, http)


@pytest.fixture
def mock(served: Mock) -> Mock:
    served.control("POST", "/reset")
    return served


@pytest.fixture
def console() -> Console:
    return Console()


@pytest.fixture
def page(browser: Browser, console: Console) -> Iterator[Page]:
    expect.set_options(timeout=SEEN)
    context = browser.new_context(viewport={"width": 1440, "height": 900})
    opened = context.new_page()
    opened.on("console", lambda m: console.errors.append(m.text) if m.type == "error" else None)
    opened.on("pageerror", lambda exc: console.errors.append(f"uncaught: {exc}"))
    yield opened
    context.close()
    assert console.unexpected() == [], "JavaScript errors on the page"


def open_page(page: Page, mock: Mock, tab: str = "jobs") -> None:
    page.goto(f"{mock.base_url}/_mock/")  # the banner's control URL leads to the page
    page.click(f"[data-tab={tab}]")
    page.wait_for_selector("#live[data-state=live]")


def job_row(page: Page, request_id: str) -> Locator:
    return page.locator(f'[data-request-id="{request_id}"]')


def thumbnails_loaded(page: Page, request_id: str) -> None:
    page.wait_for_function(
        """id => {
            const imgs = document.querySelectorAll(`[data-request-id="${id}"] img`);
            return imgs.length > 0 && [...imgs].every(i => i.complete && i.naturalWidth > 0);
        }""",
        arg=request_id,
        timeout=15000,  # first renders of full-size images on a busy machine
    )


def test_jobs_appear_and_turn_completed_live_with_thumbnails(page: Page, mock: Mock) -> None:
    open_page(page, mock)
    expect(page.locator("#jobs-empty")).to_be_visible()
    ids = [mock.submit(f"a lighthouse at dusk, take {n}") for n in range(3)]
    for request_id in ids:
        row = job_row(page, request_id)
        expect(row).to_contain_text("a lighthouse at dusk")
        expect(row.locator(".status")).to_have_text("COMPLETED")
        expect(row).to_contain_text("****-key")
        expect(row).to_contain_text("$0.035")
        expect(row.locator(".timeline li")).to_have_count(3)
        thumbnails_loaded(page, request_id)
        link = row.locator("a:has(img)")
        assert link.get_attribute("href") == f"{mock.base_url}/media/{request_id}/output-1.png"
    rows = page.locator("#jobs-body tr")
    assert [rows.nth(i).get_attribute("data-request-id") for i in range(3)] == ids[::-1]
    assert page.locator("#jobs-pager").inner_text().startswith("1–3 of 3")
    journal = mock.control("GET", "/requests")["requests"]
    assert {entry["path"] for entry in journal} == {T2I}  # the page is not in the journal


def test_filters_narrow_the_jobs_by_key_and_status(page: Page, mock: Mock) -> None:
    mock.control("PUT", "/keys/team-b-0042", {"note": "team B"})
    ours = mock.submit("ours")
    theirs = mock.submit("theirs", key="team-b-0042")
    mock.control("POST", "/faults", {"outcome": "ERROR", "error": "GPU lost", "times": 1})
    broken = mock.submit("broken")
    open_page(page, mock)
    expect(job_row(page, broken).locator(".status")).to_have_text("ERROR")
    expect(job_row(page, broken)).to_contain_text("GPU lost")
    expect(job_row(page, broken)).to_contain_text("refunded")
    page.select_option("#filter-key", "team-b-0042")
    expect(page.locator("#jobs-body tr")).to_have_count(1)
    expect(job_row(page, theirs)).to_contain_text("****0042")
    page.select_option("#filter-key", "")
    page.select_option("#filter-status", "ERROR")
    expect(page.locator("#jobs-body tr")).to_have_count(1)
    expect(job_row(page, broken)).to_be_visible()
    page.select_option("#filter-status", "COMPLETED")
    expect(page.locator("#jobs-body tr")).to_have_count(2)
    expect(job_row(page, ours)).to_be_visible()
    headers = {"Ocp-Apim-Subscription-Key": "test-key"}
    other = mock.http.post(BP_T2I, json={"prompt": "another model"}, headers=headers).json()
    page.select_option("#filter-status", "")
    expect(page.locator("#filter-model option[value=byteplus]")).to_have_count(1)
    page.select_option("#filter-model", "byteplus")
    expect(page.locator("#jobs-body tr")).to_have_count(1)
    expect(job_row(page, other["request_id"])).to_contain_text("another model")


def test_clock_buttons_step_a_frozen_job(page: Page, mock: Mock) -> None:
    open_page(page, mock)
    page.click("#freeze")
    expect(page.locator("#clock-state")).to_have_text("frozen")
    request_id = mock.submit("frozen in time")
    status = job_row(page, request_id).locator(".status")
    expect(status).to_have_text("QUEUED")
    page.fill("#advance-seconds", "0.3")  # the fast profile queues a job for 0.2 s
    page.click("#advance")
    expect(status).to_have_text("PROCESSING")
    page.fill("#advance-seconds", "5")
    page.click("#advance")
    expect(status).to_have_text("COMPLETED")
    thumbnails_loaded(page, request_id)
    page.fill("#resume-rate", "2")
    page.click("#resume")
    expect(page.locator("#clock-state")).to_have_text("running")
    expect(page.locator("#clock-rate")).to_have_text("×2")
    assert mock.control("GET", "/clock")["rate"] == 2


def test_keys_show_balance_after_charges_and_edits_take_effect(page: Page, mock: Mock) -> None:
    open_page(page, mock, "keys")
    for n in range(3):
        mock.submit(f"charge {n}")
    row = page.locator("#keys-body tr").filter(has_text="funded")
    balance = row.locator(".balance-input")
    expect(balance).to_have_value("99.895")  # $100 less three $0.035 submits
    balance.fill("0.05")
    row.get_by_role("button", name="Save").click()
    expect(page.locator("#toast")).to_contain_text("$0.05")
    assert mock.control("GET", "/keys/test-key")["balance_usd"] == "0.05"
    mock.submit("one more")
    expect(balance).to_have_value("0.015")
    refused = mock.http.post(
        T2I, json={"prompt": "x"}, headers={"Ocp-Apim-Subscription-Key": "test-key"}
    )
    assert refused.status_code == 402
    row.locator("input[type=checkbox]").check()
    expect(row).to_contain_text("forbidden")
    forbidden = mock.http.post(
        T2I, json={"prompt": "x"}, headers={"Ocp-Apim-Subscription-Key": "test-key"}
    )
    assert forbidden.status_code == 403
    limited = page.locator("#keys-body tr").filter(has_text="429")
    expect(limited).to_contain_text("2 of 2 left")
    for _ in range(3):
        mock.http.post(
            T2I, json={"prompt": "x"}, headers={"Ocp-Apim-Subscription-Key": "limited-key"}
        )
    expect(limited).to_contain_text("limited · retry in")


def test_a_fault_added_from_the_form_takes_effect_and_can_be_removed(
    page: Page, mock: Mock, console: Console
) -> None:
    console.allowed = ("status of 400",)  # the browser logs the refused rule below

    open_page(page, mock, "faults")
    form = page.locator("#fault-form")
    form.locator("[name=endpoint]").select_option("submit")
    form.locator("[name=status]").fill("503")
    form.locator("[name=times]").fill("1")
    form.locator("[name=note]").fill("gateway down once")
    page.click("#fault-add")
    rule = page.locator("#faults-body tr")
    expect(rule).to_have_count(1)
    expect(rule).to_contain_text("answer 503")
    expect(rule).to_contain_text("gateway down once")
    headers = {"Ocp-Apim-Subscription-Key": "test-key"}
    assert mock.http.post(T2I, json={"prompt": "x"}, headers=headers).status_code == 503
    expect(rule.locator("td").nth(3)).to_have_text("1")  # fired once
    expect(rule.locator("td").nth(4)).to_have_text("0")  # none left
    assert mock.http.post(T2I, json={"prompt": "x"}, headers=headers).status_code == 202
    form.locator("[name=status]").fill("42")
    page.click("#fault-add")
    expect(page.locator("#fault-error")).to_contain_text("status")
    rule.get_by_role("button", name="Remove").click()
    expect(page.locator("#faults-empty")).to_be_visible()
    assert mock.control("GET", "/faults")["faults"] == []


def test_journal_highlights_hygiene_warnings(page: Page, mock: Mock) -> None:
    request_id = mock.submit("poll me")
    key = {"Ocp-Apim-Subscription-Key": "test-key"}
    mock.control("POST", "/clock/freeze")  # gaps of exactly 0 s of mock time
    for _ in range(3):  # sustained fast polling: the third poll, after two 0 s gaps, is flagged
        mock.http.get(f"/v2/requests/status/{request_id}", headers=key)
    open_page(page, mock, "journal")
    warned = page.locator("#journal-body tr.warned")
    expect(warned).to_have_count(1)
    expect(warned).to_contain_text("poll-too-fast")
    expect(page.locator("#journal-body tr")).to_have_count(4)
    page.check("#journal-warned")
    expect(page.locator("#journal-body tr")).to_have_count(1)


def test_webhooks_show_attempts_codes_errors_and_blocked_reasons(page: Page, mock: Mock) -> None:
    blocked = mock.submit("to the outside", **{"X-Webhook-URL": "https://hooks.example.com/x"})
    refused = mock.submit("to a wrong place", **{"X-Webhook-URL": f"{mock.base_url}/_health"})
    with LoopbackReceiver() as receiver:
        receiver.fail(1, status=502)
        retried = mock.submit("delivered on the second try", **{"X-Webhook-URL": receiver.url})
        open_page(page, mock, "webhooks")
        retried_row = page.locator(f'[data-request-id-hook="{retried}"]')
        expect(retried_row.locator(".badge")).to_have_text("delivered", timeout=15000)
        expect(retried_row.locator(".attempts li")).to_have_count(2)
        expect(retried_row.locator(".attempts li").first).to_contain_text("502")
        expect(retried_row.locator(".attempts li").nth(1)).to_contain_text("200")
    blocked_row = page.locator(f'[data-request-id-hook="{blocked}"]')
    expect(blocked_row).to_contain_text("blocked")
    expect(blocked_row).to_contain_text("--webhook-allow-host")
    refused_row = page.locator(f'[data-request-id-hook="{refused}"]')
    expect(refused_row.locator(".attempts li").first).to_contain_text("404")
    expect(refused_row.locator(".attempts li").first).to_contain_text("not a 2xx answer")
    page.click("[data-tab=jobs]")
    expect(job_row(page, blocked).locator(".badge")).to_have_text("blocked")


HOSTILE = [
    "<script>window.__pwned = 'script'</script>",
    '"><img src=x onerror="window.__pwned = \'img\'">',
    "</textarea><svg onload=\"window.__pwned='svg'\">",
]


def test_nothing_a_client_sends_runs_as_script(page: Page, mock: Mock, console: Console) -> None:
    mock.control("PUT", "/keys/x<img src=y onerror=alert(1)>", {"note": HOSTILE[1]})
    mock.control(
        "POST", "/faults", {"prompt_contains": "svg", "outcome": "FAILED", "error": HOSTILE[1]}
    )
    ids = [mock.submit(prompt) for prompt in HOSTILE]
    # (the gateway refuses a webhook URL with unescaped < > or quotes; this one it accepts)
    hook = "https://hooks.example.com/x?q=';window.__pwned='hook';'"
    mock.submit("hostile webhook", **{"X-Webhook-URL": hook})
    open_page(page, mock)
    for request_id, prompt in zip(ids, HOSTILE, strict=True):
        expect(job_row(page, request_id).locator(".prompt")).to_have_text(prompt)
    expect(job_row(page, ids[2])).to_contain_text(HOSTILE[1])  # the error text, as text
    for tab in ("keys", "journal", "faults", "webhooks", "jobs"):
        page.click(f"[data-tab={tab}]")
        page.wait_for_timeout(700)  # one poll's worth of rendering each
        if tab == "webhooks":
            expect(page.locator("#webhooks-body")).to_contain_text(hook)
        if tab == "keys":
            expect(page.locator("#keys-body")).to_contain_text(HOSTILE[1])  # the note
    assert page.evaluate("window.__pwned") is None
    assert page.locator("img[onerror], svg[onload], script:not([src])").count() == 0
    assert console.errors == [], "nothing was even attempted (no CSP violation reported)"


def test_a_token_protected_mock_asks_for_the_token_once(browser: Browser, console: Console) -> None:
    console.allowed = ("401",)  # the first call is refused, as it should be
    with running_mock("--control-token", "s3cret-token") as server:
        context = browser.new_context()
        page = context.new_page()
        page.on("pageerror", lambda exc: console.errors.append(f"uncaught: {exc}"))
        page.on("console", lambda m: console.errors.append(m.text) if m.type == "error" else None)
        page.goto(f"{server.base_url}/_mock/ui")
        expect(page.locator("#token-dialog")).to_be_visible()
        page.fill("#token-input", "wrong")
        page.click("#token-submit")
        expect(page.locator("#token-error")).to_contain_text("refused")
        page.fill("#token-input", "s3cret-token")
        page.click("#token-submit")
        expect(page.locator("#live")).to_have_attribute("data-state", "live")
        headers = {"Ocp-Apim-Subscription-Key": "test-key"}
        request_id = httpx.post(
            server.base_url + T2I, json={"prompt": "tok"}, headers=headers
        ).json()["request_id"]
        thumbnails_loaded(page, request_id)  # thumbnails are fetched with the token too
        page.reload()
        page.wait_for_selector("#live[data-state=live]")
        expect(page.locator("#token-dialog")).to_be_hidden()
        context.close()
    assert console.unexpected() == []


def test_stays_usable_at_a_thousand_jobs_paged(page: Page, mock: Mock) -> None:
    mock.control("POST", "/clock/freeze")  # all stay QUEUED: no renders needed
    headers = {"Ocp-Apim-Subscription-Key": "test-key"}
    for n in range(1000):
        assert mock.http.post(T2I, json={"prompt": f"job {n}"}, headers=headers).status_code == 202
    open_page(page, mock)
    expect(page.locator("#jobs-pager")).to_contain_text("1–50 of 1,000")
    expect(page.locator("#jobs-body tr")).to_have_count(50)
    expect(page.locator("#jobs-body tr").first).to_contain_text("job 999")
    page.get_by_label("next page").click()
    expect(page.locator("#jobs-pager")).to_contain_text("51–100 of 1,000")
    expect(page.locator("#jobs-body tr").first).to_contain_text("job 949")


def test_reset_button_needs_a_second_click(page: Page, mock: Mock) -> None:
    request_id = mock.submit("to be forgotten")
    open_page(page, mock)
    thumbnails_loaded(page, request_id)  # (a preview still loading would 404 after the reset)
    page.click("#reset")
    expect(page.locator("#reset")).to_have_text("Confirm reset")
    assert mock.control("GET", "/jobs")["total"] == 1
    page.click("#reset")
    expect(page.locator("#jobs-empty")).to_be_visible()
    assert mock.control("GET", "/jobs")["total"] == 0


def test_screenshot_for_the_readme(page: Page, mock: Mock, tmp_path: Path) -> None:
    """A page as a team would see it. ``MOCK_GATEWAY_SCREENSHOT=update`` writes it to
    docs/images/inspector.png for the README; otherwise it goes to a temporary folder, so a
    test run leaves the checkout as it was."""
    shot = (
        SCREENSHOT
        if os.environ.get("MOCK_GATEWAY_SCREENSHOT") == "update"
        else tmp_path / "inspector.png"
    )
    mock.control(
        "POST",
        "/faults",
        {"prompt_contains": "glacier", "outcome": "ERROR", "error": "GPU worker lost", "times": 1},
    )
    prompts = [
        "a lighthouse on a cliff at dusk, volumetric light",
        "isometric city block made of paper, soft shadows",
        "a red fox in fresh snow, telephoto",
        "glacier cave, blue ice, wide angle",
        "studio photo of a ceramic teapot, pastel background",
    ]
    done = [mock.submit(prompt) for prompt in prompts]
    mock.submit("neon koi pond at night", **{"X-Webhook-URL": "https://hooks.example.com/seedream"})
    page.set_viewport_size({"width": 1440, "height": 860})
    open_page(page, mock)
    for request_id in done:
        expect(job_row(page, request_id).locator(".status")).not_to_have_text("QUEUED")
    for request_id in done[:3] + done[4:]:
        thumbnails_loaded(page, request_id)
    mock.control("POST", "/clock/freeze")
    waiting = mock.submit("a hot-air balloon over lavender fields")
    expect(job_row(page, waiting).locator(".status")).to_have_text("QUEUED")
    page.wait_for_timeout(600)
    shot.parent.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(shot))
    assert shot.stat().st_size > 10_000
