"""What the contract says an answer may be: per operation, the documented status codes,
their body schemas and their required headers.

Read from the same parsed document the mock routes and validates with
(``seedream_contracts.document``); every schema is compiled once, with its ``$ref``s
inlined, into the same kind of validator the mock uses for requests.
"""

from __future__ import annotations

import functools
from dataclasses import dataclass, field
from typing import Any

from jsonschema import Draft202012Validator

from seedream_contracts.document import inline_refs, load_document, resolve

STATUS_OPERATION = "getStatus"


@dataclass(frozen=True)
class DocumentedAnswer:
    status: int
    media_types: tuple[str, ...]  # the documented content types ("application/json")
    validator: Draft202012Validator | None  # of the JSON body, when one is documented
    required_headers: dict[str, Draft202012Validator] = field(default_factory=dict)

    def body_errors(self, body: Any) -> list[str]:
        if self.validator is None:
            return []
        return [
            f"{'/'.join(map(str, error.absolute_path)) or 'body'}: {error.message}"
            for error in self.validator.iter_errors(body)
        ]


class AnswerContract:
    """The documented answers of every operation, by operation id and status code."""

    def __init__(self, document: dict[str, Any]) -> None:
        self._answers: dict[str, dict[int, DocumentedAnswer]] = {}
        for item in document["paths"].values():
            for operation in item.values():
                if isinstance(operation, dict) and "operationId" in operation:
                    self._answers[operation["operationId"]] = {
                        int(code): _documented(document, int(code), response)
                        for code, response in operation.get("responses", {}).items()
                        if str(code).isdigit()
                    }

    def statuses(self, operation_id: str) -> list[int]:
        return sorted(self._answers.get(operation_id, {}))

    def answer(self, operation_id: str, status: int) -> DocumentedAnswer | None:
        return self._answers.get(operation_id, {}).get(status)


def _documented(document: dict[str, Any], status: int, response: Any) -> DocumentedAnswer:
    if "$ref" in response:
        response = resolve(document, response["$ref"])
    content = response.get("content") or {}
    schema = (content.get("application/json") or {}).get("schema")
    headers: dict[str, Draft202012Validator] = {}
    for name, header in (response.get("headers") or {}).items():
        if "$ref" in header:
            header = resolve(document, header["$ref"])
        if header.get("required"):
            headers[name] = Draft202012Validator(inline_refs(document, header.get("schema", {})))
    return DocumentedAnswer(
        status=status,
        media_types=tuple(content),
        validator=Draft202012Validator(inline_refs(document, schema)) if schema else None,
        required_headers=headers,
    )


@functools.cache
def load_answers() -> AnswerContract:
    return AnswerContract(load_document())
