"""Sanitized views of exchanges: keys, signed URL parameters, hosts and big payloads out.

The same view serves as report evidence, as a recorded fixture, and as the input of the
drift profile, so a recording from the live gateway and one from the mock compare cleanly.
"""

from __future__ import annotations

import base64
import hashlib
import io
import json
import re
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import parse_qsl, urlencode, urlsplit, urlunsplit

from seedream_contracts.exchange import Exchange
from seedream_contracts.spec import KEY_HEADER

_DROP_HEADERS = {"authorization", "cookie", "set-cookie", "x-control-token", "date", "server"}
_KEEP_RESPONSE = {"content-type", "retry-after", "content-length", "location"}
_URL = re.compile(r"https?://[^\s\"'<>]+")
_DATA_URL = re.compile(r"data:image/([a-z]+);base64,[A-Za-z0-9+/=\s]{40,}")
_MAX_TEXT = 4000


@dataclass
class Redactor:
    """Knows the secret values of this run and the hosts to replace with placeholders."""

    keys: dict[str, str] = field(default_factory=dict)  # secret -> role label
    hosts: dict[str, str] = field(default_factory=dict)  # origin -> placeholder

    def text(self, value: str) -> str:
        for secret, role in sorted(self.keys.items(), key=lambda kv: -len(kv[0])):
            if secret:
                value = value.replace(secret, f"<{role}>")
        value = _DATA_URL.sub(
            lambda m: f"data:image/{m.group(1)};base64,<{len(m.group(0))}>", value
        )
        return _URL.sub(lambda m: self.url(m.group(0)), value)

    def url(self, url: str) -> str:
        try:
            parts = urlsplit(url)
        except ValueError:  # e.g. "http://[::1": nothing could fetch it; redact it all the same
            base, _, query = url.partition("?")
            for secret, role in self.keys.items():
                if secret:
                    base = base.replace(secret, f"<{role}>")
            return base + ("?redacted" if query else "")
        origin = f"{parts.scheme}://{parts.netloc}"
        query = parts.query
        if query:  # signed URLs: keep the parameter names, never their values
            query = urlencode(
                [(k, "redacted") for k, _ in parse_qsl(query, keep_blank_values=True)]
            )
        for secret, role in self.keys.items():
            if secret and secret in parts.path:
                parts = parts._replace(path=parts.path.replace(secret, f"<{role}>"))
        placeholder = self.hosts.get(origin)
        if placeholder is not None:
            return placeholder + urlunsplit(("", "", parts.path, query, ""))
        return urlunsplit((parts.scheme, parts.netloc, parts.path, query, ""))

    def headers(self, headers: dict[str, str], response: bool = False) -> dict[str, str]:
        shown: dict[str, str] = {}
        for name, value in headers.items():
            low = name.lower()
            if low in _DROP_HEADERS or (response and low not in _KEEP_RESPONSE):
                continue
            if low == KEY_HEADER.lower():
                shown[name] = f"<{self.keys.get(value, 'redacted-key')}>"
            else:
                shown[name] = self.text(value)
        return shown

    def body(self, raw: bytes | None, content_type: str = "") -> Any:
        if raw is None or raw == b"":
            return None
        if content_type.startswith("image/") or not _is_text(raw):
            return describe_binary(raw)
        text = raw.decode("utf-8", "replace")
        try:
            return self.json_value(json.loads(text))
        except ValueError:
            shown = self.text(text)
            return shown if len(shown) <= _MAX_TEXT else shown[:_MAX_TEXT] + "..."

    def json_value(self, value: Any) -> Any:
        if isinstance(value, str):
            return self.text(value)
        if isinstance(value, dict):
            return {self.text(str(k)): self.json_value(v) for k, v in value.items()}
        if isinstance(value, list):
            return [self.json_value(v) for v in value]
        return value

    def exchange(self, exchange: Exchange) -> dict[str, Any]:
        """The sanitized fixture form of one exchange."""
        content_type = exchange.response_headers.get("content-type", "") or next(
            (v for k, v in exchange.response_headers.items() if k.lower() == "content-type"), ""
        )
        fixture: dict[str, Any] = {
            "seq": exchange.seq,
            "check": exchange.check,
            "scenario": exchange.scenario,
            "operation": exchange.operation,
            "request": {
                "method": exchange.method,
                "url": self.url(exchange.url),
                "headers": self.headers(exchange.request_headers),
                "body": self.body(exchange.request_body),
            },
            "response": None,
            "elapsed_ms": round(exchange.elapsed * 1000, 1),
        }
        if exchange.status is not None:
            fixture["response"] = {
                "status": exchange.status,
                "headers": self.headers(exchange.response_headers, response=True),
                "body": self.body(exchange.response_body, content_type),
            }
        if exchange.error:
            fixture["error"] = self.text(exchange.error)
        if exchange.cost:
            fixture["cost_usd"] = str(exchange.cost)
        if exchange.extra:
            fixture["extra"] = self.json_value(exchange.extra)
        return fixture


def _is_text(raw: bytes) -> bool:
    try:
        raw[:2048].decode("utf-8")
    except UnicodeDecodeError:
        return False
    return b"\x00" not in raw[:2048]


def describe_binary(raw: bytes) -> dict[str, Any]:
    """A binary body as facts (size, digest and, for images, format and pixel size)."""
    facts: dict[str, Any] = {"bytes": len(raw), "sha256": hashlib.sha256(raw).hexdigest()[:16]}
    try:
        from PIL import Image

        with Image.open(io.BytesIO(raw)) as image:
            facts["image"] = {"format": image.format, "width": image.width, "height": image.height}
    except Exception:  # not an image Pillow knows: the digest is all we keep
        facts["base64_head"] = base64.b64encode(raw[:24]).decode()
    return facts
