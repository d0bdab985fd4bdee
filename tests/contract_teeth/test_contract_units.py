"""The contract suite's own machinery, without any server: the URL policy and sanitizers,
the transport's refusals, the spend guard, the plan, redaction, the drift diff, and the
shipped documented recording."""

from __future__ import annotations

import copy
import json
import subprocess
import sys
import unittest
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest
import requests

from seedream_contracts.diff import compare, load_profile
from seedream_contracts.documented import DEFAULT_DIR, build
from seedream_contracts.exchange import Exchange
from seedream_contracts.guard import BudgetExceeded, SpendGuard
from seedream_contracts.redact import Redactor
from seedream_contracts.safety import (
    REMOVED,
    UrlPolicy,
    sanitize_body,
    sanitize_headers,
    unsafe_urls,
)
from seedream_contracts.spec import clamp_images, load_contract
from seedream_contracts.transport import GuardedSession, UnsafeRequest

SAMPLE = load_contract().sample_urls[0]
RECEIVER = "http://127.0.0.1:9/hook/abc/"


class NoNetwork(requests.adapters.BaseAdapter):
    """Answers 202 to everything, so a test can watch what the session lets through."""

    def __init__(self) -> None:
        super().__init__()
        self.sent: list[requests.PreparedRequest] = []

    def send(self, request: requests.PreparedRequest, *args: Any, **kwargs: Any) -> Any:
        self.sent.append(request)
        response = requests.Response()
        response.status_code = 202
        response._content = b"{}"
        response.request = request
        return response

    def close(self) -> None:
        pass


def session(budget: Decimal | None = None) -> tuple[GuardedSession, NoNetwork, list[Exchange]]:
    seen: list[Exchange] = []
    guarded = GuardedSession(
        guard=SpendGuard(budget),
        policy=UrlPolicy(RECEIVER),
        target_origin="http://127.0.0.1:8000",
        free_keys=lambda: {"broke"},
        on_exchange=seen.append,
    )
    adapter = NoNetwork()
    guarded.mount("http://", adapter)
    guarded.mount("https://", adapter)
    return guarded, adapter, seen


def test_policy_allows_only_samples_data_urls_and_the_receiver() -> None:
    policy = UrlPolicy(RECEIVER)
    assert policy.allowed(SAMPLE)
    assert policy.allowed("data:image/png;base64,AAAA")
    assert policy.allowed(RECEIVER + "x")
    assert policy.allowed("a lighthouse at dawn")
    for foreign in ("https://evil.example/x.png", "//evil.example/x", "ftp://host/file"):
        assert not policy.allowed(foreign)


def test_sanitizers_remove_foreign_urls_and_keep_validity() -> None:
    policy = UrlPolicy(RECEIVER)
    body = {"prompt": "p", "image_urls": ["https://evil.example/a.png"], "x": {"u": "http://h/"}}
    positive = sanitize_body("liteEditSubmit", copy.deepcopy(body), policy, positive=True)
    assert positive["image_urls"] == [policy.sample_for(0)]
    assert positive["x"] == {"u": policy.sample_for(2)} or policy.allowed(positive["x"]["u"])
    negative = sanitize_body("liteEditSubmit", copy.deepcopy(body), policy, positive=False)
    assert negative["image_urls"] == [REMOVED] and negative["x"]["u"] == REMOVED
    assert not load_contract().request_errors("liteEditSubmit", positive | {"x": None})
    headers = {"X-Webhook-URL": "https://evil.example/hook", "Other": "https://a.b/"}
    assert sanitize_headers(headers, None) == {"Other": REMOVED}
    assert sanitize_headers(headers, RECEIVER)["X-Webhook-URL"] == RECEIVER


def test_unsafe_urls_finds_what_the_sanitizers_remove() -> None:
    policy = UrlPolicy(RECEIVER)
    body = json.dumps({"image": "https://evil.example/a.png"}).encode()
    assert unsafe_urls(policy, {}, body)
    assert unsafe_urls(policy, {"X-Webhook-URL": "https://evil.example/h"}, None)
    assert not unsafe_urls(
        policy, {"X-Webhook-URL": RECEIVER + "t"}, json.dumps({"image": SAMPLE}).encode()
    )


def test_the_transport_refuses_foreign_urls_and_leaking_the_key() -> None:
    guarded, adapter, _ = session()
    with pytest.raises(UnsafeRequest, match="evil"):
        guarded.post(
            "http://127.0.0.1:8000/byteplus/v1/getEditImage",
            json={"prompt": "p", "image": "https://evil.example/a.jpg"},
        )
    with pytest.raises(UnsafeRequest, match="API key"):
        guarded.get("https://cdn.example/out.png", headers={"Ocp-Apim-Subscription-Key": "k"})
    assert adapter.sent == []


def test_the_guard_reserves_before_sending_and_stops_at_the_budget() -> None:
    guarded, adapter, seen = session(Decimal("0.1"))
    guarded.guard.begin_check("check", Decimal("0.1"))
    url = (
        "http://127.0.0.1:8000/seedream-5-0-lite-text-to-image/v1/"
        "seedream-5-0-lite-text-to-image-request"
    )
    key = {"Ocp-Apim-Subscription-Key": "funded"}
    guarded.post(url, json={"prompt": "p", "num_images": 2}, headers=key)
    assert guarded.guard.spent == Decimal("0.070") and seen[0].cost == Decimal("0.070")
    with pytest.raises(BudgetExceeded) as caught:
        guarded.post(url, json={"prompt": "p", "num_images": 1}, headers=key)
    assert isinstance(caught.value, unittest.SkipTest)  # Hypothesis re-raises, never replays
    assert len(adapter.sent) == 1
    guarded.post(url, json={"prompt": "p"}, headers={"Ocp-Apim-Subscription-Key": "broke"})
    guarded.post(url, json={"prompt": "p"})  # no key: nobody to bill
    assert guarded.guard.spent == Decimal("0.070")


