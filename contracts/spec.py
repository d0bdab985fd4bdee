"""The contract as the suite uses it: operations, prices, validators, routing of requests.

The file is read by ``seedream_contracts.document`` (shared with the mock and the client: one
reading of the contract); the suite's own checks judge answers with validators of its own, so it
never shares a validation bug with the mock it tests.
"""

from __future__ import annotations

import functools
from typing import Any

from jsonschema import Draft202012Validator

from seedream_contracts.document import (
    KEY_HEADER,
    STATUS_PATH,
    STATUS_PREFIX,
    WEBHOOK_HEADER,
    SubmitOperation,
    clamp_images,
    inline_refs,
    load_document,
    resolve,
    submit_operations,
)

__all__ = [
    "KEY_HEADER",
    "STATUS_PATH",
    "STATUS_PREFIX",
    "WEBHOOK_HEADER",
    "Contract",
    "SubmitOperation",
    "clamp_images",
    "load_contract",
]


class Contract:
    def __init__(self, document: dict[str, Any]) -> None:
        self.document = document
        self.submits: dict[str, SubmitOperation] = submit_operations(document)
        self.by_path = {op.path: op for op in self.submits.values()}

    def resolve(self, ref: str) -> dict[str, Any]:
        return resolve(self.document, ref)

    @functools.cache  # noqa: B019 - one Contract per process; validators are reused
    def validator(self, ref: str) -> Draft202012Validator:
        return Draft202012Validator(inline_refs(self.document, {"$ref": ref}))

    def request_errors(self, operation_id: str, body: Any) -> list[str]:
        """Why ``body`` violates the operation's request schema (empty when it conforms)."""
        validator = self.validator(self.submits[operation_id].schema_ref)
        return [
            f"{'/'.join(map(str, e.absolute_path)) or 'body'}: {e.message}"
            for e in validator.iter_errors(body)
        ]

    def schema_errors(self, ref: str, instance: Any) -> list[str]:
        return [
            f"{'/'.join(map(str, e.absolute_path)) or 'body'}: {e.message}"
            for e in self.validator(ref).iter_errors(instance)
        ]

    def operation_for(self, method: str, path: str) -> str:
        """The operation id a request goes to (``other`` for anything undocumented)."""
        if method.upper() == "POST" and path in self.by_path:
            return self.by_path[path].operation_id
        if method.upper() == "GET" and path.startswith(STATUS_PREFIX):
            return "getStatus"
        if path.startswith("/_mock/"):
            return "control"
        return "other"

    @property
    def sample_urls(self) -> tuple[str, ...]:
        """The documentation's sample input image URLs (from the contract's examples)."""
        urls: list[str] = []
        for op in self.submits.values():
            value = op.example.get(op.input_field or "", [])
            for url in value if isinstance(value, list) else [value]:
                if url not in urls:
                    urls.append(url)
        return tuple(urls)


@functools.cache
def load_contract() -> Contract:
    return Contract(load_document())
