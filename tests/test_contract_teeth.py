"""Proof that the contract suite has teeth.

The suite (``python -m seedream_contracts``, in its own process, over real HTTP on 127.0.0.1) runs
against the real mock served by ``mock-gateway serve`` and against deliberately wrong
gateways (``contract_teeth/broken_gateway.py``: the real mock app with one documented
behaviour broken). Against the real mock it passes; against each broken one it exits
non-zero and its report names the broken clause. Two more runs treat the mock as if it were
the live gateway, to show the spend guard: a first run costs nothing, and a small budget is
never exceeded.

All runs start together (they mostly wait on each other's HTTP), so the module takes about
as long as the slowest few runs.
"""

from __future__ import annotations

import contextlib
import json
import re
import subprocess
import sys
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from decimal import Decimal
from pathlib import Path
from typing import Any

import httpx
import pytest

from server_process import ROOT, running_server

BROKEN_GATEWAY = Path(__file__).resolve().parent / "contract_teeth" / "broken_gateway.py"
QUICK = ["--examples", "2", "--lifecycle-examples", "1", "-q"]
# The Hypothesis-driven schemathesis checks cost seconds of CPU each run and none of the
# breakages depends on them, so the broken and live-mode runs leave them out; the run
# against the real mock runs everything.
FOCUSED = ["-k", "not generated"]
KEYS = ["--api-key", "test-key", "--broke-key", "broke-key"]
# Each broken gateway and the clause its report must name as failed.
BROKEN = {
    "accepted-200": "SUBMIT-202",
    "completed-goes-back": "STATUS-FORWARD",
    "no-polling-url": "SUBMIT-BODY",
    "500-on-bad-input": "NO-5XX",
    "wrong-402-message": "BALANCE-402",
    "one-media-url-short": "MEDIA-COUNT",
    "png-for-jpeg": "MEDIA-DOWNLOAD",
    "429-without-retry-after": "RESPONSE-HEADERS",
    "outcome-faults-ignored": "CONTROL-FAULT-APPLIES",
}
LIVE_BUDGET = Decimal("0.10")
SERVE = [sys.executable, "-m", "mock_gateway", "serve", "--host", "127.0.0.1", "--port", "0"]


@dataclass
class Outcome:
    code: int
    report: dict[str, Any]
    output: str
    markdown: str = ""
    left: dict[str, Any] = field(default_factory=dict)  # the target's state after the run

    def verdict(self, clause_id: str) -> str:
        return str(next(c["verdict"] for c in self.report["clauses"] if c["id"] == clause_id))

    def failed_clauses(self) -> dict[str, str]:
        return {c["id"]: c["reason"] for c in self.report["clauses"] if c["verdict"] == "failed"}


@contextlib.contextmanager
def gateway(command: list[str]) -> Iterator[str]:
    """Start a gateway process, wait until it answers, yield its base URL, stop it."""
    with running_server(command) as server:
        yield server.base_url


def run_suite(url: str, report: Path, *options: str) -> Outcome:
    command = [
        sys.executable,
        "-m",
        "seedream_contracts",
        "--gateway-url",
        url,
        "--report",
        str(report),
        *KEYS,
        *QUICK,
        *options,
    ]
    done = subprocess.run(command, cwd=ROOT, capture_output=True, text=True, timeout=300)
    data = json.loads(report.read_text()) if report.exists() else {}
    md = report.with_suffix(".md")
    text = md.read_text() if md.exists() else ""
    return Outcome(done.returncode, data, done.stdout[-6000:] + done.stderr[-3000:], text)


def mock_state(url: str) -> dict[str, Any]:
    """What a run leaves behind: every key with its balance, and the fault rules."""
    with httpx.Client(base_url=url, timeout=10, trust_env=False) as http:
        keys = http.get("/_mock/keys").json()["keys"]
        faults = http.get("/_mock/faults").json()["faults"]
    return {"keys": {k["key"]: k["balance_usd"] for k in keys}, "faults": faults}


def _broken(tmp: Path, name: str) -> Outcome:
    with gateway([sys.executable, str(BROKEN_GATEWAY), name]) as url:
        outcome = run_suite(url, tmp / f"{name}.json", "--target-kind", "mock", *FOCUSED)
        outcome.left = mock_state(url)
        return outcome


def _by_url(tmp: Path) -> Outcome:
    """The whole suite against a running ``mock-gateway serve`` given only by its URL."""
    with gateway(SERVE) as url:
        before = mock_state(url)
        outcome = run_suite(url, tmp / "real.json")
        outcome.left = {"before": before, **mock_state(url)}
        return outcome


