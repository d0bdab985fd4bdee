"""A behaviour profile: what a target did, reduced to what should not drift.

Built from sanitized exchanges (a recording, or the exchanges of a run, which the report
embeds), grouped by operation and scenario label:

* per group, the status codes seen and, per status, every JSON field path with its types;
* per group, the error messages, for deterministic scenarios only (generated requests make
  messages vary from run to run), with request ids and UUIDs normalized away;
* per operation and requested size, the media types, image formats and pixel sizes;
* per operation, the timing medians.
"""

from __future__ import annotations

import re
from typing import Any

GENERATED = ".generated"  # submit.generated-valid, status.generated ...: inputs vary by run
_REQUEST_ID = re.compile(
    r"\b[a-z0-9-]+_[0-9a-fx]{8}-[0-9a-fx]{4}-[0-9a-fx]{4}-[0-9a-fx]{4}-[0-9a-fx]{12,}"
)
_UUID = re.compile(r"\b[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}\b")
_SUITE_KEY = re.compile(r"contract-suite-[a-z]+-[0-9a-f]+")
_MESSAGE_FIELDS = ("message", "error")
_IGNORED = {"control", "unlabelled"}


def json_type(value: Any) -> str:
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "boolean"
    if isinstance(value, int):
        return "integer"
    if isinstance(value, float):
        return "number"
    if isinstance(value, str):
        return "string"
    return "array" if isinstance(value, list) else "object"


def field_types(
    value: Any, path: str = "", into: dict[str, set[str]] | None = None
) -> dict[str, set[str]]:
    into = {} if into is None else into
    into.setdefault(path or "$", set()).add(json_type(value))
    if isinstance(value, dict):
        for key, item in value.items():
            field_types(item, f"{path}.{key}" if path else str(key), into)
    elif isinstance(value, list):
        for item in value:
            field_types(item, f"{path}[]", into)
    return into


def normalize_message(text: str) -> str:
    text = _REQUEST_ID.sub("<request_id>", text)
    text = _SUITE_KEY.sub("<key>", text)
    return _UUID.sub("<uuid>", text)


def _group(profile: dict[str, Any], key: str) -> dict[str, Any]:
    group: dict[str, Any] = profile["groups"].setdefault(
        key, {"statuses": {}, "fields": {}, "messages": {}}
    )
    return group


def build_profile(exchanges: list[dict[str, Any]], timing: dict[str, Any]) -> dict[str, Any]:
    profile: dict[str, Any] = {"groups": {}, "media": {}, "timing": {}}
    for fixture in exchanges:
        scenario = str(fixture.get("scenario", "unlabelled"))
        response = fixture.get("response")
        if scenario in _IGNORED or not response:
            continue
        status = str(response.get("status"))
        body = response.get("body")
        if scenario.startswith("media "):
            _add_media(profile, scenario.removeprefix("media "), response, fixture.get("extra"))
            continue
        group = _group(profile, f"{fixture.get('operation', 'other')} {scenario}")
        group["statuses"][status] = group["statuses"].get(status, 0) + 1
        if isinstance(body, dict | list):
            types = group["fields"].setdefault(status, {})
            for path, kinds in field_types(body).items():
                types[path] = sorted(set(types.get(path, [])) | kinds)
        if isinstance(body, dict) and GENERATED not in scenario:
            found = [
                f"{name}: {normalize_message(str(body[name]))}"
                for name in _MESSAGE_FIELDS
                if isinstance(body.get(name), str) and status != "200"
            ]
            if found:
                messages = set(group["messages"].get(status, [])) | set(found)
                group["messages"][status] = sorted(messages)
    for operation_id, figures in timing.items():
        median = (figures.get("created_to_completed_s") or {}).get("median")
        if median is not None:
            profile["timing"][operation_id] = {"created_to_completed_median_s": median}
    return profile


def _add_media(profile: dict[str, Any], key: str, response: dict[str, Any], extra: Any) -> None:
    entry = profile["media"].setdefault(
        key, {"statuses": [], "content_types": [], "formats": [], "sizes": []}
    )
    headers = {k.lower(): v for k, v in (response.get("headers") or {}).items()}
    body = response.get("body")
    image = body.get("image") if isinstance(body, dict) else None
    size = f"{image['width']}x{image['height']}" if image else None
    if size is not None and isinstance(extra, dict) and extra.get("expected_size") == size:
        size = "as requested"
    additions = {
        "statuses": str(response.get("status")),
        "content_types": headers.get("content-type", "").split(";")[0].strip() or None,
        "formats": image.get("format") if image else None,
        "sizes": size,
    }
    for name, value in additions.items():
        if value is not None and value not in entry[name]:
            entry[name] = sorted([*entry[name], value])
