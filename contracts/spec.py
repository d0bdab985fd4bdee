"""The contract as data: operations, prices, media types and JSON Schema validators.

Read straight from ``openapi.yaml`` (its ``x-`` extensions carry the price table and the
documented media types), independently of the mock, so the suite never shares a bug with
the thing it tests.
"""

from __future__ import annotations

import functools
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

import yaml
from jsonschema import Draft202012Validator
from referencing import Registry, Resource
from referencing.jsonschema import DRAFT202012

from . import openapi_path

_ROOT = "urn:seedream-contract"
STATUS_PATH = "/v2/requests/status/{request_id}"
STATUS_PREFIX = "/v2/requests/status/"
KEY_HEADER = "Ocp-Apim-Subscription-Key"
WEBHOOK_HEADER = "X-Webhook-URL"


@dataclass(frozen=True)
class SubmitOperation:
    """One documented submit endpoint with what the contract says about it."""

    operation_id: str
    path: str
    slug: str
    price_usd: Decimal
    media_type: str
    input_field: str | None
    schema_ref: str
    example: dict[str, Any]
    properties: dict[str, Any] = field(default_factory=dict)

    @property
    def has_num_images(self) -> bool:
        return "num_images" in self.properties

    def cost(self, num_images: object = 1) -> Decimal:
        """Price of one submit: ``x-price-usd`` x ``clamp(num_images, 1, 4)``."""
        return self.price_usd * clamp_images(num_images)


def clamp_images(value: object) -> int:
    """How many images a submit can be billed for. A value that is not an integer counts
    as the maximum (pessimistic); a missing one as 1 (the documented default)."""
    if value is None:
        return 1
    if isinstance(value, bool) or not isinstance(value, int | float):
        return 4
    if isinstance(value, float) and not value.is_integer():
        return 4
    return max(1, min(4, int(value)))


class Contract:
    def __init__(self, document: dict[str, Any]) -> None:
        self.document = document
        resource = Resource.from_contents(document, default_specification=DRAFT202012)
        self._registry: Registry[Any] = Registry().with_resource(_ROOT, resource)
        self.submits: dict[str, SubmitOperation] = {}
        for path, item in document["paths"].items():
            post = item.get("post")
            if not post or "x-model-slug" not in post:
                continue
            content = post["requestBody"]["content"]["application/json"]
            ref = content["schema"]["$ref"]
            self.submits[post["operationId"]] = SubmitOperation(
                operation_id=post["operationId"],
                path=path,
                slug=post["x-model-slug"],
                price_usd=Decimal(str(post["x-price-usd"])),
                media_type=post["x-media-type"],
                input_field=post.get("x-input-images"),
                schema_ref=ref,
                example=dict(content.get("example") or {}),
                properties=dict(self.resolve(ref).get("properties", {})),
            )
        self.by_path = {op.path: op for op in self.submits.values()}

    def resolve(self, ref: str) -> dict[str, Any]:
        node: Any = self.document
        for part in ref.removeprefix("#/").split("/"):
            node = node[part]
        return dict(node)

    @functools.cache  # noqa: B019 - one Contract per process; validators are reused
    def validator(self, ref: str) -> Draft202012Validator:
        return Draft202012Validator({"$ref": f"{_ROOT}{ref}"}, registry=self._registry)

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
    with openapi_path().open("r", encoding="utf-8") as handle:
        return Contract(yaml.safe_load(handle))
