"""Free checks first: keys (APIM 401), unknown routes and methods (APIM 404), unknown ids.

None of these can be billed: no key, a key the suite made up, or no submit at all.
"""

from __future__ import annotations

import pytest
import requests

from seedream_contracts.jobs import json_or_none
from seedream_contracts.plan import clauses, needs
from seedream_contracts.run import Run
from seedream_contracts.spec import STATUS_PREFIX, load_contract

APIM_SCHEMA = "#/components/schemas/ApimError"
NOT_FOUND_SCHEMA = "#/components/responses/RequestNotFound/content/application~1json/schema"
OPERATIONS = [*load_contract().submits, "getStatus"]
UNKNOWN_ID = "{slug}_00000000-0000-7000-8000-000000000000"


def call(run: Run, operation_id: str, headers: dict[str, str], scenario: str) -> requests.Response:
    with run.session.labelled(scenario):
        if operation_id == "getStatus":
            url = run.target.url(STATUS_PREFIX + UNKNOWN_ID.format(slug="byteplus"))
            return run.session.get(url, headers=headers, timeout=30)
        op = load_contract().submits[operation_id]
        return run.session.post(
            run.target.url(op.path), json=op.example, headers=headers, timeout=30
        )


def check_apim(
    run: Run, response: requests.Response, clause_id: str, status: int, message: str | None = None
) -> None:
    body = json_or_none(response.content)
    with run.book.verify(run.evidence()) as v:
        errors = run.contract.schema_errors(APIM_SCHEMA, body)
        v.expect(
            clause_id,
            response.status_code == status
            and not errors
            and isinstance(body, dict)
            and body.get("statusCode") == status,
            f"HTTP {response.status_code}, body {response.text[:200]!r}; expected {status} "
            "with APIM's {statusCode, message}",
        )
        if message is not None and isinstance(body, dict):
            v.expect(
                clause_id,
                body.get("message") == message,
                f"message {body.get('message')!r}, expected {message!r}",
            )
        content_type = response.headers.get("content-type", "")
        v.expect(
            "CONTENT-TYPE",
            content_type.startswith("application/json"),
            f"Content-Type {content_type!r}",
        )


@pytest.mark.parametrize("operation_id", OPERATIONS)
@clauses("AUTH-MISSING-401", "CONTENT-TYPE")
def test_missing_key_gets_401(run: Run, operation_id: str) -> None:
    response = call(run, operation_id, {}, f"{_kind(operation_id)}.missing-key")
    check_apim(run, response, "AUTH-MISSING-401", 401)


@pytest.mark.parametrize("operation_id", OPERATIONS)
@clauses("AUTH-INVALID-401", "CONTENT-TYPE")
def test_invalid_key_gets_401(run: Run, operation_id: str) -> None:
    headers = run.headers(run.invalid_key())
    response = call(run, operation_id, headers, f"{_kind(operation_id)}.invalid-key")
    check_apim(run, response, "AUTH-INVALID-401", 401)


ROUTES = [
    ("GET", "/v1/no-such-route"),
    ("GET", "/byteplus/v1/getTextToImage"),
    ("DELETE", STATUS_PREFIX + UNKNOWN_ID.format(slug="byteplus")),
]


@pytest.mark.parametrize(("method", "path"), ROUTES)
@needs("api_key")
@clauses("ROUTE-UNKNOWN-404", "CONTENT-TYPE")
def test_unknown_route_gets_apim_404(run: Run, method: str, path: str) -> None:
    with run.session.labelled("route.unknown"):
        response = run.session.request(
            method, run.target.url(path), headers=run.headers(), timeout=30
        )
    check_apim(run, response, "ROUTE-UNKNOWN-404", 404, "Resource not found")


@pytest.mark.parametrize("slug", sorted({op.slug for op in load_contract().submits.values()}))
@needs("api_key")
@clauses("STATUS-UNKNOWN-404", "CONTENT-TYPE")
def test_unknown_request_id_gets_404(run: Run, slug: str) -> None:
    url = run.target.url(STATUS_PREFIX + UNKNOWN_ID.format(slug=slug))
    with run.session.labelled("status.unknown"):
        response = run.session.get(url, headers=run.headers(), timeout=30)
    body = json_or_none(response.content)
    with run.book.verify(run.evidence()) as v:
        errors = run.contract.schema_errors(NOT_FOUND_SCHEMA, body)
        v.expect(
            "STATUS-UNKNOWN-404",
            response.status_code == 404 and not errors,
            f"HTTP {response.status_code}, body {response.text[:200]!r}",
        )
        v.expect(
            "CONTENT-TYPE",
            response.headers.get("content-type", "").startswith("application/json"),
            f"Content-Type {response.headers.get('content-type')!r}",
        )


def _kind(operation_id: str) -> str:
    return "status" if operation_id == "getStatus" else "submit"
