"""SAFE-URLS: no generated request carries a URL the target could contact.

Draws raw cases from the same schemathesis strategies the schema checks use, sanitizes each
exactly as they do, and scans the result the way the transport does before every send; no
request is sent. It also counts the raw cases that did carry foreign URLs, to show the
sanitizer has work to do. (The transport scans every request actually sent, too.)
"""

from __future__ import annotations

import copy
import json
from collections.abc import Callable
from typing import Any

from hypothesis import given
from schemathesis import GenerationMode

from seedream_contracts.plan import clauses
from seedream_contracts.run import Run
from seedream_contracts.safety import sanitize_body, sanitize_headers, unsafe_urls
from seedream_contracts.schema_cases import hypothesis_settings, raw_cases
from seedream_contracts.spec import load_contract
from seedream_contracts.verdicts import Verifier

OPERATIONS = [*load_contract().submits, "getStatus"]


def _scan(run: Run, headers: Any, body: Any) -> list[str]:
    shown = {str(k): str(v) for k, v in (headers or {}).items()}
    raw = json.dumps(body).encode() if isinstance(body, dict | list | str) else None
    return unsafe_urls(run.session.policy, shown, raw)


@clauses("SAFE-URLS")
def test_generated_requests_carry_no_foreign_url(run: Run) -> None:
    per_mode = max(3, run.options.examples)  # each draw costs ~60 ms of schemathesis work
    counts = {"scanned": 0, "raw_with_foreign_urls": 0}
    with run.book.verify() as v:
        for operation_id in OPERATIONS:
            for mode in (GenerationMode.POSITIVE, GenerationMode.NEGATIVE):
                if operation_id == "getStatus" and mode == GenerationMode.NEGATIVE:
                    continue  # no check generates these
                _scanner(run, v, operation_id, mode, counts, per_mode)()
        v.expect("SAFE-URLS", counts["scanned"] > 0, "no case was generated", evidence=counts)


def _scanner(
    run: Run,
    v: Verifier,
    operation_id: str,
    mode: GenerationMode,
    counts: dict[str, int],
    examples: int,
) -> Callable[[], None]:
    policy = run.session.policy
    positive = mode == GenerationMode.POSITIVE
    receiver = run.receiver.url_for("safety") if run.receiver and positive else None

    @hypothesis_settings(examples)
    @given(case=raw_cases(operation_id, mode, run.api_key))
    def scan(case: Any) -> None:
        counts["raw_with_foreign_urls"] += bool(_scan(run, case.headers, case.body))
        body = case.body
        if operation_id != "getStatus":
            body = sanitize_body(operation_id, copy.deepcopy(body), policy, positive)
        headers = sanitize_headers(case.headers, receiver)
        problems = _scan(run, headers, body)
        counts["scanned"] += 1
        v.expect(
            "SAFE-URLS",
            not problems,
            f"{operation_id}: sanitized request still carries {problems[:3]}",
            evidence={"headers": headers, "body": body},
        )

    return scan
