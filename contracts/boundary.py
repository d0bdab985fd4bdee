"""Deterministic invalid requests, derived from the contract: each starts from the
operation's documented example and breaks exactly one rule (a required field missing, a
value one past its bound, a wrong type, a value outside its enum, malformed JSON...).

They complement generated cases: the same cases every run, so their messages can be
compared run to run (``diff``), and a gateway that crashes on one is caught every time.
"""

from __future__ import annotations

import copy
import json
from dataclasses import dataclass
from typing import Any

from seedream_contracts.spec import SubmitOperation, load_contract

_WRONG_TYPE = {
    "integer": "seven",
    "number": "high",
    "boolean": "yes",
    "string": 12345,
    "array": "not-an-array",
    "object": "not-an-object",
}


@dataclass(frozen=True)
class BadRequest:
    name: str
    raw: bytes
    content_type: str = "application/json"
    unknown_model: bool = False

    @property
    def scenario(self) -> str:
        return f"submit.invalid:{self.name}"


def _resolved(prop: dict[str, Any]) -> dict[str, Any]:
    contract = load_contract()
    while "$ref" in prop:
        prop = {**contract.resolve(prop["$ref"]), **{k: v for k, v in prop.items() if k != "$ref"}}
    if "allOf" in prop and len(prop["allOf"]) == 1:
        prop = {**_resolved(prop["allOf"][0]), **{k: v for k, v in prop.items() if k != "allOf"}}
    return prop


def _with(example: dict[str, Any], name: str, value: Any) -> bytes:
    body = copy.deepcopy(example)
    body[name] = value
    return json.dumps(body).encode()


def bad_requests(op: SubmitOperation) -> list[BadRequest]:
    example = op.example
    schema = load_contract().resolve(op.schema_ref)
    cases = [
        BadRequest("malformed-json", b'{"prompt": "a cat",'),
        BadRequest("not-an-object", b'["a cat"]'),
        BadRequest("wrong-content-type", json.dumps(example).encode(), "text/plain"),
        BadRequest("empty-prompt", _with(example, "prompt", "")),
        BadRequest("blank-prompt", _with(example, "prompt", "   ")),
    ]
    for name in schema.get("required", []):
        body = {k: v for k, v in example.items() if k != name}
        cases.append(BadRequest(f"missing-{name}", json.dumps(body).encode()))
    for name, raw_prop in sorted(op.properties.items()):
        prop = _resolved(raw_prop)
        kind = prop.get("type")
        if isinstance(kind, str) and kind in _WRONG_TYPE:
            cases.append(BadRequest(f"wrong-type-{name}", _with(example, name, _WRONG_TYPE[kind])))
        if "minimum" in prop:
            low = prop["minimum"] - (1 if kind == "integer" else 0.5)
            cases.append(BadRequest(f"{name}-below-minimum", _with(example, name, low)))
        if "maximum" in prop:
            high = prop["maximum"] + (1 if kind == "integer" else 0.5)
            cases.append(BadRequest(f"{name}-above-maximum", _with(example, name, high)))
        if "enum" in prop:
            cases.append(
                BadRequest(
                    f"{name}-not-in-enum",
                    _with(example, name, "no-such-value"),
                    unknown_model=name == "model",
                )
            )
        if kind == "array":
            items = prop.get("minItems", 1) - 1
            sample = example.get(name, [])
            cases.append(BadRequest(f"{name}-too-few", _with(example, name, sample[:items])))
            cases.append(BadRequest(f"{name}-not-urls", _with(example, name, ["not a url"] * 2)))
    if "image_size" in op.properties:
        cases += [
            BadRequest("image_size-unknown-preset", _with(example, "image_size", "huge")),
            BadRequest(
                "image_size-zero-width", _with(example, "image_size", {"width": 0, "height": 512})
            ),
            BadRequest(
                "image_size-too-tall", _with(example, "image_size", {"width": 512, "height": 4097})
            ),
            BadRequest("image_size-no-height", _with(example, "image_size", {"width": 512})),
        ]
    if op.input_field == "image" and isinstance(example.get("image"), str):
        cases.append(BadRequest("image-not-a-url", _with(example, "image", "not a url")))
        body = dict(example, model="seededit-3-0-i2i-250628", size="2K")
        cases.append(BadRequest("seededit-size-not-adaptive", json.dumps(body).encode()))
    return cases
