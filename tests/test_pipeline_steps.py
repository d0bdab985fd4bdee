"""What each step of the pipeline decides, seen from its Outcome: which calls the fault rules
see, what client hygiene notes, which input images a job gets, what advancing the world
carries back. No HTTP; one frozen clock (``timing="manual"``: a job waits 1 s, runs 2 s)."""

from __future__ import annotations

import dataclasses
import io
import json
from typing import Any

import pytest
from PIL import Image

from gateway_helpers import BP_EDIT, BP_T2I, CAT, EDIT, MODEL, T0, T2I
from mock_gateway.config.paths import fixtures_dir
from mock_gateway.pipeline import Compute, FetchInputs, Outcome, World, submit
from mock_gateway.pipeline.submit import INLINE_BYTES
from pipeline_helpers import (
    BASE,
    HOOK,
    arm,
    body_of,
    decided,
    kinds,
    polled,
    submit_call,
    submitted,
    world,
)

IMAGES = fixtures_dir() / "images"
REMOTE = "https://example.com/a.png"
OTHER = "https://example.com/b.png"
NOT_FETCHED = "no remote input is fetched unless fetch_remote_inputs = true"


def image(fmt: str, size: tuple[int, int] = (64, 48)) -> bytes:
    out = io.BytesIO()
    Image.new("RGB", size, (200, 100, 50)).save(out, format=fmt)
    return out.getvalue()


def request_id(outcome: Outcome) -> str:
    assert outcome.answer.status == 202, outcome.answer
    return str(body_of(outcome)["request_id"])


def ended(w: World, outcome: Outcome, at: float = T0 + 60) -> Any:
    return body_of(polled(w, request_id(outcome), at=at))


# -- the fault rules see what the call is --------------------------------------------------


@pytest.mark.parametrize(
    ("rule", "path", "body"),
    [
        ({"endpoint": "liteTextToImageSubmit"}, T2I, None),
        ({"model": "seedream-5-0-lite-text-to-image"}, T2I, None),
        ({"model": "byteplus"}, BP_T2I, None),  # the route's slug
        ({"model": "seedream-4-5-251128"}, BP_T2I, None),  # the model the body chose
        ({"key": "test-key"}, T2I, None),
        ({"prompt_contains": "FOX"}, T2I, {"prompt": "a red fox"}),
    ],
)
def test_a_submit_rule_matches_on_each_thing_it_can_filter(
    rule: dict[str, Any], path: str, body: Any
) -> None:
    w = world()
    arm(w, status=503, **rule)
    assert submitted(w, body, path=path).answer.status == 503


@pytest.mark.parametrize(
    "rule",
    [
        {"endpoint": "byteplusTextToImageSubmit"},
        {"model": "byteplus"},
        {"key": "other-key"},
        {"prompt_contains": "zebra"},
        {"endpoint": "status"},
    ],
)
def test_a_submit_rule_leaves_other_calls_alone(rule: dict[str, Any]) -> None:
    w = world()
    arm(w, status=503, **rule)
    assert submitted(w).answer.status == 202


def test_a_status_rule_matches_the_polling_key_and_the_jobs_model() -> None:
    w = world()
    job = submitted(w, path=BP_T2I)  # id prefix "byteplus", model seedream-4-5-251128
    arm(w, status=503, endpoint="status", key="test-key", times=1)
    arm(w, status=504, endpoint="status", model="seedream-4-5-251128", times=1)
    arm(w, status=502, endpoint="status", key="other-key")
    assert polled(w, request_id(job)).answer.status == 503
    assert polled(w, request_id(job)).answer.status == 504
    assert polled(w, request_id(job)).answer.status == 200


def test_a_status_rule_matches_the_model_an_unknown_id_names() -> None:
    w = world()
    arm(w, status=503, endpoint="status", model="seedream-5-0-lite-edit")
    assert polled(w, "seedream-5-0-lite-edit_a_b").answer.status == 503  # up to the first _
    assert polled(w, "seedream-5-0-lite-edit").answer.status == 503
    assert polled(w, "byteplus_seedream-5-0-lite-edit").answer.status == 404


def test_an_injected_402_on_a_poll_names_the_price_of_the_model_its_id_names() -> None:
    w = world(prices={"liteEditSubmit": "0.05"})
    arm(w, status=402, endpoint="status")
    named = body_of(polled(w, "seedream-5-0-lite-edit_x_y"))["message"]
    assert named.endswith("Required: $0.05")


