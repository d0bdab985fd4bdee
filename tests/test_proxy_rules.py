"""Every rule the proxy checks, against a deliberately wrong upstream that breaks just it.

Each wrong upstream is the real mock behind an ASGI wrapper that rewrites one kind of
answer (``contract_teeth/broken_gateway.py``, the contract suite's own broken gateways,
plus a few more here). Each must give exactly its rule's violation; the unbroken mock none.
"""

from __future__ import annotations

import json
import time
from collections.abc import Callable
from typing import Any

import httpx
import pytest

from contract_teeth.broken_gateway import (
    STATUS_PREFIX,
    CompletedGoesBack,
    Rewrite,
    accepted_200,
    breaking,
    no_polling_url,
    no_retry_after,
    one_media_url_short,
    wrong_402_message,
)
from gateway_helpers import T2I
from mock_gateway.config.settings import Settings
from mock_gateway.testing.server_thread import ServerThread
from mock_gateway.web.app import create_app
from proxy_helpers import proxy_client, report, rules

Scenario = Callable[[httpx.Client], None]


def _edit_json(body: bytes, edit: Callable[[dict[str, Any]], dict[str, Any]]) -> bytes:
    return json.dumps(edit(json.loads(body))).encode()


def _completed(path: str, status: int) -> bool:
    return path.startswith(STATUS_PREFIX) and status == 200


def jpeg_for_png(method: str, path: str, status: int, headers: dict[str, str], body: bytes) -> Any:
    """A COMPLETED 5.0 Lite job says its outputs are JPEG (documented: PNG)."""

    def edit(data: dict[str, Any]) -> dict[str, Any]:
        if data.get("status") == "COMPLETED":
            data["output"]["media_type"] = "image/jpeg"
        return data

    return status, headers, _edit_json(body, edit) if _completed(path, status) else body


def completed_before_created(
    method: str, path: str, status: int, headers: dict[str, str], body: bytes
) -> Any:
    """completed_at is earlier than created_at (both well formed)."""

    def edit(data: dict[str, Any]) -> dict[str, Any]:
        if data.get("completed_at"):
            data["completed_at"] = "2020-01-01T00:00:00.000Z"
        return data

    return status, headers, _edit_json(body, edit) if _completed(path, status) else body


def _accepted(method: str, path: str, status: int) -> bool:
    return method == "POST" and status == 202


def polling_url_elsewhere(
    method: str, path: str, status: int, headers: dict[str, str], body: bytes
) -> Any:
    """The 202's polling_url points at another host."""

    def edit(data: dict[str, Any]) -> dict[str, Any]:
        return {
            **data,
            "polling_url": f"http://elsewhere.invalid{STATUS_PREFIX}{data['request_id']}",
        }

    return status, headers, _edit_json(body, edit) if _accepted(method, path, status) else body


def id_of_another_model(
    method: str, path: str, status: int, headers: dict[str, str], body: bytes
) -> Any:
    """A 5.0 Lite submit's request id names byteplus (a pattern the contract allows)."""
    if not _accepted(method, path, status):
        return status, headers, body
    data = json.loads(body)
    request_id = "byteplus_" + data["request_id"].split("_", 1)[1]
    polling_url = data["polling_url"].rsplit("/", 1)[0] + "/" + request_id
    return (
        status,
        headers,
        json.dumps({**data, "request_id": request_id, "polling_url": polling_url}).encode(),
    )


def text_plain(method: str, path: str, status: int, headers: dict[str, str], body: bytes) -> Any:
    """Status answers declare text/plain (documented: application/json)."""
    if path.startswith(STATUS_PREFIX):
        headers = {**headers, "content-type": "text/plain"}
    return status, headers, body


def submit_two(http: httpx.Client) -> None:
    assert http.post(T2I, json={"prompt": "a cat", "num_images": 2}).status_code < 500


def complete_and_read_again(http: httpx.Client) -> None:
    """Submit two images, poll until done, then read the finished job once more."""
    accepted = http.post(T2I, json={"prompt": "a cat", "num_images": 2}).json()
    url = STATUS_PREFIX + accepted["request_id"]
    deadline = time.monotonic() + 20
    while time.monotonic() < deadline:
        status = http.get(url)
        if status.status_code == 200 and '"COMPLETED"' in status.text:
            break
        time.sleep(0.2)
    http.get(url)


def three_submits_with_the_limited_key(http: httpx.Client) -> None:
    key = {"Ocp-Apim-Subscription-Key": "limited-key"}  # 2 submits a minute, then 429
    for _ in range(3):
        http.post(T2I, json={"prompt": "a cat"}, headers=key)


def broke_key_submit(http: httpx.Client) -> None:
    key = {"Ocp-Apim-Subscription-Key": "broke-key"}
    assert http.post(T2I, json={"prompt": "a cat"}, headers=key).status_code == 402


SCENARIOS: list[Scenario] = [
    submit_two,
    complete_and_read_again,
    three_submits_with_the_limited_key,
    broke_key_submit,
]
# rule -> (a wrong upstream's rewrite, the traffic that shows it)
BROKEN: dict[str, tuple[Callable[[], Rewrite], Scenario]] = {
    "status-documented": (lambda: accepted_200, submit_two),
    "body-schema": (lambda: no_polling_url, submit_two),
    "header-retry-after": (lambda: no_retry_after, three_submits_with_the_limited_key),
    "media-count": (lambda: one_media_url_short, complete_and_read_again),
    "media-type": (lambda: jpeg_for_png, complete_and_read_again),
    "status-forward": (CompletedGoesBack, complete_and_read_again),
    "timestamps": (lambda: completed_before_created, complete_and_read_again),
    "polling-url": (lambda: polling_url_elsewhere, submit_two),
    "id-prefix": (lambda: id_of_another_model, submit_two),
    "content-type": (lambda: text_plain, complete_and_read_again),
}


