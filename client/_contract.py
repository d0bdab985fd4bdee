"""The contract (``contracts/openapi.yaml``) as the client uses it: paths, prices, request rules.

Read once at import through ``seedream_contracts.document`` (the same reading the mock uses), so the
client checks arguments with exactly the rules the mock enforces and never carries a
hand-copied range.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import jsonschema

from seedream_client._exceptions import InvalidRequestError
from seedream_contracts.document import (
    STATUS_PATH,
    SubmitOperation,
    load_document,
    submit_operations,
)

Operation = SubmitOperation  # one submit endpoint of the contract

DOCUMENT: dict[str, Any] = load_document()
OPERATIONS: dict[str, Operation] = submit_operations(DOCUMENT)

__all__ = [
    "DOCUMENT",
    "OPERATIONS",
    "STATUS_PATH",
    "Operation",
    "check_body",
    "check_webhook_url",
    "schema_property",
]


def _validator(schema: Mapping[str, Any]) -> jsonschema.Draft202012Validator:
    root = {**schema, "components": DOCUMENT["components"]}
    return jsonschema.Draft202012Validator(
        root, format_checker=jsonschema.Draft202012Validator.FORMAT_CHECKER
    )


_BODY_VALIDATORS = {
    op_id: _validator({"$ref": f"#/components/schemas/{op.schema_name}"})
    for op_id, op in OPERATIONS.items()
}
_WEBHOOK_VALIDATOR = _validator(DOCUMENT["components"]["parameters"]["WebhookUrl"]["schema"])


def _describe(error: jsonschema.ValidationError, what: str) -> str:
    where = ".".join(str(p) for p in error.absolute_path) or what
    if error.validator == "pattern":
        # The contract's URL and prompt patterns are long regexes: quoting one helps nobody.
        shown = repr(error.instance)
        shown = shown if len(shown) <= 80 else shown[:77] + "..."
        return (
            f"{where}: {shown} breaks the contract's rule for this field (contracts/openapi.yaml)"
        )
    return f"{where}: {error.message}"


def check_body(operation_id: str, body: Mapping[str, Any]) -> None:
    """Raise InvalidRequestError (naming the field and the rule) if the contract rejects it."""
    error = jsonschema.exceptions.best_match(_BODY_VALIDATORS[operation_id].iter_errors(body))
    if error is not None:
        raise InvalidRequestError(f"invalid request: {_describe(error, 'body')}")


def check_webhook_url(url: str) -> None:
    error = jsonschema.exceptions.best_match(_WEBHOOK_VALIDATOR.iter_errors(url))
    if error is not None:
        raise InvalidRequestError(f"invalid webhook_url: {_describe(error, 'webhook_url')}")


def schema_property(schema_name: str, prop: str) -> dict[str, Any]:
    """A property's schema, e.g. to list a field's enum in CLI help."""
    value = DOCUMENT["components"]["schemas"][schema_name]["properties"][prop]
    return dict(value)
