"""``mock-gateway proxy`` in front of the mock (the ``gateway_proxy`` fixture): forwarding,
``polling_url``, webhooks, request checks, the spend cap, the report, and clients that run
through it unchanged."""

from __future__ import annotations

import json
import logging
import time
from decimal import Decimal
from pathlib import Path
from typing import Any

import httpx
import pytest

from gateway_helpers import BP_T2I, T2I
from mock_gateway.testing.plugin_support import start_server
from mock_gateway.testing.proxy_support import GatewayProxy
from mock_gateway.testing.receiver import WebhookReceiver
from mock_gateway.web.server import listening_socket
from proxy_helpers import proxy_client, report
from seedream_client import AsyncGateway, Gateway, PollPolicy
from seedream_client.cli import main as seedream

LOCAL = "x-mock-proxy"


def _client(proxy: GatewayProxy) -> httpx.Client:
    return httpx.Client(base_url=proxy.base_url, headers=proxy.headers, trust_env=False)


def _wait_completed(http: httpx.Client, url: str) -> dict[str, Any]:
    deadline = time.monotonic() + 20
    while time.monotonic() < deadline:
        body: dict[str, Any] = http.get(url).json()
        if body["status"] in ("COMPLETED", "FAILED", "ERROR"):
            return body
        time.sleep(0.2)
    raise AssertionError("the job did not finish")


def test_submit_and_poll_go_through_the_proxy(gateway_proxy: GatewayProxy) -> None:
    with _client(gateway_proxy) as http:
        accepted = http.post(T2I, json={"prompt": "a red bicycle", "num_images": 2})
        assert accepted.status_code == 202 and LOCAL not in accepted.headers
        body = accepted.json()
        request_id = body["request_id"]
        # polling_url leads back to the proxy, so a client keeps going through it
        assert body["polling_url"] == f"{gateway_proxy.base_url}/v2/requests/status/{request_id}"
        done = _wait_completed(http, body["polling_url"])
    assert done["status"] == "COMPLETED" and len(done["output"]["media_url"]) == 2
    # media URLs are the upstream's, untouched (the CDN needs no key)
    assert all(url.startswith(gateway_proxy.mock.base_url) for url in done["output"]["media_url"])
    image = httpx.get(done["output"]["media_url"][0], trust_env=False)
    assert image.status_code == 200 and image.headers["content-type"] == "image/png"
    report = gateway_proxy.report()
    assert report["counts"]["exchanges"] >= 2 and report["counts"]["refusals"] == 0
    assert report["spend"]["spent_usd"] == "0.070"
    gateway_proxy.assert_no_violations()
    # the mock saw the caller's key and headers: the submit is in its journal for that key
    assert [entry["status"] for entry in gateway_proxy.mock.requests(path=T2I)] == [202]


def test_gateway_client_runs_unchanged_through_the_proxy(
    gateway_proxy: GatewayProxy, tmp_path: Path
) -> None:
    poll = PollPolicy(initial=0.2, multiplier=1.0, maximum=0.2)
    with Gateway(api_key=gateway_proxy.key, base_url=gateway_proxy.base_url, poll=poll) as gw:
        job = gw.text_to_image("a lighthouse at dawn", num_images=2, seed=7)
        status = job.wait(timeout=30)
        files = job.download(tmp_path)
        bp = gw.run("a paper boat", model="seedream-4-5", download_to=tmp_path, timeout=30)
    assert status.status == "COMPLETED" and len(files) == 2
    assert bp.status.status == "COMPLETED" and len(bp.files) == 1
    assert all(path.stat().st_size > 0 for path in [*files, *bp.files])
    gateway_proxy.assert_no_violations()


@pytest.mark.anyio
async def test_async_gateway_runs_unchanged_through_the_proxy(
    gateway_proxy: GatewayProxy, tmp_path: Path
) -> None:
    poll = PollPolicy(initial=0.2, multiplier=1.0, maximum=0.2)
    async with AsyncGateway(gateway_proxy.key, gateway_proxy.base_url, poll=poll) as gw:
        job = await gw.text_to_image("a paper boat", num_images=3)
        await job.wait(timeout=30)
        files = await job.download(tmp_path)
    assert len(files) == 3
    gateway_proxy.assert_no_violations()


