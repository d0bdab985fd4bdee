"""The one place that talks to the upstream.

Only ever to ``--upstream``: the URL is built from the configured origin and a path the
proxy's own routes matched (never from a ``Host`` header or an absolute-form request
target), redirects are not followed, no proxy is taken from the environment, and answers
are read up to a bound.
"""

from __future__ import annotations

import time
from collections.abc import Iterable
from dataclasses import dataclass, field
from urllib.parse import quote

import httpx

from mock_gateway.web.streams import read_limited
from seedream_contracts.document import STATUS_PREFIX

# Hop-by-hop headers (RFC 9110 7.6.1) and what httpx computes itself.
_HOP_BY_HOP = {
    "connection",
    "keep-alive",
    "proxy-authenticate",
    "proxy-authorization",
    "proxy-connection",
    "te",
    "trailer",
    "transfer-encoding",
    "upgrade",
    "host",
    "content-length",
    "accept-encoding",  # httpx asks for what it can decode, and decodes it
}
# What the proxy's own server sets, or what no longer holds once httpx decoded the body.
_NOT_RELAYED = {*_HOP_BY_HOP, "content-encoding", "date", "server"}


@dataclass
class Upstream:
    """What the upstream answered (``status`` None: it did not answer; ``error`` says why)."""

    url: str
    status: int | None = None
    headers: dict[str, str] = field(default_factory=dict)  # lower-case names
    body: bytes = b""
    elapsed: float = 0.0
    error: str | None = None
    timed_out: bool = False


def status_path(request_id: str) -> str:
    """The status path for ``request_id``, percent-encoded so that it stays one segment
    (``..`` too: a dot segment must not walk the upstream URL elsewhere)."""
    encoded = quote(request_id, safe="")
    if set(encoded) == {"."}:
        encoded = encoded.replace(".", "%2E")
    return STATUS_PREFIX + encoded


def forwarded_headers(headers: Iterable[tuple[str, str]]) -> list[tuple[str, str]]:
    """The caller's headers as sent (key, content type, ``X-Webhook-URL`` ...), less the
    hop-by-hop ones."""
    return [(name, value) for name, value in headers if name.lower() not in _HOP_BY_HOP]


def relayed_headers(headers: dict[str, str]) -> dict[str, str]:
    return {name: value for name, value in headers.items() if name not in _NOT_RELAYED}


class Forwarder:
    def __init__(self, upstream: str, client: httpx.AsyncClient, max_body_bytes: int) -> None:
        self.upstream = upstream
        self.client = client
        self.max_body_bytes = max_body_bytes

    async def send(
        self,
        method: str,
        path: str,
        query: bytes,
        headers: list[tuple[str, str]],
        body: bytes | None,
    ) -> Upstream:
        url = self.upstream + path + (f"?{query.decode('latin-1')}" if query else "")
        result = Upstream(url)
        started = time.monotonic()
        try:
            request = self.client.build_request(method, url, headers=headers, content=body)
            response = await self.client.send(request, stream=True, follow_redirects=False)
            try:
                content = await read_limited(response.aiter_bytes(), self.max_body_bytes)
            finally:
                await response.aclose()
            result.headers = {k.lower(): v for k, v in response.headers.items()}
            if content is None:
                result.error = f"the answer was larger than {self.max_body_bytes} bytes"
            else:
                result.status, result.body = response.status_code, content
        except httpx.TimeoutException as exc:
            result.error, result.timed_out = f"no answer in time ({type(exc).__name__})", True
        except httpx.HTTPError as exc:
            result.error = f"{type(exc).__name__}: {exc}"
        result.elapsed = time.monotonic() - started
        return result
