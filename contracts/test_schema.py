"""Schemathesis over the contract: generated invalid requests are rejected with the
documented 400, generated valid ones are accepted, and every answer conforms to its status
code, content type and schema. Deterministic boundary cases back the generated ones up.
"""

from __future__ import annotations

from decimal import Decimal
from typing import Any

import pytest
from hypothesis import given
from schemathesis import GenerationMode

from seedream_contracts.boundary import BadRequest, bad_requests
from seedream_contracts.jobs import json_or_none, verify_accepted
from seedream_contracts.options import Options
from seedream_contracts.plan import clauses, cost, needs
from seedream_contracts.run import Run
from seedream_contracts.schema_cases import cases, conformance, hypothesis_settings, is_valid, send
from seedream_contracts.spec import KEY_HEADER, SubmitOperation, load_contract
from seedream_contracts.verdicts import ContractViolation, Verifier

SUBMITS = list(load_contract().submits.values())
ERROR_SCHEMA = "#/components/schemas/GatewayError"
CONFORMANCE = (
    "NO-5XX",
    "STATUS-CODE-DOCUMENTED",
    "CONTENT-TYPE",
    "RESPONSE-SCHEMA",
    "RESPONSE-HEADERS",
)


def _params(unit: Any) -> list[Any]:
    return [pytest.param(op, marks=cost(unit(op)), id=op.operation_id) for op in SUBMITS]


def _rejected(run: Run, status: int, body: Any, v: Verifier, what: str) -> None:
    v.expect("INVALID-400", status == 400, f"{what} answered {status}, not 400")
    if status == 400:
        errors = run.contract.schema_errors(ERROR_SCHEMA, body)
        v.expect(
            "ERROR-SHAPE-400",
            not errors and bool(str(body.get("message", "")).strip()),
            f"400 body {str(body)[:200]}: {'; '.join(errors[:2]) or 'empty message'}",
        )


@pytest.mark.parametrize("op", _params(lambda op: lambda o: 2 * op.cost(4)))
@needs("api_key")
@clauses("INVALID-400", "ERROR-SHAPE-400", *CONFORMANCE)
def test_generated_invalid_requests_are_rejected(run: Run, op: SubmitOperation) -> None:
    @hypothesis_settings(run.options.examples)
    @given(case=cases(run, op.operation_id, GenerationMode.NEGATIVE))
    def check(case: Any) -> None:
        if is_valid(op.operation_id, case):
            return  # sanitizing made it valid: sending it would only cost money
        response = send(run, case, "submit.generated-invalid")
        with run.book.verify(run.evidence()) as v:
            conformance(case, response, v)
            _rejected(
                run, response.status_code, json_or_none(response.content), v, "an invalid request"
            )

    check()


def _positive_cost(op: SubmitOperation) -> Any:
    return lambda options: (options.examples + 1) * op.cost(4)


@pytest.mark.parametrize("op", _params(_positive_cost))
@needs("api_key")
@clauses(
    "VALID-ACCEPTED",
    "SUBMIT-202",
    "SUBMIT-BODY",
    "POLLING-URL",
    "ID-PREFIX",
    "ID-UNIQUE",
    *CONFORMANCE,
)
def test_generated_valid_requests_are_accepted(run: Run, op: SubmitOperation) -> None:
    @hypothesis_settings(run.options.examples)
    @given(case=cases(run, op.operation_id, GenerationMode.POSITIVE))
    def check(case: Any) -> None:
        if not is_valid(op.operation_id, case):
            return  # not valid as it would be sent: no verdict to draw from it
        response = send(run, case, "submit.generated-valid")
        with run.book.verify(run.evidence()) as v:
            conformance(case, response, v)
            v.expect(
                "VALID-ACCEPTED",
                response.status_code == 202,
                f"a valid request answered {response.status_code}: {response.text[:200]}",
            )
            verify_accepted(run, op, response.status_code, response.content, v)

    check()


