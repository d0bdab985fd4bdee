"""From a raw submit body to a validated request, or the documented 400 explaining why not.

Schema rules come from the contract; what JSON Schema cannot say (data URLs that must decode
to an image, file formats in URLs, the webhook URL) is checked here.
"""

from __future__ import annotations

import base64
import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from functools import lru_cache
from typing import Any

from mock_gateway.core import JobSpec
from mock_gateway.imaging import ACCEPTED, BYTEPLUS_ACCEPTED, ImageInfo, InvalidImage, probe_image
from mock_gateway.validation.body import parse_json
from mock_gateway.validation.contract import Operation, RequestSchemas
from mock_gateway.validation.messages import describe, field_name
from mock_gateway.validation.rejection import Rejection, bad_request
from mock_gateway.validation.sizing import output_size
from mock_gateway.validation.urls import (
    BYTEPLUS_FORMATS,
    LITE_FORMATS,
    canonical_base64,
    http_url,
    http_url_problem,
)

__all__ = [
    "ParsedSubmit",
    "Rejection",
    "bad_request",
    "check_webhook_url",
    "parse_json",
    "parse_submit",
]

MAX_INPUT_BYTES = 10 * 1024 * 1024  # facts B8: an input image is at most 10 MB
_DATA_URL = re.compile(r"^data:image/([a-z]+);base64,(.*)$", re.DOTALL)
MAX_URL_LENGTH = 2048


@lru_cache(maxsize=64)
def extra_of(base_url: str) -> dict[str, Any]:
    """A job's ``extra``, shared by every job submitted through the same base URL: it is
    never changed after the job is made, and one dict and one URL string per job were a
    quarter of what a finished job costs in memory."""
    return {"base_url": base_url}


@dataclass(slots=True)
class ParsedSubmit:
    operation: Operation
    fields: dict[str, Any]  # the body with the contract's defaults filled in
    model: str
    image_refs: tuple[str, ...] = ()
    decoded: dict[int, bytes] = field(default_factory=dict)  # data URLs, by input position
    probed: dict[int, ImageInfo] = field(default_factory=dict)

    def job_spec(
        self, inputs: tuple[bytes | None, ...], *, webhook_url: str | None, base_url: str
    ) -> JobSpec:
        """What the core queues for this request; ``inputs`` are the resolved input images
        (None where the mock cannot see them), ``base_url`` the host the client used."""
        first = self.probed.get(0)
        width, height = output_size(self.fields, (first.width, first.height) if first else None)
        fields = self.fields
        return JobSpec(
            operation_id=self.operation.operation_id,
            slug=self.operation.slug,
            model=self.model,
            media_type=self.operation.media_type,
            prompt=fields["prompt"],
            num_images=int(fields.get("num_images", 1)),
            width=width,
            height=height,
            seed=fields.get("seed"),
            watermark=bool(fields.get("watermark", False)),
            safety_checker=bool(fields.get("enable_safety_checker", True)),
            inputs=self.described_refs() if self.image_refs else (),
            input_images=tuple(data for data in inputs if data is not None) if inputs else (),
            webhook_url=webhook_url,
            extra=extra_of(base_url),  # webhook bodies carry the URLs the client sees
        )

    def described_refs(self) -> tuple[str, ...]:
        """The input references as a job keeps them: data URLs (up to ~14 MB each, and
        already decoded into ``decoded``) are shortened so a job does not hold them twice."""
        return tuple(
            f"{ref[: ref.index(',') + 1]}... ({len(ref)} characters)"
            if position in self.decoded
            else ref
            for position, ref in enumerate(self.image_refs)
        )


def check_content_type(content_type: str) -> Rejection | None:
    """A submit body must be declared ``application/json`` (parameters such as a charset
    are fine)."""
    if content_type.split(";")[0].strip().lower() != "application/json":
        return bad_request(f"Content-Type: must be application/json (got {content_type or 'none'})")
    return None


def check_webhook_url(url: str | None) -> Rejection | None:
    if url is None:
        return None
    problem = http_url_problem(url, ascii_only=True)
    if problem is None and len(url) > MAX_URL_LENGTH:
        problem = f"is longer than {MAX_URL_LENGTH} characters"
    if problem is not None:
        return bad_request(
            f"X-Webhook-URL: must be an absolute http(s) URL; it {problem} (got {url[:80]!r})"
        )
    return None


def _formats(operation: Operation) -> tuple[str, ...]:
    return LITE_FORMATS if operation.slug != "byteplus" else BYTEPLUS_FORMATS


