"""Checking one answer against the contract: pure functions from what the upstream said
to the rules it broke (empty when it kept them all)."""

from __future__ import annotations

import json
from typing import Any

from mock_gateway.proxy.answers import AnswerContract, DocumentedAnswer
from mock_gateway.proxy.findings import Finding
from mock_gateway.validation.contract import Operation
from seedream_contracts.document import STATUS_PREFIX

MAX_ERRORS_SHOWN = 3


def parse_body(raw: bytes) -> Any:
    """The JSON of an answer, or None when it is not JSON."""
    try:
        return json.loads(raw)
    except ValueError:
        return None


def check_answer(
    answers: AnswerContract,
    operation_id: str,
    status: int,
    headers: dict[str, str],  # lower-case names
    raw: bytes,
) -> list[Finding]:
    """Status documented for the operation, the documented content type, the body's
    schema and the required headers (``Retry-After`` on a 429)."""
    documented = answers.answer(operation_id, status)
    if documented is None:
        listed = ", ".join(map(str, answers.statuses(operation_id)))
        return [Finding("status-documented", f"answered {status}; documented: {listed}")]
    findings: list[Finding] = []
    content_type = headers.get("content-type", "")
    if documented.media_types and content_type.split(";")[0].strip() not in documented.media_types:
        expected = ", ".join(documented.media_types)
        findings.append(
            Finding("content-type", f"{status} with Content-Type {content_type!r}, not {expected}")
        )
    if documented.validator is not None:
        body = parse_body(raw)
        if body is None:
            shown = raw[:80].decode("utf-8", "replace")
            findings.append(Finding("body-schema", f"{status} body is not JSON: {shown!r}"))
        else:
            errors = documented.body_errors(body)
            if errors:
                shown = "; ".join(errors[:MAX_ERRORS_SHOWN])
                more = f" (+{len(errors) - MAX_ERRORS_SHOWN} more)" if len(errors) > 3 else ""
                findings.append(Finding("body-schema", f"{status} body: {shown}{more}"))
    findings += _header_findings(documented, headers)
    return findings


def _header_findings(documented: DocumentedAnswer, headers: dict[str, str]) -> list[Finding]:
    findings: list[Finding] = []
    for name, validator in documented.required_headers.items():
        rule = f"header-{name.lower()}"
        value = headers.get(name.lower())
        if value is None:
            findings.append(Finding(rule, f"{documented.status} without the {name} header"))
            continue
        try:
            parsed: Any = json.loads(value)  # a header is text; its schema types the text
        except ValueError:
            parsed = value
        if not validator.is_valid(parsed):
            findings.append(Finding(rule, f"{name}: {value!r} does not match {validator.schema}"))
    return findings


def check_accepted(operation: Operation, upstream: str, body: Any) -> list[Finding]:
    """A 2xx submit answer: its request id names the model, its polling_url leads to the
    upstream's status endpoint for that id."""
    if not isinstance(body, dict):
        return []  # the body-schema rule has reported it
    findings: list[Finding] = []
    request_id = body.get("request_id")
    if isinstance(request_id, str) and not request_id.startswith(operation.slug + "_"):
        findings.append(
            Finding("id-prefix", f"request_id {request_id!r} does not start with {operation.slug}_")
        )
    polling_url = body.get("polling_url")
    expected = f"{upstream}{STATUS_PREFIX}{request_id}"
    if isinstance(polling_url, str) and isinstance(request_id, str) and polling_url != expected:
        findings.append(
            Finding("polling-url", f"polling_url is {polling_url!r}, expected {expected!r}")
        )
    return findings