def test_an_outcome_rule_decides_how_the_job_ends() -> None:
    w = world(timing="manual")
    arm(w, outcome="FAILED", error="injected: no luck", times=1)
    failed = ended(w, submitted(w))
    assert (failed["status"], failed["error"]) == ("FAILED", "injected: no luck")
    assert ended(w, submitted(w, at=T0 + 61), at=T0 + 121)["status"] == "COMPLETED"


def test_an_outcome_rule_holds_while_remote_inputs_are_fetched() -> None:
    w = world(timing="manual", fetch_remote_inputs=True)
    arm(w, outcome="ERROR", times=1)
    asking = submit(w, submit_call({"prompt": "a hat", "image_urls": [REMOTE]}, path=EDIT), T0)
    assert isinstance(asking, FetchInputs)
    job = decided(asking.resume({REMOTE: image("PNG")}, T0 + 1))
    assert ended(w, job)["status"] == "ERROR"


def test_a_dropped_call_still_carries_its_latency_and_what_advancing_caused() -> None:
    w = world(timing="manual")
    submitted(w, hook=HOOK)
    arm(w, drop_connection=True, latency_ms=250, endpoint="status")
    dropped = polled(w, "x", at=T0 + 10)
    assert dropped.drop and dropped.delay_seconds == 0.25
    assert dropped.advanced.finished == 1 and len(dropped.advanced.webhooks) == 1


# -- client hygiene ------------------------------------------------------------------------


def test_an_injected_429_starts_a_retry_after_the_next_call_is_held_to() -> None:
    w = world()
    arm(w, status=429, retry_after=30, endpoint="submit", times=1)
    assert submitted(w).answer.status == 429
    early = submitted(w, at=T0 + 1)
    assert early.answer.status == 202 and kinds(early) == ["retry-before-retry-after"]
    assert early.note.warnings[0][2] == (29.0, 30)


def test_an_injected_429_without_retry_after_holds_the_next_call_for_a_second() -> None:
    w = world()
    arm(w, status=429, endpoint="submit", times=1)
    submitted(w)
    assert submitted(w, at=T0 + 0.5).note.warnings[0][2] == (0.5, 1)
    assert kinds(submitted(w, at=T0 + 1.5, body={"prompt": "other"})) == []


def test_an_injected_429_on_polls_holds_polls_not_submits() -> None:
    w = world()
    arm(w, status=429, retry_after=10, endpoint="status", times=1)
    assert polled(w, "x").answer.status == 429
    assert kinds(submitted(w, at=T0 + 1)) == []
    assert kinds(polled(w, "x", at=T0 + 2)) == ["retry-before-retry-after"]


def test_another_injected_status_starts_no_retry_after() -> None:
    w = world()
    arm(w, status=503, retry_after=30, endpoint="submit", times=1)
    assert submitted(w).answer.status == 503
    assert kinds(submitted(w, at=T0 + 1)) == []


def test_polling_on_after_a_terminal_status_is_noted() -> None:
    w = world(timing="manual")
    job = request_id(submitted(w))
    assert kinds(polled(w, job, at=T0 + 10)) == []
    again = polled(w, job, at=T0 + 20)
    assert kinds(again) == ["poll-after-terminal"]
    assert again.note.warnings[0][2] == (job, "COMPLETED")


def test_a_call_keeps_every_flag_it_earned_in_order() -> None:
    """An early retry (API Management's step) and a poll after a terminal status (the
    status step): the journal notes both, the earlier step's first."""
    w = world(timing="manual")
    job = request_id(submitted(w))
    assert kinds(polled(w, job, at=T0 + 10)) == []
    arm(w, status=429, retry_after=10, endpoint="status", times=1)
    assert polled(w, job, at=T0 + 11).answer.status == 429
    both = polled(w, job, at=T0 + 12)
    assert both.answer.status == 200
    assert kinds(both) == ["retry-before-retry-after", "poll-after-terminal"]
    assert isinstance(both.note.warnings, tuple)


