"""The one contract: ``contracts/openapi.yaml`` drives routing metadata and request validation.

There is no second hand-written copy of the rules: each submit operation's request schema is
compiled once into a JSON Schema validator, and a failure becomes the documented 400 body
naming the field and the rule.
"""

from __future__ import annotations

import functools
from collections.abc import Iterator
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

import yaml
from jsonschema import Draft202012Validator
from jsonschema.exceptions import ValidationError

from contracts import openapi_path


@dataclass(frozen=True, slots=True)
class Operation:
    operation_id: str
    method: str
    path: str
    slug: str
    price_usd: Decimal
    media_type: str
    input_field: str | None
    schema_ref: str
    defaults: dict[str, Any]
    properties: frozenset[str]  # the documented fields; anything else is ignored


class Contract:
    def __init__(self, document: dict[str, Any]) -> None:
        self.document = document
        self._validators: dict[str, Draft202012Validator] = {}
        self._operations: dict[str, Operation] = {}
        for path, item in document["paths"].items():
            post = item.get("post")
            if post is None or "x-model-slug" not in post:
                continue
            ref = post["requestBody"]["content"]["application/json"]["schema"]["$ref"]
            operation = Operation(
                operation_id=post["operationId"],
                method="POST",
                path=path,
                slug=post["x-model-slug"],
                price_usd=Decimal(str(post["x-price-usd"])),
                media_type=post["x-media-type"],
                input_field=post.get("x-input-images"),
                schema_ref=ref,
                defaults=self._defaults(ref),
                properties=frozenset(self.resolve(ref).get("properties", {})),
            )
            self._operations[operation.operation_id] = operation
            # References are inlined once here: resolving them per request was most of the
            # cost of a submit. The contract has no recursive schemas, so this terminates.
            self._validators[operation.operation_id] = Draft202012Validator(
                self._inline({"$ref": ref}), format_checker=None
            )

    def _defaults(self, ref: str) -> dict[str, Any]:
        """Top-level ``default`` values of a request schema (following one level of $ref)."""
        schema = self.resolve(ref)
        defaults: dict[str, Any] = {}
        for name, prop in schema.get("properties", {}).items():
            if "default" not in prop and "$ref" in prop:
                prop = self.resolve(prop["$ref"])
            if "default" in prop:
                defaults[name] = prop["default"]
        return defaults

    def _inline(self, node: Any) -> Any:
        if isinstance(node, list):
            return [self._inline(item) for item in node]
        if not isinstance(node, dict):
            return node
        inlined = {key: self._inline(value) for key, value in node.items() if key != "$ref"}
        if "$ref" not in node:
            return inlined
        target = self._inline(self.resolve(node["$ref"]))
        return {"allOf": [target], **inlined} if inlined else target

    def resolve(self, ref: str) -> dict[str, Any]:
        node: Any = self.document
        for part in ref.removeprefix("#/").split("/"):
            node = node[part]
        return dict(node)

    def submit_operations(self) -> Iterator[Operation]:
        return iter(self._operations.values())

    def operation(self, operation_id: str) -> Operation:
        return self._operations[operation_id]

    def first_error(self, operation_id: str, body: Any) -> ValidationError | None:
        """The most relevant schema violation of ``body``, or None when it conforms."""
        validator = self._validators[operation_id]
        errors = list(validator.iter_errors(body))
        if not errors:
            return None
        # Deepest path first gives the most specific field; ties go to document order.
        best: ValidationError = min(
            errors, key=lambda error: (-len(error.absolute_path), _priority(error))
        )
        return best

    def dump_json_ready(self) -> dict[str, Any]:
        return self.document


def _priority(error: ValidationError) -> int:
    # "required" and "type" say the most; combinators (oneOf/allOf/if) the least.
    order = ["required", "type", "const", "enum", "minimum", "maximum", "minLength", "maxLength"]
    return order.index(str(error.validator)) if error.validator in order else len(order)


@functools.cache
def load_contract() -> Contract:
    with openapi_path().open("r", encoding="utf-8") as handle:
        document = yaml.load(handle, Loader=getattr(yaml, "CSafeLoader", yaml.SafeLoader))
    return Contract(document)