def test_seedream_cli_runs_unchanged_through_the_proxy(
    gateway_proxy: GatewayProxy, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    code = seedream(
        ["--base-url", gateway_proxy.base_url, "--api-key", gateway_proxy.key, "--json",
         "--poll-interval", "0.2", "generate", "a bowl of fruit", "--out", str(tmp_path)]
    )  # fmt: skip
    assert code == 0, capsys.readouterr()
    result = json.loads(capsys.readouterr().out)
    assert result["status"] == "COMPLETED"
    assert len(list(tmp_path.glob("*.png"))) == 1
    gateway_proxy.assert_no_violations()


def test_webhook_header_passes_through_to_the_upstream(
    gateway_proxy: GatewayProxy, webhook_receiver: WebhookReceiver
) -> None:
    with _client(gateway_proxy) as http:
        headers = {"X-Webhook-URL": webhook_receiver.url}
        accepted = http.post(T2I, json={"prompt": "a bowl of fruit"}, headers=headers)
    assert accepted.status_code == 202
    (callback,) = webhook_receiver.wait_for(1, timeout=20)
    assert callback.json()["request_id"] == accepted.json()["request_id"]
    gateway_proxy.assert_no_violations()


def test_an_invalid_request_is_reported_once_and_forwarded(gateway_proxy: GatewayProxy) -> None:
    with _client(gateway_proxy) as http:
        answer = http.post(T2I, json={"prompt": "a cat", "num_images": 5})
    assert answer.status_code == 400 and LOCAL not in answer.headers  # the mock answered
    (violation,) = gateway_proxy.violations()
    assert violation["rule"] == "request-schema"
    assert violation["operation"] == "liteTextToImageSubmit"
    assert violation["evidence"] == answer.json()["message"]  # the mock's own validators
    assert gateway_proxy.mock.requests(path=T2I)[0]["status"] == 400
    assert gateway_proxy.report()["spend"]["spent_usd"] == "0"  # a 400 is not billed


@pytest.mark.gateway_proxy(reject_invalid=True)
def test_reject_invalid_answers_400_locally_and_never_forwards(
    gateway_proxy: GatewayProxy,
) -> None:
    with _client(gateway_proxy) as http:
        answer = http.post(T2I, json={"prompt": "a cat", "num_images": 5})
        wrong_type = http.post(T2I, content=b"{}", headers={"Content-Type": "text/plain"})
        fine = http.post(T2I, json={"prompt": "a cat"})
    assert answer.status_code == 400 and answer.headers[LOCAL] == "invalid-request"
    assert answer.json() == {
        "error": "Bad Request",
        "message": "num_images: must be between 1 and 4 (got 5)",
    }
    assert wrong_type.status_code == 400 and wrong_type.headers[LOCAL] == "invalid-request"
    assert fine.status_code == 202
    assert [e["status"] for e in gateway_proxy.mock.requests(path=T2I)] == [202]
    report = gateway_proxy.report()
    assert [r["reason"] for r in report["refusals"]] == ["invalid-request"] * 2
    assert {v["rule"] for v in report["violations"]} == {"request-schema", "request-content-type"}


@pytest.mark.gateway_proxy(max_spend_usd="0.25")
def test_spend_cap_refuses_submits_over_the_limit(gateway_proxy: GatewayProxy) -> None:
    before = gateway_proxy.mock.balance()
    with _client(gateway_proxy) as http:
        first = http.post(BP_T2I, json={"prompt": "a cat", "size": "2K"})  # $0.2
        second = http.post(BP_T2I, json={"prompt": "a dog", "size": "2K"})  # would be $0.4
        lite = http.post(T2I, json={"prompt": "a cat"})  # $0.035: still fits
        refused_lite = http.post(T2I, json={"prompt": "a cat", "num_images": 2})  # $0.07
    assert first.status_code == 202 and lite.status_code == 202
    for refused in (second, refused_lite):
        assert refused.status_code == 402 and refused.headers[LOCAL] == "spend-cap"
        body = refused.json()
        assert set(body) == {"error", "message"}
        assert "spend limit" in body["message"] and "$0.25" in body["message"]
    assert before - gateway_proxy.mock.balance() == Decimal("0.235")
    assert len(gateway_proxy.mock.requests(method="POST")) == 2  # the refused never arrived
    report = gateway_proxy.report()
    assert report["spend"]["spent_usd"] == "0.235" and report["spend"]["max_spend_usd"] == "0.25"
    assert [r["reason"] for r in report["refusals"]] == ["spend-cap", "spend-cap"]


@pytest.mark.gateway_proxy(max_spend_usd="0.035")
def test_a_rejected_submit_releases_its_reservation(gateway_proxy: GatewayProxy) -> None:
    with _client(gateway_proxy) as http:
        invalid = http.post(T2I, json={"prompt": ""})  # forwarded, answered 400: not billed
        valid = http.post(T2I, json={"prompt": "a cat"})
    assert invalid.status_code == 400 and LOCAL not in invalid.headers
    assert valid.status_code == 202
    spend = gateway_proxy.report()["spend"]
    assert spend["spent_usd"] == "0.035" and spend["released_usd"] == "0.035"


def test_status_of_an_unknown_id_and_unknown_routes(gateway_proxy: GatewayProxy) -> None:
    with _client(gateway_proxy) as http:
        unknown = http.get("/v2/requests/status/byteplus_00000000-0000-7000-8000-000000000000")
        route = http.get("/_mock/keys")  # never forwarded: the control API stays out of reach
        wrong_method = http.get(T2I)
    assert unknown.status_code == 404 and unknown.json()["error"] == "Request not found"
    for answer in (route, wrong_method):
        assert answer.status_code == 404 and answer.headers[LOCAL] == "not-forwarded"
        assert answer.json() == {"statusCode": 404, "message": "Resource not found"}
    gateway_proxy.assert_no_violations()


def test_keys_never_reach_the_report_or_the_log(
    gateway_proxy: GatewayProxy, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG)
    key = gateway_proxy.key
    with httpx.Client(base_url=gateway_proxy.base_url, trust_env=False) as http:
        http.post(f"{T2I}?subscription-key={key}", json={"prompt": "x", "seed": key})
        http.get(
            "/v2/requests/status/byteplus_00000000-0000-7000-8000-000000000000",
            headers=gateway_proxy.headers,
        )
    report = json.dumps(gateway_proxy.report())
    assert "<api-key>" in report and key not in report
    assert "proxy violation" in caplog.text and key not in caplog.text


def test_upstream_that_does_not_answer_gets_502_and_keeps_the_reservation() -> None:
    closed = listening_socket("127.0.0.1", 0)  # bound, never listening: connection refused
    try:
        with proxy_client(f"http://127.0.0.1:{closed.getsockname()[1]}") as http:
            answer = http.post(T2I, json={"prompt": "a cat"})
            spend = report(http)["spend"]
    finally:
        closed.close()
    assert answer.status_code == 502 and answer.headers[LOCAL] == "upstream-error"
    assert answer.json()["error"] == "Bad Gateway"
    assert spend["spent_usd"] == "0.035"  # it may have been queued: assume it was billed


def test_what_the_report_keeps_is_bounded() -> None:
    limits: dict[str, Any] = {"max_exchanges": 3, "max_violations": 2, "max_body_chars": 40}
    with start_server() as mock, proxy_client(mock.base_url, **limits) as http:
        for images in range(5, 10):  # five different violations
            http.post(T2I, json={"prompt": "a cat " * 20, "num_images": images})
        kept = report(http)
    assert kept["counts"] == {"exchanges": 5, "violations": 5, "refusals": 0}
    assert [e["seq"] for e in kept["exchanges"]] == [3, 4, 5]
    assert [v["seq"] for v in kept["violations"]] == [4, 5]
    body = kept["exchanges"][-1]["request"]["body"]
    assert isinstance(body, str) and body.endswith("characters)") and len(body) < 80


def test_the_fixture_proxy_records_and_binds_loopback(mock_gateway: Any, tmp_path: Path) -> None:
    from mock_gateway.cli import build_parser
    from seedream_contracts.recording import load_recording

    with GatewayProxy.start(mock_gateway, record_dir=tmp_path) as proxy, _client(proxy) as http:
        http.post(T2I, json={"prompt": "a cat"})
    index, exchanges = load_recording(tmp_path)  # the index is written when the proxy stops
    assert [e["scenario"] for e in exchanges] == ["submit.generated-valid"]
    assert index["target"]["kind"] == "proxy"
    assert build_parser().parse_args(["proxy", "--upstream", "http://x"]).host == "127.0.0.1"


@pytest.mark.parametrize(
    ("content", "headers"),
    [
        (b'{"prompt": "a cat"}', {"X-Webhook-URL": "http://[::1"}),  # not even a URL
        (b"\xff\xfe", {}),  # not UTF-8
        (b'{"prompt": "\\ud800"}', {}),  # a lone surrogate
        (b'{"prompt": "a cat", "num_images": 1e400}', {}),
    ],
)
def test_malformed_requests_get_the_gateways_4xx_never_a_500(
    gateway_proxy: GatewayProxy, content: bytes, headers: dict[str, str]
) -> None:
    with _client(gateway_proxy) as http:
        answer = http.post(
            T2I, content=content, headers={"Content-Type": "application/json", **headers}
        )
    assert answer.status_code == 400 and set(answer.json()) == {"error", "message"}
    assert len(gateway_proxy.violations()) == 1


def test_a_recording_that_fails_never_breaks_the_traffic(
    mock_gateway: Any, tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    import shutil

    record = tmp_path / "recording"
    with GatewayProxy.start(mock_gateway, record_dir=record) as proxy, _client(proxy) as http:
        shutil.rmtree(record)  # the disk went away under the proxy
        answer = http.post(T2I, json={"prompt": "a cat"})
        assert answer.status_code == 202
        assert proxy.report()["counts"]["exchanges"] == 1  # reported, not recorded
    assert "could not report or record exchange #1" in caplog.text
    assert "could not finish the recording" in caplog.text


@pytest.mark.gateway_proxy(max_spend_usd="0.105")
def test_concurrent_submits_never_take_the_session_over_the_limit(
    gateway_proxy: GatewayProxy,
) -> None:
    from concurrent.futures import ThreadPoolExecutor

    def submit(_: int) -> int:
        with _client(gateway_proxy) as http:
            return http.post(T2I, json={"prompt": "a cat"}).status_code

    with ThreadPoolExecutor(max_workers=8) as pool:
        statuses = sorted(pool.map(submit, range(8)))
    assert statuses == [202] * 3 + [402] * 5  # $0.035 each: three fit in $0.105
    assert gateway_proxy.report()["spend"]["spent_usd"] == "0.105"
