"""What a submit does once, and the shortcuts that make it cheap, held to the slow way.

Time moves in one place (``World.advance``, first in every pipeline call): the core's
``submit`` and ``find_job`` no longer advance the queue a second time. A non-finite
number is refused wherever it sits in a body (the strict JSON parse is held to Python's
lenient reading).
"""

from __future__ import annotations

import dataclasses
import json
import math
import random
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from gateway_helpers import BP_EDIT, EDIT, T0
from mock_gateway.core import GatewayCore, JobStatus
from mock_gateway.core.ids import IdSource, new_request_id, uuid7
from mock_gateway.pipeline import Compute, Outcome, StatusCall, status, submit
from mock_gateway.pipeline.answers import accepted, json_answer
from mock_gateway.validation import request, urls
from mock_gateway.validation.body import parse_json
from mock_gateway.validation.rejection import Rejection
from pipeline_helpers import BASE, submit_call, world
from test_core import make_core, status_of
from test_core import submit as core_submit


def counting_advances(core: GatewayCore, monkeypatch: pytest.MonkeyPatch) -> list[float]:
    moments: list[float] = []
    advance = core.queue.advance

    def counted(now: float) -> Any:
        moments.append(now)
        return advance(now)

    monkeypatch.setattr(core.queue, "advance", counted)
    return moments


def test_a_submit_and_a_poll_each_advance_the_queue_once(monkeypatch: pytest.MonkeyPatch) -> None:
    w = world()
    moments = counting_advances(w.core, monkeypatch)
    outcome = submit(w, submit_call(), T0)
    assert isinstance(outcome, Outcome) and outcome.queued is not None
    assert moments == [T0]
    status(w, StatusCall("test-key", outcome.queued.request_id, BASE), T0 + 1)
    assert moments == [T0, T0 + 1]


def test_jobs_through_one_base_url_share_their_extra() -> None:
    """A finished job's memory: one ``extra`` dict (and URL string) per base URL, not per job."""
    w = world()
    call = submit_call()
    other = dataclasses.replace(call, base_url="http://localhost:9000")
    first, second, elsewhere = (submit(w, c, T0) for c in (call, dataclasses.replace(call), other))
    jobs = [o.queued for o in (first, second, elsewhere) if isinstance(o, Outcome)]
    assert all(job is not None for job in jobs) and len(jobs) == 3
    a, b, c = (job.spec for job in jobs if job is not None)
    assert a.extra is b.extra and a.extra == {"base_url": BASE}
    assert c.extra == {"base_url": "http://localhost:9000"}


def test_the_core_moves_time_only_when_advanced() -> None:
    core = make_core()
    first = core_submit(core, T0).job
    core_submit(core, T0 + 100)  # no advance: the first job has not even started
    assert first.status is JobStatus.QUEUED
    assert core.find_job("rich", first.request_id) is first
    assert first.status is JobStatus.QUEUED
    core.advance(T0 + 100)
    assert status_of(first) is JobStatus.COMPLETED


# -- non-finite numbers, wherever they sit (objects without duplicate keys: an overwritten
# non-finite value is refused too, which Python's reading cannot show) --------------------

NUMBERS = st.one_of(
    st.integers(-(10**30), 10**30).map(str),
    st.floats(allow_nan=False, allow_infinity=False).map(repr),
    st.sampled_from(["NaN", "Infinity", "-Infinity", "1e308", "1e309", "-2E+308", "1.7e308"]),
    # a double's largest is 1.8e308: 309 digits before the point, no exponent, overflow
    st.sampled_from(["9" * 308 + ".5", "9" * 309 + ".5", "-" + "1" * 320 + ".0", "9" * 309]),
    st.tuples(st.integers(300, 320), st.sampled_from(["", ".5", "e0", "e-10"])).map(
        lambda size_tail: "9" * size_tail[0] + size_tail[1]
    ),
)
STRINGS = st.sampled_from(['"a red bicycle"', '"3e"', '"NaN"', '"1e999"', '"x"'])


