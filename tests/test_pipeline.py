"""The gateway pipeline without HTTP: one pure call per request, one Outcome back."""

from __future__ import annotations

import base64
from pathlib import Path

from gateway_helpers import BP_EDIT, EDIT, T0
from mock_gateway.config.paths import fixtures_dir
from mock_gateway.pipeline import Compute, FetchInputs, Outcome, StatusCall, status, submit
from mock_gateway.pipeline.answers import APIM_MISSING_KEY
from mock_gateway.validation.request import Rejection
from pipeline_helpers import BASE, HOOK, body_of, decided, submit_call, world

FIXTURES = fixtures_dir()


def test_a_submit_queues_a_job_and_notes_the_call() -> None:
    w = world()
    outcome = decided(submit(w, submit_call(), T0))
    assert outcome.answer.status == 202 and outcome.queued is not None
    answer = body_of(outcome)
    assert answer["status"] == "QUEUED"
    assert answer["polling_url"] == f"{BASE}/v2/requests/status/{answer['request_id']}"
    note = outcome.note
    assert note.key == "test-key" and note.request_id == answer["request_id"]
    assert note.body == b'{"prompt": "a fox"}' and note.faults == () and note.warnings == ()


def test_api_management_answers_before_the_body_is_looked_at() -> None:
    w = world()
    outcome = decided(submit(w, submit_call(b"not json", key=None), T0))
    assert outcome.answer.status == 401 and body_of(outcome)["message"] == APIM_MISSING_KEY
    assert outcome.note.body is None and outcome.queued is None


def test_a_body_the_http_layer_refused_is_answered_after_the_key_check() -> None:
    w = world()
    refused = Rejection(413, "Payload Too Large", "body: must be at most 1 bytes")
    outcome = decided(submit(w, submit_call(refused), T0))
    assert outcome.answer.status == 413 and body_of(outcome)["error"] == "Payload Too Large"
    assert w.core.wallet.balance("test-key") == 100_000_000


def test_a_poll_reuses_the_bytes_encoded_for_the_jobs_state() -> None:
    w = world()
    request_id = body_of(decided(submit(w, submit_call(), T0)))["request_id"]
    poll = StatusCall("test-key", request_id, BASE)
    first, second = status(w, poll, T0), status(w, poll, T0)
    assert first.answer.status == 200 and first.answer.body is second.answer.body
    done = status(w, poll, T0 + 60)
    assert body_of(done)["status"] == "COMPLETED" and done.answer.body is not first.answer.body
    other_host = status(w, StatusCall("test-key", request_id, "http://other:1"), T0 + 61)
    assert body_of(other_host)["output"]["media_url"][0].startswith("http://other:1/media/")


def test_the_webhook_carries_the_exact_bytes_a_poll_gets() -> None:
    w = world()
    call = submit_call(hook=HOOK)
    request_id = body_of(decided(submit(w, call, T0)))["request_id"]
    later = status(w, StatusCall("test-key", request_id, BASE), T0 + 60)
    [due] = later.advanced.webhooks
    assert later.advanced.finished == 1
    assert due.url == HOOK and due.key == "test-key" and due.request_id == request_id
    assert due.body is later.answer.body
    assert due.at < T0 + 60  # due when the job finished, not when someone looked


def test_another_keys_job_is_not_found() -> None:
    w = world()
    request_id = body_of(decided(submit(w, submit_call(), T0)))["request_id"]
    outcome = status(w, StatusCall("broke-key", request_id, BASE), T0)
    assert outcome.answer.status == 404 and outcome.note.request_id == request_id


def test_faults_come_back_as_instructions() -> None:
    w = world(faults=[{"latency_ms": 250, "times": 1}, {"status": 503, "times": 1}])
    outcome = decided(submit(w, submit_call(), T0))
    assert outcome.answer.status == 503 and outcome.delay_seconds == 0.25
    assert outcome.note.faults == ("f1", "f2") and outcome.queued is None
    dropping = world(faults=[{"drop_connection": True, "endpoint": "status"}])
    dropped = status(dropping, StatusCall("test-key", "x", BASE), T0)
    assert dropped.drop and dropped.note.faults == ("f1",)


def test_a_rate_limited_key_is_flagged_when_it_retries_early() -> None:
    w = world()
    call = submit_call(key="limited-key")
    statuses = [decided(submit(w, call, T0 + n * 0.01)).answer.status for n in range(3)]
    assert statuses == [202, 202, 429]
    early = decided(submit(w, call, T0 + 1))
    assert early.answer.status == 429
    assert dict(early.answer.headers)["Retry-After"]
    assert [flag[0] for flag in early.note.warnings] == ["retry-before-retry-after"]


def test_remote_inputs_are_asked_for_only_when_opted_in() -> None:
    url = "https://example.com/pet.png"
    body = {"prompt": "a hat", "image_urls": [url]}
    offline = decided(submit(world(), submit_call(body, path=EDIT), T0))
    assert offline.answer.status == 202
    w = world(fetch_remote_inputs=True)
    asking = submit(w, submit_call(body, path=EDIT), T0)
    assert isinstance(asking, FetchInputs) and asking.urls == (url,)
    resumed = decided(asking.resume({url: None}, T0 + 1))
    assert resumed.answer.status == 202 and resumed.queued is not None
    assert resumed.queued.created_at == T0 + 1


def test_a_data_url_is_decoded_off_the_event_loop() -> None:
    jpeg = base64.b64encode((FIXTURES / "images" / "cat.jpg").read_bytes()).decode()
    body = {"prompt": "a hat", "image": f"data:image/jpeg;base64,{jpeg}"}
    w = world()
    pending = submit(w, submit_call(body, path=BP_EDIT), T0)
    assert isinstance(pending, Compute)
    parsed = pending.work()  # what the HTTP layer runs in a worker thread
    outcome = decided(pending.resume(parsed, T0 + 1))
    assert outcome.answer.status == 202 and outcome.queued is not None
    assert outcome.queued.spec.input_images and outcome.queued.created_at == T0 + 1
    broken = {"prompt": "a hat", "image": "data:image/png;base64,AAAA"}
    refused = submit(w, submit_call(broken, path=BP_EDIT), T0)
    assert isinstance(refused, Compute)
    assert decided(refused.resume(refused.work(), T0)).answer.status == 400


def test_a_small_plain_body_is_decided_at_once() -> None:
    assert isinstance(submit(world(), submit_call(), T0), Outcome)


def test_the_world_advances_in_one_place() -> None:
    """Outside the core, only ``World.advance`` moves the queue and takes finished jobs."""
    package = Path(__file__).resolve().parent.parent / "mock_gateway"
    movers = sorted(
        str(path.relative_to(package))
        for path in package.rglob("*.py")
        if path.parent.name != "core"
        and any(
            call in path.read_text(encoding="utf-8")
            for call in ("core.advance(", "queue.advance(", "take_finished(", "find_job(")
        )
    )
    assert movers == ["pipeline/world.py"]
