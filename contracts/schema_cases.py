"""Schemathesis over the contract: generated cases, made safe, sent, and validated.

Cases come from schemathesis's Hypothesis strategies for each operation (positive or
negative). Each is sanitized (``safety.py``) before anything is sent, and classified again
against the contract afterwards: sanitizing can make a negative case valid, and the suite
judges the answer by what was actually sent. Responses go through schemathesis's own
conformance checks, each mapped to a clause.
"""

from __future__ import annotations

import functools
from collections.abc import Callable
from typing import Any

import schemathesis
import schemathesis.checks as st_checks
from hypothesis import HealthCheck, Phase, settings
from hypothesis import strategies as st
from requests.structures import CaseInsensitiveDict
from schemathesis import Case, GenerationMode

from seedream_contracts import openapi_path
from seedream_contracts.clauses import SCHEMATHESIS_CHECKS
from seedream_contracts.run import Run
from seedream_contracts.safety import UrlPolicy, sanitize_body, sanitize_headers
from seedream_contracts.spec import KEY_HEADER, load_contract
from seedream_contracts.verdicts import Verifier

RESPONSE_CHECKS: list[Callable[..., Any]] = [
    getattr(st_checks, name) for name in SCHEMATHESIS_CHECKS
]
# "unsupported_method" expects 405; the gateway sits behind APIM, which answers an unknown
# method with its 404 "Resource not found" (docs/gateway-facts.md#b1), checked by
# ROUTE-UNKNOWN-404 instead.
EXCLUDED_CHECKS = ("unsupported_method", "ignored_auth", "missing_required_header")


@functools.cache
def api_schema() -> Any:
    return schemathesis.openapi.from_path(str(openapi_path()))


def api_operation(operation_id: str) -> Any:
    for result in api_schema().get_all_operations():
        operation = result.ok()
        if operation.definition.raw.get("operationId") == operation_id:
            return operation
    raise KeyError(operation_id)


@functools.cache
def raw_cases(operation_id: str, mode: GenerationMode, key: str | None) -> Any:
    """Schemathesis's own strategy for one operation (cached: building one is slow)."""
    headers = {KEY_HEADER: key} if key else None
    return api_operation(operation_id).as_strategy(generation_mode=mode, headers=headers)


def hypothesis_settings(max_examples: int) -> settings:
    """Bounded, deterministic, no shrinking (each shrink step would be a paid request)."""
    return settings(
        max_examples=max_examples,
        database=None,
        deadline=None,
        derandomize=True,
        phases=[Phase.explicit, Phase.generate],
        suppress_health_check=list(HealthCheck),
        report_multiple_bugs=False,
    )


def make_safe(
    case: Case[Any], operation_id: str, positive: bool, policy: UrlPolicy, receiver_url: str | None
) -> Case[Any]:
    """Strip every URL the target could contact from a generated case (in place)."""
    if operation_id != "getStatus":
        case.body = sanitize_body(operation_id, case.body, policy, positive)
    headers = sanitize_headers(dict(case.headers or {}), receiver_url if positive else None)
    case.headers = CaseInsensitiveDict(headers)
    return case


def cases(run: Run, operation_id: str, mode: GenerationMode) -> st.SearchStrategy[Case[Any]]:
    """Generated cases of one operation, made safe for any target."""
    positive = mode == GenerationMode.POSITIVE
    receiver = run.receiver.url_for(operation_id) if run.receiver and positive else None
    strategy = api_operation(operation_id).as_strategy(generation_mode=mode, headers=run.headers())
    policy = run.session.policy
    safe: st.SearchStrategy[Case[Any]] = strategy.map(
        lambda case: make_safe(case, operation_id, positive, policy, receiver)
    )
    return safe


def is_valid(operation_id: str, case: Case[Any]) -> bool:
    """Whether the request as it will be sent conforms to the contract."""
    if operation_id == "getStatus":
        return True
    media_type = (case.media_type or "application/json").split(";")[0].strip().lower()
    if media_type != "application/json" or not isinstance(case.body, dict):
        return False
    return not load_contract().request_errors(operation_id, case.body)


def send(run: Run, case: Case[Any], scenario: str, key: str | None = None) -> Any:
    headers = {KEY_HEADER: key} if key is not None else run.headers()
    with run.session.labelled(scenario):
        return case.call(
            base_url=run.target.base_url, session=run.session, headers=headers, timeout=60
        )


def conformance(case: Case[Any], response: Any, v: Verifier) -> None:
    """Schemathesis's conformance checks, one by one, each recorded under its clause."""
    for check in RESPONSE_CHECKS:
        clause_id = SCHEMATHESIS_CHECKS[check.__name__]
        try:
            case.validate_response(response, checks=[check])
        except Exception as exc:  # FailureGroup and friends: the message is the evidence
            v.expect(clause_id, False, f"{check.__name__}: {_first_line(exc)}")
        else:
            v.expect(clause_id, True)


def _first_line(exc: BaseException) -> str:
    text = str(exc).strip()
    lines = [line.strip() for line in text.splitlines() if line.strip()]
    return " / ".join(lines[:3])[:400]
