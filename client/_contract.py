"""The contract (``contracts/openapi.yaml``) as the client uses it: paths, prices, request rules.

Loaded once at import, from the ``contracts`` package's data, so the client checks arguments
with exactly the rules the mock enforces and never carries a hand-copied range.
"""

from __future__ import annotations

import importlib.resources
from collections.abc import Mapping
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

import jsonschema
import yaml

from ._exceptions import InvalidRequestError

try:  # the C loader is several times faster when PyYAML was built with libyaml
    from yaml import CSafeLoader as _Loader
except ImportError:  # pragma: no cover
    from yaml import SafeLoader as _Loader  # type: ignore[assignment]


@dataclass(frozen=True, slots=True)
class Operation:
    """One submit endpoint of the contract."""

    operation_id: str
    method: str
    path: str
    schema_name: str
    price_usd: Decimal
    model_slug: str
    media_type: str


def _load() -> dict[str, Any]:
    text = (importlib.resources.files("contracts") / "openapi.yaml").read_text(encoding="utf-8")
    document = yaml.load(text, Loader=_Loader)
    if not isinstance(document, dict):  # pragma: no cover - the file is ours
        raise RuntimeError("contracts/openapi.yaml is not a mapping")
    return document


DOCUMENT: dict[str, Any] = _load()


def _operations(document: Mapping[str, Any]) -> dict[str, Operation]:
    found: dict[str, Operation] = {}
    for path, item in document["paths"].items():
        for method, op in item.items():
            if not isinstance(op, dict) or "x-price-usd" not in op:
                continue
            ref = op["requestBody"]["content"]["application/json"]["schema"]["$ref"]
            found[op["operationId"]] = Operation(
                operation_id=op["operationId"],
                method=method.upper(),
                path=path,
                schema_name=ref.rsplit("/", 1)[-1],
                price_usd=Decimal(str(op["x-price-usd"])),
                model_slug=op.get("x-model-slug", ""),
                media_type=op.get("x-media-type", ""),
            )
    return found


OPERATIONS: dict[str, Operation] = _operations(DOCUMENT)
STATUS_PATH: str = next(p for p in DOCUMENT["paths"] if "{request_id}" in p)


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
    return f"{where}: {error.message}"


def check_body(operation_id: str, body: Mapping[str, Any]) -> None:
    """Raise InvalidRequestError (naming the field and the rule) if the contract rejects it."""
    error = jsonschema.exceptions.best_match(_BODY_VALIDATORS[operation_id].iter_errors(body))
    if error is not None:
        raise InvalidRequestError(f"invalid request: {_describe(error, 'body')}")


def check_webhook_url(url: str) -> None:
    error = jsonschema.exceptions.best_match(_WEBHOOK_VALIDATOR.iter_errors(url))
    if error is not None:
        raise InvalidRequestError(f"invalid webhook_url: {error.message}")


def schema_property(schema_name: str, prop: str) -> dict[str, Any]:
    """A property's schema, e.g. to list a field's enum in CLI help."""
    value = DOCUMENT["components"]["schemas"][schema_name]["properties"][prop]
    return dict(value)
