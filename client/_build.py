"""Turning a method call into a checked submit: route, body, images, cost. Pure but for file reads.

The sync and async clients both call ``prepare_submit``; the async one runs it in a worker
thread when it has local files to read.
"""

from __future__ import annotations

import base64
import os
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from decimal import Decimal, InvalidOperation
from pathlib import Path
from typing import Any, Literal, TypeAlias

from seedream_client._contract import DOCUMENT, OPERATIONS, Operation, check_body, check_webhook_url
from seedream_client._exceptions import CostLimitError, InvalidRequestError
from seedream_client._models import JobStatus, PriceTable, Status, usd

Kind: TypeAlias = Literal["text_to_image", "edit", "multi_edit"]
TextModel: TypeAlias = Literal["seedream-5-0-lite", "seedream-4-5"]
EditModel: TypeAlias = Literal["seedream-5-0-lite", "seedream-4-5", "seededit-3-0"]
MultiEditModel: TypeAlias = Literal["seedream-4-0", "seedream-4-5"]
ImageInput: TypeAlias = "str | bytes | os.PathLike[str]"
ImageSize: TypeAlias = "str | Mapping[str, int] | tuple[int, int]"
Money: TypeAlias = "Decimal | float | int | str"


@dataclass(frozen=True, slots=True)
class _Route:
    operation_id: str
    upstream_model: str | None  # the body's "model" field, None to leave the gateway's default


_ROUTES: dict[tuple[str, str], _Route] = {
    ("text_to_image", "seedream-5-0-lite"): _Route("liteTextToImageSubmit", None),
    ("text_to_image", "seedream-4-5"): _Route("byteplusTextToImageSubmit", "seedream-4-5-251128"),
    ("edit", "seedream-5-0-lite"): _Route("liteEditSubmit", None),
    ("edit", "seedream-4-5"): _Route("byteplusEditSubmit", "seedream-4-5-251128"),
    ("edit", "seededit-3-0"): _Route("byteplusEditSubmit", "seededit-3-0-i2i-250628"),
    ("multi_edit", "seedream-4-0"): _Route("byteplusMultiEditSubmit", "seedream-4-0-250828"),
    ("multi_edit", "seedream-4-5"): _Route("byteplusMultiEditSubmit", "seedream-4-5-251128"),
}
_ALIASES = {r.upstream_model: model for (_, model), r in _ROUTES.items() if r.upstream_model}
# Fields a method fills itself; every other schema property is a keyword argument.
_OWN_FIELDS = {"prompt", "model", "image", "image_urls", "response_format"}
_MAGIC = ((b"\x89PNG\r\n\x1a\n", "png"), (b"\xff\xd8\xff", "jpeg"), (b"GIF8", "gif"))


@dataclass(frozen=True, slots=True)
class PreparedSubmit:
    """A submit that passed every local check, ready to send."""

    kind: Kind
    model: str
    operation: Operation
    body: dict[str, Any]
    webhook_url: str | None
    estimated_cost: Decimal


def models_for(kind: Kind) -> list[str]:
    return [model for (k, model) in _ROUTES if k == kind]


def options_for(operation_id: str) -> list[str]:
    """The optional body fields of an operation, from the contract."""
    schema = DOCUMENT["components"]["schemas"][OPERATIONS[operation_id].schema_name]
    return sorted(set(schema["properties"]) - _OWN_FIELDS)


def operation_for(kind: Kind, model: str | None) -> Operation:
    return OPERATIONS[_route(kind, model)[1].operation_id]


def _route(kind: Kind, model: str | None) -> tuple[str, _Route]:
    name = _ALIASES.get(model or "", model or models_for(kind)[0])
    route = _ROUTES.get((kind, name))
    if route is None:
        raise InvalidRequestError(
            f"{kind} does not support model {model!r} (choose from: {', '.join(models_for(kind))})"
        )
    return name, route


def to_money(value: Money, what: str) -> Decimal:
    try:
        amount = Decimal(str(value))
    except InvalidOperation:
        raise InvalidRequestError(f"{what} must be a number of US dollars, not {value!r}") from None
    if not amount.is_finite() or amount < 0:
        raise InvalidRequestError(f"{what} must be a non-negative amount, not {value!r}")
    return amount


def sniff_format(data: bytes) -> str | None:
    for magic, fmt in _MAGIC:
        if data.startswith(magic):
            return fmt
    if data[:4] == b"RIFF" and data[8:12] == b"WEBP":
        return "webp"
    return None


def data_url(data: bytes) -> str:
    """Encode image bytes as ``data:image/<fmt>;base64,...`` (the format sniffed from the bytes)."""
    fmt = sniff_format(data)
    if fmt is None:
        raise InvalidRequestError("image bytes are not a PNG, JPEG, WEBP or GIF image")
    return f"data:image/{fmt};base64,{base64.b64encode(data).decode('ascii')}"


