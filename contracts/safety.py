"""Safe to point at anything: no request the suite sends can make the target contact a
third party.

The policy: a string anywhere in a request body or header that looks like a URL (it has
``://`` or starts with ``//``) must be one of the documentation's sample image URLs or the
suite's own loopback webhook receiver; ``data:`` URLs are fine. ``X-Webhook-URL`` is either
absent or the receiver. Generated cases are sanitized with :func:`sanitize_case_parts`, and
every request is scanned again at the transport (:func:`unsafe_urls`) before it is sent.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from typing import Any

from seedream_contracts.spec import WEBHOOK_HEADER, load_contract

_URLISH = re.compile(r"(?i)(://|^\s*//|\\\\)")
REMOVED = "url-removed-by-contract-suite"
# A 64x48 PNG (valid image, tiny), for byteplus edits that accept data URLs.
_TINY_PNG_B64 = (
    "iVBORw0KGgoAAAANSUhEUgAAAEAAAAAwCAIAAAAuKetIAAAARUlEQVR42u3PAQkAMAgAMH0aIxrRWG8hCFuD5XTFZS+O"
    "ExAQEBAQEBAQEBAQEBAQEBAQEBAQEBAQEBAQEBAQEBAQENjzAdHXAchd9gdMAAAAAElFTkSuQmCC"
)
TINY_PNG_DATA_URL = f"data:image/png;base64,{_TINY_PNG_B64}"


class UrlPolicy:
    """Which URLs a request may carry: the documented samples and the receiver's prefix."""

    def __init__(self, receiver_prefix: str | None = None) -> None:
        self.samples = load_contract().sample_urls
        self.receiver_prefix = receiver_prefix

    def allowed(self, value: str) -> bool:
        if not _URLISH.search(value):
            return True  # not a URL a server could contact (data: URLs included)
        if value in self.samples:
            return True
        return bool(self.receiver_prefix) and value.startswith(str(self.receiver_prefix))

    def sample_for(self, index: int) -> str:
        return self.samples[index % len(self.samples)]


def _strings(value: Any, where: str) -> Iterator[tuple[str, str]]:
    if isinstance(value, str):
        yield where, value
    elif isinstance(value, dict):
        for key, item in value.items():
            yield f"{where}.<key>", str(key)
            yield from _strings(item, f"{where}.{key}")
    elif isinstance(value, list | tuple):
        for index, item in enumerate(value):
            yield from _strings(item, f"{where}[{index}]")


def unsafe_urls(policy: UrlPolicy, headers: dict[str, str], body: bytes | str | None) -> list[str]:
    """Every disallowed URL in a request about to be sent (``where: value``)."""
    found = [f"header {n}: {v}" for n, v in headers.items() if not policy.allowed(str(v))]
    webhook = {k.lower(): v for k, v in headers.items()}.get(WEBHOOK_HEADER.lower())
    to_receiver = bool(policy.receiver_prefix) and str(webhook).startswith(
        str(policy.receiver_prefix)
    )
    looks_like_url = bool(_URLISH.search(str(webhook))) or "." in str(webhook)
    if webhook is not None and not to_receiver and looks_like_url:
        found.append(f"header {WEBHOOK_HEADER}: {webhook} (not the suite's receiver)")
    if body:
        text = body.decode("utf-8", "replace") if isinstance(body, bytes) else body
        try:
            parsed: Any = json.loads(text)
        except ValueError:
            parsed = text
        found += [f"body {w}: {v[:120]}" for w, v in _strings(parsed, "") if not policy.allowed(v)]
    return found


def _clean(value: Any, policy: UrlPolicy, positive: bool, counter: list[int]) -> Any:
    if isinstance(value, str):
        if policy.allowed(value):
            return value
        counter[0] += 1
        return policy.sample_for(counter[0]) if positive else REMOVED
    if isinstance(value, dict):
        return {
            (k if policy.allowed(str(k)) else REMOVED): _clean(v, policy, positive, counter)
            for k, v in value.items()
        }
    if isinstance(value, list):
        return [_clean(item, policy, positive, counter) for item in value]
    return value


def sanitize_body(operation_id: str, body: Any, policy: UrlPolicy, positive: bool) -> Any:
    """``body`` with every disallowed URL replaced.

    In a positive case the input images become documented samples (or a tiny PNG data URL
    where the contract allows data URLs), so the request stays valid and cheap; in a negative
    case a disallowed URL becomes a plain string, keeping the request invalid.
    """
    counter = [0]
    cleaned = _clean(body, policy, positive, counter)
    op = load_contract().submits.get(operation_id)
    if positive and op is not None and op.input_field and isinstance(cleaned, dict):
        value = cleaned.get(op.input_field)
        if isinstance(value, list):
            cleaned[op.input_field] = [policy.sample_for(i) for i in range(len(value))]
        elif isinstance(value, str):
            cleaned[op.input_field] = (
                TINY_PNG_DATA_URL if value.startswith("data:") else policy.sample_for(0)
            )
    return cleaned


def sanitize_headers(headers: dict[str, Any] | None, receiver_url: str | None) -> dict[str, Any]:
    """Generated headers without any URL; ``X-Webhook-URL`` becomes the receiver (or goes)."""
    cleaned: dict[str, Any] = {}
    for name, value in (headers or {}).items():
        if name.lower() == WEBHOOK_HEADER.lower():
            if receiver_url:
                cleaned[name] = receiver_url
            continue
        cleaned[name] = REMOVED if _URLISH.search(str(value)) else value
    return cleaned