def accepted_images(operation: Operation) -> Mapping[str, str]:
    """The input image formats (Pillow's names) an operation takes."""
    return ACCEPTED if operation.slug != "byteplus" else BYTEPLUS_ACCEPTED


def parse_submit(
    schemas: RequestSchemas, operation: Operation, body: Any
) -> ParsedSubmit | Rejection:
    if not isinstance(body, dict):
        return bad_request(f"body: must be a JSON object (got {type(body).__name__})")
    error = schemas.first_error(operation.operation_id, body)
    if error is not None:
        path = list(error.absolute_path)
        if path == ["model"] and isinstance(error.instance, str) and error.validator == "enum":
            return Rejection(
                400, "Model not found", f"Model '{error.instance}' not found or is disabled"
            )
        where = field_name(path)
        if (
            error.validator == "pattern"
            and path[:1] == [operation.input_field]
            and isinstance(error.instance, str)
        ):
            # The image patterns are long regexes; say in words which rule failed.
            schema = error.schema if isinstance(error.schema, dict) else {}
            data_urls = "data:image" in str(schema.get("pattern", ""))
            problem = image_ref_problem(error.instance, _formats(operation), data_urls=data_urls)
            if problem is not None:
                return bad_request(f"{where}: {problem}")
        return bad_request(describe(error))
    # Unknown fields are ignored as a gateway would: a stray "watermark" on 5.0 Lite or
    # "num_images" on byteplus must not change what is generated or charged.
    known = operation.properties
    fields = {**operation.defaults}
    fields.update({name: value for name, value in body.items() if name in known})
    if isinstance(fields.get("seed"), float):
        fields["seed"] = int(fields["seed"])  # JSON Schema counts 42.0 as an integer
    model = str(fields.get("model", operation.slug))
    parsed = ParsedSubmit(operation=operation, fields=fields, model=model)
    if operation.input_field is not None:
        value = fields[operation.input_field]
        refs = tuple(value) if isinstance(value, list) else (value,)
        parsed.image_refs = refs
        formats = _formats(operation)
        for position, ref in enumerate(refs):
            where = field_name(
                [operation.input_field, position]
                if isinstance(value, list)
                else [operation.input_field]
            )
            rejected = _check_image_ref(parsed, position, ref, where, formats)
            if rejected is not None:
                return rejected
    return parsed


def image_ref_problem(ref: str, formats: tuple[str, ...], *, data_urls: bool) -> str | None:
    """What is wrong with an input image reference before anything is decoded: the rule of
    the contract's image patterns, in words (None when it holds)."""
    if not data_urls and _DATA_URL.match(ref):
        return "must be an http(s) URL (this endpoint takes no data URLs)"
    inspected = _inspect_ref(ref, formats)
    return inspected if isinstance(inspected, str) else None


def _accepted(formats: tuple[str, ...]) -> str:
    """The formats as a refusal names them (worded only for a refusal)."""
    return "accepted: " + ", ".join(name.upper() for name in formats)


def _inspect_ref(ref: str, formats: tuple[str, ...]) -> str | bytes | None:
    """A problem (str), a data URL's decoded bytes, or None for a well-formed image URL."""
    match = _DATA_URL.match(ref)
    if match:
        if match.group(1) not in formats:
            return f"unsupported image format '{match.group(1)}' ({_accepted(formats)})"
        if len(match.group(2)) // 4 * 3 > MAX_INPUT_BYTES:  # refused before decoding
            return f"image is over the {MAX_INPUT_BYTES // 2**20} MB limit"
        if not canonical_base64(match.group(2)):
            return "the data URL is not valid base64 (padded, without whitespace)"
        return base64.b64decode(match.group(2))
    url = http_url(ref)  # parsed once: its extension is read from the same parse
    if isinstance(url, str):
        return f"must be an http(s) URL or a data URL; it {url}"
    extension = url.extension
    if extension and extension.lower() not in formats:
        return f"unsupported image format '.{extension}' ({_accepted(formats)})"
    return None


def _check_image_ref(
    parsed: ParsedSubmit, position: int, ref: str, where: str, formats: tuple[str, ...]
) -> Rejection | None:
    inspected = _inspect_ref(ref, formats)
    if isinstance(inspected, str):
        return bad_request(f"{where}: {inspected}")
    if inspected is not None:
        try:
            parsed.probed[position] = probe_image(
                inspected, accepted=accepted_images(parsed.operation)
            )
        except InvalidImage as exc:
            return bad_request(f"{where}: {exc}")
        parsed.decoded[position] = inspected
    return None