def _image_ref(value: ImageInput, *, allow_local: bool, model: str) -> str:
    if isinstance(value, str):
        return value
    if not allow_local:
        raise InvalidRequestError(
            f"{model} takes image URLs only; local files and bytes are accepted by "
            "edit(model='seedream-4-5' or 'seededit-3-0'), sent as data URLs"
        )
    if isinstance(value, bytes):
        return data_url(value)
    try:
        return data_url(Path(value).read_bytes())
    except OSError as exc:
        raise InvalidRequestError(f"cannot read image {os.fspath(value)!r}: {exc}") from None


def _as_list(images: ImageInput | Sequence[ImageInput]) -> list[ImageInput]:
    if isinstance(images, str | bytes | os.PathLike):
        return [images]
    return list(images)


def _image_size(value: Any) -> Any:
    if isinstance(value, tuple) and len(value) == 2:
        return {"width": value[0], "height": value[1]}
    return dict(value) if isinstance(value, Mapping) else value


def prepare_submit(
    kind: Kind,
    prompt: str,
    images: ImageInput | Sequence[ImageInput] | None,
    *,
    model: str | None,
    options: Mapping[str, Any],
    webhook_url: str | None,
    max_cost: Money | None,
    prices: PriceTable,
) -> PreparedSubmit:
    """Route, build and check a submit; raise before anything is sent if it would fail."""
    name, route = _route(kind, model)
    operation = OPERATIONS[route.operation_id]
    given = {k: v for k, v in options.items() if v is not None}
    allowed = options_for(route.operation_id)
    unknown = sorted(set(given) - set(allowed))
    if unknown:
        raise InvalidRequestError(
            f"{kind} with model {name!r} does not take {', '.join(unknown)} "
            f"(it takes: {', '.join(allowed)})"
        )
    body: dict[str, Any] = {"prompt": prompt}
    if route.upstream_model and (kind != "multi_edit" or model is not None):
        body["model"] = route.upstream_model
    if images is not None:
        refs = [
            _image_ref(i, allow_local=route.operation_id == "byteplusEditSubmit", model=name)
            for i in _as_list(images)
        ]
        if kind == "edit" and operation.operation_id == "byteplusEditSubmit":
            if len(refs) != 1:
                raise InvalidRequestError(
                    f"edit with {name!r} takes exactly one image; use multi_edit for several"
                )
            body["image"] = refs[0]
        else:
            body["image_urls" if kind == "edit" else "image"] = refs
    if "image_size" in given:
        given["image_size"] = _image_size(given["image_size"])
    body.update(given)
    check_body(route.operation_id, body)
    if webhook_url is not None:
        check_webhook_url(webhook_url)
    num_images = body.get("num_images", 1)
    estimated = prices.estimate(
        route.operation_id, num_images if isinstance(num_images, int) else 1
    )
    if max_cost is not None:
        limit = to_money(max_cost, "max_cost")
        if estimated > limit:
            raise CostLimitError(
                f"estimated cost {usd(estimated)} is above max_cost {usd(limit)}; nothing was sent",
                estimated_usd=estimated,
                max_cost_usd=limit,
            )
    return PreparedSubmit(kind, name, operation, body, webhook_url, estimated)


def estimate_cost(kind: Kind, model: str | None, num_images: int, prices: PriceTable) -> Decimal:
    if not isinstance(num_images, int) or num_images < 1:
        raise InvalidRequestError(f"num_images must be a positive integer, not {num_images!r}")
    return prices.estimate(_route(kind, model)[1].operation_id, num_images)


def kind_for(images: ImageInput | Sequence[ImageInput] | None, model: str | None) -> Kind:
    """Which operation ``run`` means: no images -> text_to_image; several for 4.x -> multi_edit."""
    if images is None:
        return "text_to_image"
    name = _ALIASES.get(model or "", model)
    if name == "seedream-4-0" or (name == "seedream-4-5" and len(_as_list(images)) > 1):
        return "multi_edit"
    return "edit"


_NOT_OPTIONS = {"self", "prompt", "image", "images", "model", "webhook_url", "max_cost"}


def submit_args(kind: Kind, args: Mapping[str, Any]) -> dict[str, Any]:
    """A public method's ``locals()`` as ``prepare_submit`` arguments (for both clients)."""
    images = args.get("images", args.get("image"))
    options = {k: v for k, v in args.items() if k not in _NOT_OPTIONS and not k.startswith("_")}
    return {
        "kind": kind,
        "prompt": args["prompt"],
        "images": images,
        "model": args.get("model"),
        "options": options,
        "webhook_url": args.get("webhook_url"),
        "max_cost": args.get("max_cost"),
    }


def cost_of_status(status: JobStatus, prices: PriceTable) -> Decimal | None:
    """Estimated charge of a finished job known only by its status (``seedream wait ID``)."""
    if status.status is Status.ERROR:
        return Decimal(0)  # documented: a system error is not charged
    slug = status.model_id or status.request_id.rsplit("_", 1)[0]
    found = {prices.prices_usd.get(op_id) for op_id, op in OPERATIONS.items() if op.slug == slug}
    if len(found) != 1 or None in found:
        return None
    price = found.pop()
    assert price is not None
    if not prices.per_image:
        return price
    return price * len(status.media_urls) if status.media_urls else None