def test_a_resent_submit_is_noted_but_not_the_same_body_elsewhere_or_another_body() -> None:
    w = world()
    submitted(w, {"prompt": "twice"})
    assert kinds(submitted(w, {"prompt": "twice"}, path=BP_T2I, at=T0 + 1)) == []
    assert kinds(submitted(w, {"prompt": "once"}, at=T0 + 2)) == []
    resent = submitted(w, {"prompt": "twice"}, at=T0 + 5)
    assert kinds(resent) == ["duplicate-submit"] and resent.note.warnings[0][2] == (5.0,)


def test_an_any_key_account_is_forgotten_once_idle_but_not_while_it_calls() -> None:
    w = world(any_key=True, any_key_idle_seconds=60)
    for at in (T0, T0 + 50, T0 + 100):
        assert polled(w, "x", key="made-up", at=at).answer.status == 404
    assert w.core.account("made-up") is not None  # its calls kept it
    polled(w, "x", at=T0 + 161)  # another key's call moves the world on
    assert w.core.account("made-up") is None


# -- input images --------------------------------------------------------------------------


def queued_inputs(outcome: Outcome) -> tuple[bytes, ...]:
    assert outcome.queued is not None, outcome.answer
    return outcome.queued.spec.input_images


def test_the_documentations_sample_urls_and_the_mocks_own_resolve_offline() -> None:
    cat, model = (IMAGES / "cat.jpg").read_bytes(), (IMAGES / "model.png").read_bytes()
    urls = [f"{BASE}/samples/cat.jpg", MODEL]
    outcome = submitted(world(), {"prompt": "a hat", "image_urls": urls}, path=EDIT)
    assert queued_inputs(outcome) == (cat, model) and kinds(outcome) == []
    assert outcome.queued is not None
    assert (outcome.queued.spec.width, outcome.queued.spec.height) == (1024, 768)  # cat's
    sample = submitted(world(), {"prompt": "a hat", "image": CAT}, path=BP_EDIT)
    assert queued_inputs(sample) == (cat,)
    other_host = submitted(
        world(), {"prompt": "a hat", "image_urls": ["http://other:1/samples/cat.jpg"]}, path=EDIT
    )
    assert queued_inputs(other_host) == ()  # not this mock's URL: not looked up


def test_an_input_never_fetched_is_named_in_the_note() -> None:
    long_url = "https://example.com/" + "x" * 100  # 120 characters: shown whole
    longer = long_url + "y"  # 121: cut to 117 and "..."
    urls = [CAT, REMOTE, long_url, longer]
    outcome = submitted(world(), {"prompt": "a hat", "image_urls": urls}, path=EDIT)
    assert len(queued_inputs(outcome)) == 1 and kinds(outcome) == ["input-not-fetched"]
    shown = f"{REMOTE}, {long_url}, {longer[:117]}..."
    assert outcome.note.warnings[0][2] == (shown, NOT_FETCHED)


def test_fetched_inputs_fill_the_gaps_in_order_and_a_failed_fetch_is_named() -> None:
    w = world(fetch_remote_inputs=True)
    cat, fetched = (IMAGES / "cat.jpg").read_bytes(), image("PNG", (48, 64))
    body = {"prompt": "a hat", "image_urls": [REMOTE, CAT, OTHER]}
    asking = submit(w, submit_call(body, path=EDIT), T0)
    assert isinstance(asking, FetchInputs) and asking.urls == (REMOTE, OTHER)
    outcome = decided(asking.resume({REMOTE: fetched, OTHER: None}, T0 + 1))
    assert queued_inputs(outcome) == (fetched, cat)
    assert outcome.note.warnings[-1][2] == (OTHER, "fetching it failed")
    assert outcome.queued is not None
    assert (outcome.queued.spec.width, outcome.queued.spec.height) != (1024, 768)  # REMOTE's


@pytest.mark.parametrize(
    ("path", "field", "fmt", "kept"),
    [
        (BP_EDIT, "image", "GIF", True),  # byteplus takes GIF, BMP, TIFF too
        (EDIT, "image_urls", "GIF", False),
        (EDIT, "image_urls", "WEBP", True),
    ],
)
def test_a_fetched_input_is_kept_only_in_a_format_the_operation_takes(
    path: str, field: str, fmt: str, kept: bool
) -> None:
    w = world(fetch_remote_inputs=True)
    data = image(fmt)
    body = {"prompt": "a hat", field: [REMOTE] if field == "image_urls" else REMOTE}
    asking = submit(w, submit_call(body, path=path), T0)
    assert isinstance(asking, FetchInputs)
    outcome = decided(asking.resume({REMOTE: data}, T0))
    assert queued_inputs(outcome) == ((data,) if kept else ())
    assert kinds(outcome) == ([] if kept else ["input-not-fetched"])


