"""Checking what a caller sends against the contract, with the mock's own validators.

A submit goes through the very steps the mock takes (``mock_gateway.validation``): the
declared content type, the JSON, the operation's schema and the rules JSON Schema cannot
say, then the webhook URL. The first broken step is reported (as the mock would answer
it); with ``--reject-invalid`` it is also answered locally and never forwarded.
"""

from __future__ import annotations

import functools
from dataclasses import dataclass
from typing import Any

from jsonschema import Draft202012Validator

from mock_gateway.proxy.findings import Finding
from mock_gateway.validation.contract import Contract, Operation
from mock_gateway.validation.request import (
    ParsedSubmit,
    Rejection,
    bad_request,
    check_content_type,
    check_webhook_url,
    parse_json,
    parse_submit,
)
from seedream_contracts.document import STATUS_PATH, load_document


@dataclass(frozen=True)
class Inbound:
    """What the proxy learnt about a request before forwarding it."""

    finding: Finding | None = None
    rejection: Rejection | None = None  # what the gateway's shape would answer
    parsed: ParsedSubmit | None = None
    body: Any = None  # the JSON as sent (None when it is not JSON)

    def num_images(self, operation: Operation) -> Any:
        """The images the submit asks for, as sent (for pricing and the media count)."""
        if not operation.has_num_images:
            return None
        if self.parsed is not None:
            return self.parsed.fields.get("num_images")
        return self.body.get("num_images") if isinstance(self.body, dict) else None


def _refused(rule: str, rejection: Rejection, body: Any = None) -> Inbound:
    return Inbound(Finding(rule, rejection.message), rejection, body=body)


def check_submit(
    contract: Contract,
    operation: Operation,
    content_type: str,
    raw: bytes,
    webhook_url: str | None,
) -> Inbound:
    wrong_type = check_content_type(content_type)
    if wrong_type is not None:
        return _refused("request-content-type", wrong_type)
    body = parse_json(raw)
    if isinstance(body, Rejection):
        return _refused("request-json", body)
    parsed = parse_submit(contract, operation, body)
    if isinstance(parsed, Rejection):
        return _refused("request-schema", parsed, body)
    problem = check_webhook_url(webhook_url)
    if problem is not None:
        return Inbound(Finding("request-webhook-url", problem.message), problem, parsed, body)
    return Inbound(parsed=parsed, body=body)


@functools.cache
def _status_id_validator() -> Draft202012Validator:
    parameters = load_document()["paths"][STATUS_PATH]["get"]["parameters"]
    schema = next(item["schema"] for item in parameters if item["name"] == "request_id")
    return Draft202012Validator(schema)


def check_status_id(request_id: str) -> Inbound:
    """The status endpoint's one parameter, against its documented schema."""
    error = next(iter(_status_id_validator().iter_errors(request_id)), None)
    if error is None:
        return Inbound()
    rejection = bad_request(
        f"request_id: fails {error.validator} {error.validator_value!r} "
        f"(got {len(request_id)} characters)"
    )
    return _refused("request-status-id", rejection)