def test_clamp_images_is_pessimistic() -> None:
    assert [clamp_images(v) for v in (None, 0, 1, 3, 9, 36e9, "4", 2.5, True)] == [
        1,
        1,
        1,
        3,
        4,
        4,
        4,
        4,
        4,
    ]


def test_redaction_hides_keys_signed_urls_and_hosts() -> None:
    redactor = Redactor(keys={"secret-key": "api-key"}, hosts={"http://127.0.0.1:8000": "{gw}"})
    exchange = Exchange(
        seq=1,
        check="c",
        scenario="s",
        operation="getStatus",
        method="GET",
        url="http://127.0.0.1:8000/v2/requests/status/x",
        request_headers={"Ocp-Apim-Subscription-Key": "secret-key"},
        request_body=None,
        status=200,
        response_headers={"content-type": "application/json"},
        response_body=json.dumps(
            {"u": "https://cdn/x.png?X-Amz-Signature=abc&X-Amz-Date=1", "echo": "secret-key"}
        ).encode(),
    )
    fixture = json.dumps(redactor.exchange(exchange))
    assert "secret-key" not in fixture and "abc" not in fixture
    assert "{gw}/v2/requests/status/x" in fixture and "X-Amz-Signature=redacted" in fixture


def _profile(**changes: Any) -> dict[str, Any]:
    base: dict[str, Any] = {
        "groups": {
            "op submit.example": {
                "statuses": {"202": 1},
                "fields": {"202": {"$": ["object"], "request_id": ["string"]}},
                "messages": {},
            }
        },
        "media": {
            "op square": {
                "statuses": ["200"],
                "content_types": ["image/png"],
                "formats": ["PNG"],
                "sizes": ["512x512"],
            }
        },
        "timing": {"op": {"created_to_completed_median_s": 50.0}},
    }
    for path, value in changes.items():
        node = base
        *parents, last = path.split("/")
        for part in parents:
            node = node[part]
        node[last] = value
    return base


@pytest.mark.parametrize(
    ("change", "kind"),
    [
        ({"groups/op submit.example/statuses": {"200": 1}}, "status"),
        (
            {
                "groups/op submit.example/fields": {
                    "202": {"$": ["object"], "request_id": ["integer"]}
                }
            },
            "field-retyped",
        ),
        ({"groups/op submit.example/fields": {"202": {"$": ["object"]}}}, "field-missing"),
        ({"media/op square/content_types": ["image/jpeg"]}, "media"),
        ({"media/op square/sizes": ["1024x1024"]}, "media"),
        ({"timing/op": {"created_to_completed_median_s": 1.0}}, "timing"),
    ],
)
def test_diff_names_each_kind_of_drift(change: dict[str, Any], kind: str) -> None:
    drift, _ = compare(_profile(), _profile(**change))
    assert [d.kind for d in drift] == [kind]


def test_the_documented_recording_is_in_step_with_the_contract() -> None:
    index, fixtures = build()
    shipped = json.loads((DEFAULT_DIR / "index.json").read_text())
    assert len(shipped["exchanges"]) == len(fixtures)
    for name, fixture in zip(shipped["exchanges"], fixtures, strict=True):
        assert json.loads((DEFAULT_DIR / "exchanges" / name).read_text()) == fixture, name
    assert shipped["timing"] == index["timing"]
    drift, coverage = compare(load_profile(DEFAULT_DIR), load_profile(DEFAULT_DIR))
    assert drift == [] and coverage == []


def test_the_documented_recording_holds_no_secret() -> None:
    text = "".join(p.read_text() for p in Path(DEFAULT_DIR).rglob("*.json"))
    assert "YOUR_SUBSCRIPTION_KEY" not in text and "test-key" not in text


def test_ranges_print_as_a_reader_reads_them() -> None:
    from seedream_contracts.timing import seconds_range

    assert seconds_range(33.7485, 134.994) == "33.7-135 s"
    assert seconds_range(0.0, 30.0) == "0-30 s"


def test_a_known_mock_bug_that_passes_fails_the_run(tmp_path: Path) -> None:
    """known_bugs.py is strict: a fixed bug left in the list turns the run red."""
    check = tmp_path / "test_known.py"
    check.write_text(
        "from seedream_contracts.known_bugs import known_bug_mark\n"
        "BUGS = {'test_fixed': 'was broken', 'test_still_broken': 'is broken'}\n"
        "mark_fixed = known_bug_mark('test_fixed', BUGS)\n"
        "mark_open = known_bug_mark('test_still_broken', BUGS)\n"
        "assert known_bug_mark('test_other', BUGS) is None\n"
        "@mark_fixed\n"
        "def test_fixed():\n    pass\n"
        "@mark_open\n"
        "def test_still_broken():\n    assert False\n"
    )
    done = subprocess.run(
        [sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", str(check)],
        cwd=tmp_path,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert done.returncode == 1, done.stdout
    assert "XPASS(strict)" in done.stdout and "1 failed, 1 xfailed" in done.stdout