@pytest.fixture(scope="module")
def outcomes(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Outcome]:
    tmp = tmp_path_factory.mktemp("teeth")
    live = ["--target-kind", "live", "--check-timing", "no", *FOCUSED]
    with gateway(SERVE) as url, ThreadPoolExecutor(max_workers=6) as pool:
        futures = {
            "real": pool.submit(_by_url, tmp),
            "live-first-run": pool.submit(run_suite, url, tmp / "live0.json", *live),
            "live-budget": pool.submit(
                run_suite,
                url,
                tmp / "live-budget.json",
                *live,
                "--max-spend",
                str(LIVE_BUDGET),
                "--poll-interval",
                "0.05",
            ),
        }
        futures.update({name: pool.submit(_broken, tmp, name) for name in BROKEN})
        return {name: future.result() for name, future in futures.items()}


def test_suite_passes_against_the_real_mock_over_http(outcomes: dict[str, Outcome]) -> None:
    outcome = outcomes["real"]
    assert outcome.code == 0, outcome.output
    known = {
        cid
        for cid, reason in outcome.failed_clauses().items()
        if reason.startswith("known mock bug")
    }
    assert set(outcome.failed_clauses()) == known, outcome.failed_clauses()
    passed = [c["id"] for c in outcome.report["clauses"] if c["verdict"] == "passed"]
    assert len(passed) >= 30, outcome.report["clauses"]
    assert Decimal(outcome.report["spend"]["spent_usd"]) > 0
    # the summary names both files it wrote; ranges read like "34-136 s", not "33.7485-134.994"
    assert re.search(r"report: \S+real\.json and \S+real\.md", outcome.output), outcome.output
    assert re.search(r"\| \d+(\.\d)?-\d+(\.\d)? s \|", outcome.markdown), outcome.markdown
    assert not re.search(r"\d\.\d{2,}-\d", outcome.markdown)


def test_suite_given_a_url_recognises_the_mock(outcomes: dict[str, Outcome]) -> None:
    """Before: a URL meant "live": budget $0, 29 of 40 clauses skipped, no money checks."""
    target = outcomes["real"].report["target"]
    assert target["kind"] == "mock" and target["detected"] is True, target
    assert target["control_api"] is True and target["timing_profile"] == "fast", target
    assert outcomes["real"].verdict("MONEY-CHARGE") == "passed"


def test_suite_leaves_a_shared_mock_as_it_found_it(outcomes: dict[str, Outcome]) -> None:
    """Before: each run took $5.675 from test-key and left 12 keys and 3 spent fault rules."""
    left = outcomes["real"].left
    assert left["keys"] == left["before"]["keys"], left  # same keys, same balances
    assert left["faults"] == [], left["faults"]


@pytest.mark.parametrize("name", sorted(BROKEN))
def test_a_failed_run_also_removes_its_keys_and_faults(
    outcomes: dict[str, Outcome], name: str
) -> None:
    left = outcomes[name].left
    assert not [key for key in left["keys"] if key.startswith("contract-suite-")], left
    assert left["faults"] == [], left["faults"]


@pytest.mark.parametrize("name", sorted(BROKEN))
def test_broken_gateway_is_caught_and_named(outcomes: dict[str, Outcome], name: str) -> None:
    outcome = outcomes[name]
    assert outcome.code == 1, outcome.output
    assert outcome.verdict(BROKEN[name]) == "failed", outcome.failed_clauses()
    clause = next(c for c in outcome.report["clauses"] if c["id"] == BROKEN[name])
    assert clause["evidence"] and clause["evidence"][0]["exchange"], clause


def test_a_first_live_run_costs_nothing(outcomes: dict[str, Outcome]) -> None:
    outcome = outcomes["live-first-run"]
    spend = outcome.report["spend"]
    assert outcome.code == 0, outcome.output
    assert spend["budget_usd"] == "0" and Decimal(spend["spent_usd"]) == 0
    assert spend["billable_requests"] == 0
    assert spend["skipped_for_budget"], spend  # billable checks were planned out
    for clause_id in ("AUTH-MISSING-401", "AUTH-INVALID-401", "BALANCE-402", "ROUTE-UNKNOWN-404"):
        assert outcome.verdict(clause_id) == "passed"
    assert outcome.verdict("SUBMIT-202") == "skipped"


def test_a_small_budget_is_never_exceeded(outcomes: dict[str, Outcome]) -> None:
    outcome = outcomes["live-budget"]
    spend = outcome.report["spend"]
    assert outcome.code == 0, outcome.output
    assert Decimal(spend["spent_usd"]) <= LIVE_BUDGET
    assert Decimal(spend["planned_total_usd"]) <= LIVE_BUDGET
    partial = spend["parts_skipped_for_budget"]
    assert any("documented_examples" in check for check in partial), spend
    assert outcome.verdict("MEDIA-DOWNLOAD") == "passed"  # the cheap examples did run
