"""Reading ``openapi.yaml``: the one place that turns the contract into data.

The mock (to route and validate), the client (to check arguments before sending) and the
contract suite (to know what to test and what it costs) all read the contract through this
module, so they agree on paths, prices, media types and defaults by construction.

Parsing the YAML (and importing PyYAML) was a tenth of the mock's start-up, so the parsed
document is kept as JSON in ``__pycache__/openapi.yaml.json`` beside the YAML, stamped with
the YAML's size and CRC-32: a changed YAML is parsed again and the copy rewritten (atomically,
by rename). The copy is never required: where it cannot be written or read, or the document
would not survive JSON unchanged, the YAML is parsed as before.
"""

from __future__ import annotations

import contextlib
import functools
import json
import os
import threading
import zlib
from dataclasses import dataclass, field
from decimal import Decimal
from pathlib import Path
from typing import Any
from urllib.parse import unquote

from seedream_contracts import openapi_path

STATUS_PATH = "/v2/requests/status/{request_id}"
STATUS_PREFIX = "/v2/requests/status/"
KEY_HEADER = "Ocp-Apim-Subscription-Key"
WEBHOOK_HEADER = "X-Webhook-URL"


@dataclass(frozen=True)
class SubmitOperation:
    """One documented submit endpoint with what the contract says about it."""

    operation_id: str
    path: str
    slug: str  # the request id prefix and the status body's ``model_id``
    price_usd: Decimal  # ``x-price-usd``: the documented price of one image
    media_type: str  # ``x-media-type``: what the outputs are
    input_field: str | None  # ``x-input-images``: where input images go, if any
    schema_ref: str
    example: dict[str, Any] = field(default_factory=dict)
    properties: dict[str, Any] = field(default_factory=dict)  # the documented fields
    defaults: dict[str, Any] = field(default_factory=dict)  # their documented defaults
    method: str = "POST"

    @property
    def schema_name(self) -> str:
        return self.schema_ref.rsplit("/", 1)[-1]

    @property
    def has_num_images(self) -> bool:
        return "num_images" in self.properties

    def cost(self, num_images: object = 1) -> Decimal:
        """The most one submit can cost: ``x-price-usd`` x ``clamp(num_images, 1, 4)``."""
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


def resolve(document: dict[str, Any], ref: str) -> dict[str, Any]:
    """The node a local ``$ref`` (``#/components/...``) points at."""
    node: Any = document
    for part in ref.removeprefix("#/").split("/"):
        # JSON Pointer in a URI fragment (RFC 6901): percent-decoding, then ~1 and ~0
        node = node[unquote(part).replace("~1", "/").replace("~0", "~")]
    return dict(node)


def inline_refs(document: dict[str, Any], node: Any) -> Any:
    """``node`` with every local ``$ref`` replaced by its target (the contract has no
    recursive schemas), so a validator never resolves references per call."""
    if isinstance(node, list):
        return [inline_refs(document, item) for item in node]
    if not isinstance(node, dict):
        return node
    inlined = {key: inline_refs(document, value) for key, value in node.items() if key != "$ref"}
    if "$ref" not in node:
        return inlined
    target = inline_refs(document, resolve(document, node["$ref"]))
    return {"allOf": [target], **inlined} if inlined else target


def _defaults(document: dict[str, Any], properties: dict[str, Any]) -> dict[str, Any]:
    """Top-level ``default`` values, following one level of ``$ref``."""
    defaults: dict[str, Any] = {}
    for name, prop in properties.items():
        if "default" not in prop and "$ref" in prop:
            prop = resolve(document, prop["$ref"])
        if "default" in prop:
            defaults[name] = prop["default"]
    return defaults


def submit_operations(document: dict[str, Any]) -> dict[str, SubmitOperation]:
    """Every submit operation (those with ``x-model-slug``), by operation id."""
    found: dict[str, SubmitOperation] = {}
    for path, item in document["paths"].items():
        post = item.get("post")
        if not post or "x-model-slug" not in post:
            continue
        content = post["requestBody"]["content"]["application/json"]
        ref = content["schema"]["$ref"]
        properties = dict(resolve(document, ref).get("properties", {}))
        found[post["operationId"]] = SubmitOperation(
            operation_id=post["operationId"],
            path=path,
            slug=post["x-model-slug"],
            price_usd=Decimal(str(post["x-price-usd"])),
            media_type=post["x-media-type"],
            input_field=post.get("x-input-images"),
            schema_ref=ref,
            example=dict(content.get("example") or {}),
            properties=properties,
            defaults=_defaults(document, properties),
        )
    return found


@functools.cache
def load_document() -> dict[str, Any]:
    """The parsed contract (read once per process; treat it as read-only)."""
    return read_document(openapi_path())


def read_document(path: Path) -> dict[str, Any]:
    """The YAML document at ``path``, from its parsed copy when that is current."""
    source = path.read_bytes()
    stamp = f"{len(source)}:{zlib.crc32(source):08x}"
    copy = path.parent / "__pycache__" / f"{path.name}.json"
    try:
        cached = json.loads(copy.read_bytes())
        if isinstance(cached, dict) and cached.get("source") == stamp:
            document = cached["document"]
            if isinstance(document, dict):
                return document
    except (OSError, ValueError, KeyError):
        pass  # no copy yet, or an unreadable one: parse the YAML
    document = _parse_yaml(source, path)
    _keep_copy(copy, stamp, document)
    return document


def _parse_yaml(source: bytes, path: Path) -> dict[str, Any]:
    import yaml  # late: the parsed copy usually spares the import

    loader = getattr(yaml, "CSafeLoader", yaml.SafeLoader)  # the C loader is much faster
    document = yaml.load(source.decode("utf-8"), Loader=loader)
    if not isinstance(document, dict):
        raise RuntimeError(f"{path} is not a mapping")
    return document


def _keep_copy(copy: Path, stamp: str, document: dict[str, Any]) -> None:
    """Write the parsed copy, if the document survives JSON unchanged (YAML can hold dates
    and integer keys; JSON cannot) and the folder can be written; else leave it be."""
    partial = copy.with_name(f"{copy.name}.{os.getpid()}.{threading.get_ident()}.tmp")
    try:
        text = json.dumps({"source": stamp, "document": document})
        if json.loads(text)["document"] != document:
            return
        copy.parent.mkdir(exist_ok=True)
        partial.write_text(text, encoding="utf-8")
        os.replace(partial, copy)  # readers see the old copy or the new one, never half
    except (OSError, TypeError, ValueError):
        with contextlib.suppress(OSError):
            partial.unlink()