@pytest.mark.parametrize("op", _params(lambda op: 2 * op.cost(4)))
@needs("api_key")
@clauses("INVALID-400", "ERROR-SHAPE-400", "UNKNOWN-MODEL-400", "NO-5XX")
def test_boundary_requests_are_rejected(run: Run, op: SubmitOperation) -> None:
    broken: list[str] = []
    for bad in bad_requests(op):
        status, body = _send_raw(run, op, bad)
        try:
            with run.book.verify(run.evidence()) as v:
                v.expect("NO-5XX", status < 500, f"{bad.name}: HTTP {status}")
                if bad.unknown_model:
                    _unknown_model(run, bad, status, body, v)
                else:
                    _rejected(run, status, body, v, f"{bad.name}")
        except ContractViolation as exc:
            broken.append(str(exc))
            if 200 <= status < 300:
                break  # it was accepted (and maybe billed): stop spending here
    if broken:
        raise ContractViolation("; ".join(broken))


def _unknown_model(run: Run, bad: BadRequest, status: int, body: Any, v: Verifier) -> None:
    message = str(body.get("message", "")) if isinstance(body, dict) else ""
    v.expect(
        "UNKNOWN-MODEL-400",
        status == 400
        and isinstance(body, dict)
        and body.get("error") == "Model not found"
        and message == "Model 'no-such-value' not found or is disabled",
        f"unknown model answered {status} {str(body)[:200]}",
    )


def _send_raw(run: Run, op: SubmitOperation, bad: BadRequest) -> tuple[int, Any]:
    headers = {**run.headers(), "Content-Type": bad.content_type}
    with run.session.labelled(bad.scenario):
        response = run.session.post(
            run.target.url(op.path), data=bad.raw, headers=headers, timeout=30
        )
    return response.status_code, json_or_none(response.content)


@needs("api_key")
@clauses("STATUS-UNKNOWN-404", *CONFORMANCE)
def test_generated_status_reads_of_unknown_ids(run: Run) -> None:
    @hypothesis_settings(run.options.examples * 2)
    @given(case=cases(run, "getStatus", GenerationMode.POSITIVE))
    def check(case: Any) -> None:
        response = send(run, case, "status.generated")
        with run.book.verify(run.evidence()) as v:
            conformance(case, response, v)
            v.expect(
                "STATUS-UNKNOWN-404",
                response.status_code == 404,
                f"reading a made-up id answered {response.status_code}",
            )

    check()


__all__ = ["KEY_HEADER", "Decimal", "Options"]


def _with_foreign_fields(op: SubmitOperation) -> dict[str, Any]:
    """The example plus every field other operations document (not this one), each with a
    value of an unexpected type: undocumented fields must be ignored, not crash anything."""
    body = dict(op.example)
    for other in SUBMITS:
        for name in other.properties:
            if name not in op.properties and name not in body:
                body[name] = "two" if name == "num_images" else {"unexpected": True}
    return body


@pytest.mark.parametrize(
    "op", _params(lambda op: op.cost(_with_foreign_fields(op).get("num_images")))
)
@needs("api_key")
@clauses("VALID-ACCEPTED", "NO-5XX")
def test_undocumented_fields_are_ignored(run: Run, op: SubmitOperation) -> None:
    body = _with_foreign_fields(op)
    with run.session.labelled("submit.undocumented-fields"):
        response = run.session.post(
            run.target.url(op.path), json=body, headers=run.headers(), timeout=30
        )
    with run.book.verify(run.evidence()) as v:
        v.expect(
            "NO-5XX",
            response.status_code < 500,
            f"undocumented fields {sorted(set(body) - set(op.properties))} answered "
            f"{response.status_code}",
        )
        v.expect(
            "VALID-ACCEPTED",
            response.status_code == 202,
            f"the contract allows additional fields, but the answer was "
            f"{response.status_code}: {response.text[:200]}",
        )