def _upstream(rewrite: Rewrite | None) -> ServerThread:
    app: Any = create_app(Settings.load(timing="fast"))
    return ServerThread(app if rewrite is None else breaking(app, rewrite))


@pytest.mark.parametrize("rule", sorted(BROKEN))
def test_a_wrong_upstream_breaks_exactly_its_rule(rule: str) -> None:
    make, scenario = BROKEN[rule]
    with _upstream(make()) as upstream, proxy_client(upstream.base_url) as http:
        scenario(http)
        found = report(http)
    assert {v["rule"] for v in found["violations"]} == {rule}, found["violations"]
    assert all(v["evidence"] and v["operation"] for v in found["violations"])


def test_a_wrong_402_message_breaks_the_body_schema() -> None:
    with _upstream(wrong_402_message) as upstream, proxy_client(upstream.base_url) as http:
        broke_key_submit(http)
        assert rules(http) == ["body-schema"]


def test_the_real_mock_breaks_no_rule() -> None:
    with _upstream(None) as upstream, proxy_client(upstream.base_url) as http:
        for scenario in SCENARIOS:
            scenario(http)
        found = report(http)
    assert found["violations"] == [] and found["counts"]["exchanges"] >= 8


def test_the_rewritten_polling_url_hides_where_the_upstream_pointed() -> None:
    with _upstream(polling_url_elsewhere) as upstream, proxy_client(upstream.base_url) as http:
        body = http.post(T2I, json={"prompt": "a cat"}).json()
    assert body["polling_url"].startswith(str(http.base_url).rstrip("/") + STATUS_PREFIX)


REQUESTS: dict[str, dict[str, Any]] = {
    "request-content-type": {"content": b"{}", "headers": {"Content-Type": "text/plain"}},
    "request-json": {"content": b"{", "headers": {"Content-Type": "application/json"}},
    "request-schema": {"json": {"prompt": "a cat", "seed": "42"}},
    "request-webhook-url": {"json": {"prompt": "a cat"}, "headers": {"X-Webhook-URL": "ftp://x"}},
}


@pytest.mark.parametrize("rule", sorted(REQUESTS))
def test_a_request_that_breaks_the_contract_is_reported(rule: str) -> None:
    with _upstream(None) as upstream, proxy_client(upstream.base_url) as http:
        forwarded = http.post(T2I, **REQUESTS[rule])
        with proxy_client(upstream.base_url, reject_invalid=True) as strict:
            refused = strict.post(T2I, **REQUESTS[rule])
            assert rules(strict) == [rule]
        assert rules(http) == [rule]
    assert forwarded.status_code == 400 and "x-mock-proxy" not in forwarded.headers
    assert refused.status_code == 400 and refused.headers["x-mock-proxy"] == "invalid-request"
    assert refused.json() == forwarded.json()  # the proxy answers what the mock would


def test_status_ids_and_bodies_beyond_the_contract() -> None:
    with _upstream(None) as upstream, proxy_client(upstream.base_url, max_body_bytes=1000) as http:
        long_id = http.get(STATUS_PREFIX + "x" * 201)
        huge = http.post(T2I, json={"prompt": "a" * 2000})
        found = rules(http)
    assert long_id.status_code == 404  # forwarded: the mock has no such request
    assert huge.status_code == 413 and huge.headers["x-mock-proxy"] == "body-too-large"
    assert found == ["request-status-id", "request-body-size"]


def huge_request_id(
    method: str, path: str, status: int, headers: dict[str, str], body: bytes
) -> Any:
    """A 202 whose request_id is 100,000 characters (schema messages quote it)."""
    if not _accepted(method, path, status):
        return status, headers, body
    return status, headers, _edit_json(body, lambda data: {**data, "request_id": "x" * 100_000})


def test_evidence_is_kept_short_and_on_one_line() -> None:
    with _upstream(huge_request_id) as upstream, proxy_client(upstream.base_url) as http:
        http.post(T2I, json={"prompt": "a cat"})
        found = report(http)["violations"]
    assert {v["rule"] for v in found} == {"body-schema", "id-prefix", "polling-url"}
    assert all(len(v["evidence"]) < 600 and "\n" not in v["evidence"] for v in found)


def test_the_same_violation_again_is_counted_not_listed_or_logged_again(
    caplog: pytest.LogCaptureFixture,
) -> None:
    with _upstream(jpeg_for_png) as upstream, proxy_client(upstream.base_url) as http:
        complete_and_read_again(http)
        for _ in range(3):
            http.get(STATUS_PREFIX + report(http)["violations"][0]["request_id"])
        found = report(http)
    (violation,) = found["violations"]
    assert violation["rule"] == "media-type" and violation["repeats"] == 4
    assert found["counts"]["violations"] == 5 and found["violations_by_rule"] == {"media-type": 5}
    assert caplog.text.count("[media-type]") == 1