def test_fetched_bytes_that_are_no_image_are_left_out() -> None:
    w = world(fetch_remote_inputs=True)
    body = {"prompt": "a hat", "image_urls": [REMOTE]}
    asking = submit(w, submit_call(body, path=EDIT), T0)
    assert isinstance(asking, FetchInputs)
    outcome = decided(asking.resume({REMOTE: b"<html>not found</html>"}, T0))
    assert queued_inputs(outcome) == () and kinds(outcome) == ["input-not-fetched"]


# -- the body, and what advancing the world carries back ------------------------------------


def test_a_refused_body_is_answered_with_its_own_message() -> None:
    outcome = submitted(world(), b"[1,")
    assert outcome.answer.status == 400
    assert body_of(outcome)["message"].startswith("body: malformed JSON")


def test_a_body_up_to_the_inline_size_is_decided_at_once_and_a_bigger_one_off_the_loop() -> None:
    def padded(size: int) -> bytes:
        start = b'{"prompt": "a fox", "pad": "'
        return start + b"x" * (size - len(start) - 2) + b'"}'

    assert isinstance(submit(world(), submit_call(padded(INLINE_BYTES)), T0), Outcome)
    assert isinstance(submit(world(), submit_call(padded(INLINE_BYTES + 1)), T0), Compute)


def finishing_world() -> World:
    """Job A finishes at T0+3, job B at T0+5: both with a webhook."""
    w = world(timing="manual")
    submitted(w, {"prompt": "a"}, hook=HOOK)
    submitted(w, {"prompt": "b"}, hook=HOOK, at=T0 + 2)
    return w


def test_a_submit_carries_back_the_jobs_that_finished_before_it() -> None:
    outcome = submitted(finishing_world(), at=T0 + 4)
    assert outcome.advanced.finished == 1 and len(outcome.advanced.webhooks) == 1


def test_a_submit_parsed_off_the_loop_carries_back_both_advances() -> None:
    w = finishing_world()
    big = {"prompt": "a fox", "pad": "x" * INLINE_BYTES}
    pending = submit(w, submit_call(big), T0 + 4)  # A has finished
    assert isinstance(pending, Compute)
    outcome = decided(pending.resume(pending.work(), T0 + 6))  # and now B
    assert outcome.advanced.finished == 2
    assert [due.at for due in outcome.advanced.webhooks] == [T0 + 3, T0 + 5]


def test_a_submit_that_fetched_inputs_carries_back_both_advances() -> None:
    w = finishing_world()
    w.fetch_remote_inputs = True
    asking = submit(w, submit_call({"prompt": "a", "image_urls": [REMOTE]}, path=EDIT), T0 + 4)
    assert isinstance(asking, FetchInputs)
    outcome = decided(asking.resume({REMOTE: None}, T0 + 6))
    assert outcome.advanced.finished == 2 and len(outcome.advanced.webhooks) == 2


# -- the world ----------------------------------------------------------------------------


def test_only_a_completed_job_is_served_as_media() -> None:
    w = world(timing="manual")
    job = request_id(submitted(w))
    assert w.completed_job(job) is None
    polled(w, job, at=T0 + 3)
    done = w.completed_job(job)
    assert done is not None and done.request_id == job


def test_a_job_queued_without_its_host_gets_root_relative_media_urls_in_its_webhook() -> None:
    """A job that does not record the host its client used (one restored from elsewhere)
    still gets a webhook whose media URLs are valid under whatever host serves them."""
    w = world(timing="manual")
    queued = submitted(w).queued
    assert queued is not None
    account = w.core.account("test-key")
    assert account is not None
    spec = dataclasses.replace(queued.spec, extra={}, webhook_url=HOOK)
    w.core.submit(account, spec, T0)
    [due] = polled(w, "x", at=T0 + 10).advanced.webhooks
    assert json.loads(due.body)["output"]["media_url"][0].startswith("/media/")