def documents(depth: int = 3) -> st.SearchStrategy[str]:
    leaves = st.one_of(NUMBERS, STRINGS, st.sampled_from(["true", "null"]))
    return st.recursive(
        leaves,
        lambda inner: st.one_of(
            st.lists(inner, max_size=4).map(lambda items: "[" + ", ".join(items) + "]"),
            st.lists(st.tuples(STRINGS, inner), max_size=4, unique_by=lambda pair: pair[0]).map(
                lambda pairs: "{" + ", ".join(f"{k}: {v}" for k, v in pairs) + "}"
            ),
        ),
        max_leaves=12,
    )


def non_finite(value: Any) -> bool:
    if isinstance(value, float):
        return not math.isfinite(value)
    items = value.values() if isinstance(value, dict) else value if isinstance(value, list) else ()
    return any(non_finite(item) for item in items)


@settings(max_examples=300, deadline=None)
@given(text=documents())
def test_a_non_finite_number_is_refused_wherever_it_is(text: str) -> None:
    lenient = json.loads(text)  # Python's reading: NaN, Infinity and 1e999 become floats
    parsed = parse_json(text.encode())
    if non_finite(lenient):
        assert isinstance(parsed, Rejection), text
        assert "must be a finite number" in parsed.message
    else:
        assert parsed == lenient


@given(now=st.floats(0, 2**47 / 1000), seed=st.integers(0, 2**32))
def test_a_request_id_is_the_uuid7_it_always_was(now: float, seed: int) -> None:
    # new_request_id formats the UUID's digits itself (no UUID object per submit)
    made = new_request_id("byteplus", now, random.Random(seed))
    assert made == f"byteplus_{uuid7(now, random.Random(seed))}"


ANY_TEXT = st.text(st.characters(exclude_categories=()), max_size=40)  # surrogates too


@given(request_id=ANY_TEXT, base_url=ANY_TEXT)
def test_the_202_body_is_the_json_of_its_fields(request_id: str, base_url: str) -> None:
    # accepted() builds the bytes without a dict; they are what encoding the dict gives,
    # lone surrogates (which only ASCII-escaped JSON can carry) included
    url = f"{base_url}/v2/requests/status/{request_id}"
    fields = {"request_id": request_id, "status": "QUEUED", "polling_url": url}
    assert accepted(request_id, url) == json_answer(202, fields)


def test_an_input_image_url_is_parsed_once(monkeypatch: pytest.MonkeyPatch) -> None:
    parsed: list[object] = []
    real = urls.parse_url

    def counted(text: object) -> urls.Url | urls.BadUrl:
        parsed.append(text)
        return real(text)

    monkeypatch.setattr(urls, "parse_url", counted)
    monkeypatch.setattr(request, "parse_url", counted, raising=False)  # where it was used
    image = "https://example.com/a/cat.png"
    body = {"prompt": "a fox", "image_urls": [image]}
    outcome = submit(world(), submit_call(body, path=EDIT), T0)
    assert isinstance(outcome, Outcome) and outcome.answer.status == 202
    assert parsed == [image]


@pytest.mark.parametrize(
    ("image", "says"),
    [
        ("https://a/x.svg", "'.svg' (accepted: JPG, JPEG, PNG, WEBP, BMP, TIFF, TIF, GIF)"),
        (
            "data:image/svg;base64,AAAA",
            "'svg' (accepted: JPG, JPEG, PNG, WEBP, BMP, TIFF, TIF, GIF)",
        ),
    ],
)
def test_an_unsupported_format_is_worded_as_before(image: str, says: str) -> None:
    # the list of formats is worded only for a refusal now, the same words
    body = {"prompt": "a fox", "image": image}
    outcome = submit(world(), submit_call(body, path=BP_EDIT), T0)
    if isinstance(outcome, Compute):  # a data URL is parsed off the event loop
        outcome = outcome.resume(outcome.work(), T0)
    assert isinstance(outcome, Outcome) and outcome.answer.status == 400
    message = json.loads(outcome.answer.body)["message"]
    assert message.startswith("image: unsupported image format ") and message.endswith(says)


def test_a_seeded_source_draws_as_it_always_did() -> None:
    drawn = random.Random("request-ids/7")
    rand_a, rand_b = drawn.getrandbits(12), drawn.getrandbits(62)
    value = uuid7(T0, IdSource(7)).int
    assert (value >> 64) & 0xFFF == rand_a and value & ((1 << 62) - 1) == rand_b
