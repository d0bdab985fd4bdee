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
from referencing import Registry, Resource
from referencing.jsonschema import DRAFT202012

from contracts import openapi_path

_ROOT = "urn:seedream-gateway-contract"


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


class Contract:
    def __init__(self, document: dict[str, Any]) -> None:
        self.document = document
        resource = Resource.from_contents(document, default_specification=DRAFT202012)
        self._registry: Registry[Any] = Registry().with_resource(_ROOT, resource)
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
            )
            self._operations[operation.operation_id] = operation
            self._validators[operation.operation_id] = Draft202012Validator(
                {"$ref": f"{_ROOT}{ref}"}, registry=self._registry
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
