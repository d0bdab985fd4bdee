"""Webhook callbacks: Standard Webhooks signatures, parsing, and the 127.0.0.1 receiver."""

from __future__ import annotations

import json
import time

import httpx
import pytest
from seedream_testing import WEBHOOK_SECRET, InProcess

from seedream_client import (
    APIResponseValidationError,
    Gateway,
    Status,
    WebhookReceiver,
    WebhookVerificationError,
    webhooks,
)

FAILED_BODY = {
    "request_id": "byteplus_019dxxxx-xxxx-xxxx-xxxx-xxxxxxxxxxxx",
    "status": "ERROR",
    "model_id": "byteplus",
    "error": "Description of the error",
    "output": None,
}


def test_known_answer_from_the_standard_webhooks_spec() -> None:
    # The example of the Standard Webhooks / Svix documentation.
    headers = webhooks.sign(
        '{"test": 2432232314}', WEBHOOK_SECRET, msg_id="msg_p5jXN8AQM9LWM0D4loKWxJek",
        timestamp=1614265330,
    )  # fmt: skip
    assert headers["webhook-signature"] == "v1,g0hM9SsE+OTPJTGt/tmIKtSyZlE3uFJELVlNIOLJ1OE="


def test_verify_accepts_good_and_rejects_bad_signatures() -> None:
    body = json.dumps(FAILED_BODY)
    now = int(time.time())
    headers = webhooks.sign(body, WEBHOOK_SECRET, msg_id="msg_1", timestamp=now)
    webhooks.verify(body, headers, WEBHOOK_SECRET)
    # several signatures (key rotation): any valid one passes
    rotated = {**headers, "webhook-signature": "v1,bm9wZQ== " + headers["webhook-signature"]}
    webhooks.verify(body.encode(), rotated, WEBHOOK_SECRET)
    bad_cases = {
        "tampered body": (body.replace("ERROR", "COMPLETED"), headers),
        "wrong secret": (
            body,
            webhooks.sign(body, "whsec_" + "A" * 32, msg_id="msg_1", timestamp=now),
        ),
        "missing headers": (body, {}),
        "stale": (body, webhooks.sign(body, WEBHOOK_SECRET, msg_id="m", timestamp=now - 301)),
        "future": (body, webhooks.sign(body, WEBHOOK_SECRET, msg_id="m", timestamp=now + 301)),
        "not v1": (body, {**headers, "webhook-signature": headers["webhook-signature"][3:]}),
    }
    for case, (payload, hdrs) in bad_cases.items():
        with pytest.raises(WebhookVerificationError):
            webhooks.verify(payload, hdrs, WEBHOOK_SECRET)
            pytest.fail(case)


def test_parse_gives_the_same_type_as_status() -> None:
    status = webhooks.parse(json.dumps(FAILED_BODY))
    assert status.status is Status.ERROR and status.error == "Description of the error"
    assert webhooks.parse(FAILED_BODY) == status
    with pytest.raises(APIResponseValidationError):
        webhooks.parse(b"not json")
    with pytest.raises(APIResponseValidationError):
        webhooks.parse({"status": "DONE", "request_id": "x"})
    gw_hooks = Gateway("k", "http://gw.test", webhook_secret=WEBHOOK_SECRET).webhooks
    headers = webhooks.sign(
        json.dumps(FAILED_BODY), WEBHOOK_SECRET, msg_id="a", timestamp=int(time.time())
    )
    assert gw_hooks.unwrap(json.dumps(FAILED_BODY), headers) == status
    assert "whsec" not in repr(gw_hooks)


def test_receiver_answers_and_collects_over_http() -> None:
    body = json.dumps(FAILED_BODY)
    with WebhookReceiver(secret=WEBHOOK_SECRET) as receiver, httpx.Client() as http:
        assert receiver.url.startswith("http://127.0.0.1:")
        signed = webhooks.sign(body, WEBHOOK_SECRET, msg_id="msg_a", timestamp=int(time.time()))
        assert http.post(receiver.url, content=body, headers=signed).status_code == 200
        assert http.post(receiver.url, content=body, headers=signed).status_code == 200  # resent
        assert http.post(receiver.url, content=body).status_code == 401
        not_json = webhooks.sign("{", WEBHOOK_SECRET, msg_id="msg_b", timestamp=int(time.time()))
        assert http.post(receiver.url, content=b"{", headers=not_json).status_code == 400
        assert receiver.get(timeout=1).request_id == FAILED_BODY["request_id"]
        with pytest.raises(TimeoutError):
            receiver.get(timeout=0.05)  # the resent delivery was kept once
    assert len(receiver.received) == 1 and len(receiver.rejected) == 2


@pytest.mark.anyio
async def test_mock_status_body_round_trips_through_the_receiver(mock: InProcess) -> None:
    """A callback body is the status body at that moment (gateway docs); take a real one
    from the mock, deliver it signed to the receiver, and get the same JobStatus back."""
    with WebhookReceiver(secret=WEBHOOK_SECRET) as receiver:
        async with mock.gateway() as gw:
            job = await gw.text_to_image("ping me", webhook_url=receiver.url)
            status = await job.wait(timeout=10)
            raw = await gw._http.get(f"{mock.base_url}/v2/requests/status/{job.request_id}",
                                     headers={"Ocp-Apim-Subscription-Key": "test-key"})  # fmt: skip
        signed = webhooks.sign(raw.content, WEBHOOK_SECRET, msg_id="m1", timestamp=int(time.time()))
        async with httpx.AsyncClient() as http:
            answer = await http.post(receiver.url, content=raw.content, headers=signed)
        assert answer.status_code == 200
        delivered = await receiver.aget(timeout=2)
    assert delivered == status and delivered.media_urls == status.media_urls


@pytest.mark.anyio
async def test_mock_delivers_to_the_receiver(make_mock: object) -> None:
    """The full round trip: the mock POSTs (signed) to X-Webhook-URL on 127.0.0.1."""
    mock: InProcess = await make_mock(webhooks={"signing_secret": WEBHOOK_SECRET})  # type: ignore[operator]
    sent: list[httpx.Request] = []

    class Spy(httpx.AsyncBaseTransport):
        async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
            sent.append(request)
            return await mock.transport().handle_async_request(request)

    with WebhookReceiver(secret=WEBHOOK_SECRET) as receiver:
        async with mock.gateway(transport=Spy()) as gw:
            job = await gw.text_to_image("call me back", webhook_url=receiver.url)
            status = await job.wait(timeout=10)
        assert sent[0].headers["X-Webhook-URL"] == receiver.url
        delivered = await receiver.aget(timeout=5)
    assert delivered == status and not receiver.rejected
