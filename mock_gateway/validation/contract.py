"""The one contract: ``contracts/openapi.yaml`` drives routing metadata and request validation.

There is no second hand-written copy of the rules: each submit operation's request schema is
compiled once into a JSON Schema validator, and a failure becomes the documented 400 body
naming the field and the rule. Reading the file is shared with the client and the contract
suite (``seedream_contracts.document``).
"""

from __future__ import annotations

import functools
from collections.abc import Iterator
from typing import TYPE_CHECKING, Any

from mock_gateway.validation.urls import BYTEPLUS_FORMATS, image_ref_matches, image_ref_pattern
from seedream_contracts.document import (
    SubmitOperation,
    inline_refs,
    load_document,
    submit_operations,
)

if TYPE_CHECKING:
    from jsonschema import Draft202012Validator
    from jsonschema.exceptions import ValidationError

Operation = SubmitOperation  # the mock's name for a submit endpoint


class Contract:
    def __init__(self, document: dict[str, Any]) -> None:
        self.document = document
        self._operations = submit_operations(document)
        self._validators: dict[str, Draft202012Validator] = {}

    def submit_operations(self) -> Iterator[Operation]:
        return iter(self._operations.values())

    def operation(self, operation_id: str) -> Operation:
        return self._operations[operation_id]

    def first_error(self, operation_id: str, body: Any) -> ValidationError | None:
        """The most relevant schema violation of ``body``, or None when it conforms."""
        validator = self._validators.get(operation_id) or self._compile(operation_id)
        errors = list(validator.iter_errors(body))
        if not errors:
            return None
        # Deepest path first gives the most specific field; ties go to document order.
        best: ValidationError = min(
            errors, key=lambda error: (-len(error.absolute_path), _priority(error))
        )
        return best

    def _compile(self, operation_id: str) -> Draft202012Validator:
        """The operation's validator, built with its first request (jsonschema is slow to
        import and the mock answers sooner without it). References are inlined once here:
        resolving them per request was most of the cost of a submit."""
        schema = inline_refs(self.document, {"$ref": self._operations[operation_id].schema_ref})
        validator: Draft202012Validator = _validator_class()(schema, format_checker=None)
        self._validators[operation_id] = validator
        return validator


@functools.cache
def _validator_class() -> Any:
    """Draft 2020-12, except that the data-URL pattern of ``ImageRef`` is checked by
    ``urls.image_ref_matches``, which answers the same far faster (it is base64 quartets
    over up to ~14 MB, over a second for Python's ``re``)."""
    from jsonschema import Draft202012Validator, validators
    from jsonschema.exceptions import ValidationError

    fast = {
        image_ref_pattern(BYTEPLUS_FORMATS, BYTEPLUS_FORMATS): functools.partial(
            image_ref_matches, extensions=BYTEPLUS_FORMATS, formats=BYTEPLUS_FORMATS
        )
    }
    default = Draft202012Validator.VALIDATORS["pattern"]

    def pattern(validator: Any, value: str, instance: Any, schema: Any) -> Iterator[Any]:
        check = fast.get(value)
        if check is None or not isinstance(instance, str):
            yield from default(validator, value, instance, schema)
        elif not check(instance):
            yield ValidationError(f"{instance[:80]!r} does not match {value[:40]!r}...")

    return validators.extend(Draft202012Validator, {"pattern": pattern})  # type: ignore[no-untyped-call]


def _priority(error: ValidationError) -> int:
    # "required" and "type" say the most; combinators (oneOf/allOf/if) the least.
    order = ["required", "type", "const", "enum", "minimum", "maximum", "minLength", "maxLength"]
    return order.index(str(error.validator)) if error.validator in order else len(order)


@functools.cache
def load_contract() -> Contract:
    return Contract(load_document())
