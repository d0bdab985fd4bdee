"""The one contract: ``contracts/openapi.yaml`` drives routing metadata and request validation.

There is no second hand-written copy of the rules: each submit operation's request schema is
compiled once into a JSON Schema validator, and a failure becomes the documented 400 body
naming the field and the rule. A body is first checked by the same schema compiled to a
function (``accept.compile_acceptor``): the valid body, the usual one, never reaches
jsonschema's slower walk, which only words the rejections. Reading the file is shared with
the client and the contract suite (``seedream_contracts.document``).
"""

from __future__ import annotations

import functools
from collections.abc import Callable, Iterator, Mapping
from typing import TYPE_CHECKING, Any

from mock_gateway.validation.accept import compile_acceptor
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


class RequestSchemas:
    """Each submit operation's request schema, compiled once into a validator."""

    def __init__(self, document: dict[str, Any]) -> None:
        self.document = document
        self._operations = submit_operations(document)
        self._validators: dict[str, Draft202012Validator] = {}
        self._acceptors: dict[str, Callable[[Any], bool]] = {}

    def submit_operations(self) -> Iterator[Operation]:
        return iter(self._operations.values())

    def operation(self, operation_id: str) -> Operation:
        return self._operations[operation_id]

    def schema(self, operation_id: str) -> dict[str, Any]:
        """The operation's request schema, references inlined (resolving them per request
        was most of the cost of a submit)."""
        schema: dict[str, Any] = inline_refs(
            self.document, {"$ref": self._operations[operation_id].schema_ref}
        )
        return schema

    def accepts(self, operation_id: str, body: Any) -> bool:
        """Whether ``body`` conforms, by the compiled check (``accept``): no error wording."""
        accepts = self._acceptors.get(operation_id)
        if accepts is None:
            accepts = compile_acceptor(self.schema(operation_id), _pattern_checks())
            self._acceptors[operation_id] = accepts
        return accepts(body)

    def first_error(self, operation_id: str, body: Any) -> ValidationError | None:
        """The most relevant schema violation of ``body``, or None when it conforms."""
        if self.accepts(operation_id, body):
            return None
        errors = self.all_errors(operation_id, body)
        if not errors:  # the compiled check was stricter: jsonschema's word is the rule
            return None
        # Deepest path first gives the most specific field; ties go to document order.
        best: ValidationError = min(
            errors, key=lambda error: (-len(error.absolute_path), _priority(error))
        )
        return best

    def all_errors(self, operation_id: str, body: Any) -> list[ValidationError]:
        """Every schema violation of ``body``, by jsonschema (the rule the contract means)."""
        validator = self._validators.get(operation_id) or self._compile(operation_id)
        return list(validator.iter_errors(body))

    def _compile(self, operation_id: str) -> Draft202012Validator:
        """The operation's validator, built with its first request (jsonschema is slow to
        import and the mock answers sooner without it), or with the first rejected one."""
        schema = self.schema(operation_id)
        validator: Draft202012Validator = _validator_class()(schema, format_checker=None)
        self._validators[operation_id] = validator
        return validator


@functools.cache
def _pattern_checks() -> Mapping[str, Callable[[str], bool]]:
    """Patterns checked by a function instead of ``re``: the data-URL pattern of
    ``ImageRef``, by ``urls.image_ref_matches``, which answers the same far faster (it is
    base64 quartets over up to ~14 MB, over a second for Python's ``re``)."""
    return {
        image_ref_pattern(BYTEPLUS_FORMATS, BYTEPLUS_FORMATS): functools.partial(
            image_ref_matches, extensions=BYTEPLUS_FORMATS, formats=BYTEPLUS_FORMATS
        )
    }


@functools.cache
def _validator_class() -> Any:
    """Draft 2020-12, except for the patterns of ``_pattern_checks``."""
    from jsonschema import Draft202012Validator, validators
    from jsonschema.exceptions import ValidationError

    fast = _pattern_checks()
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
def load_request_schemas() -> RequestSchemas:
    return RequestSchemas(load_document())
