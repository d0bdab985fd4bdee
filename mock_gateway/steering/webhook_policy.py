"""Webhook decisions that need no I/O: which hosts may be called, when to retry, how to sign.

The mock must never become a source of traffic to other people's servers: fuzzers send it
arbitrary ``X-Webhook-URL`` values. So the allow decision is made from the URL's *literal*
host (no DNS lookup, which could itself leak the name or be steered by a hostile resolver):
loopback addresses and ``localhost`` are allowed, everything else only when listed.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
import ipaddress
from dataclasses import dataclass

from mock_gateway.validation.urls import BadUrl, parse_url

IPNetwork = ipaddress.IPv4Network | ipaddress.IPv6Network


@dataclass(frozen=True, slots=True)
class WebhookSettings:
    allow_hosts: tuple[str, ...] = ()
    max_attempts: int = 5
    backoff_seconds: float = 1.0  # first retry; then doubling
    timeout_seconds: float = 10.0  # per attempt, real time
    signing_secret: str | None = None  # whsec_...: sign per Standard Webhooks


@dataclass(frozen=True, slots=True)
class HostPolicy:
    """Loopback always; plus exact host names and IP addresses or networks (``10.0.0.0/8``)."""

    names: frozenset[str] = frozenset()
    networks: tuple[IPNetwork, ...] = ()

    @classmethod
    def from_allowed(cls, allowed: tuple[str, ...] | list[str]) -> HostPolicy:
        names: set[str] = set()
        networks: list[IPNetwork] = []
        for entry in allowed:
            text = entry.strip().lower().strip("[]")
            try:
                networks.append(ipaddress.ip_network(text, strict=False))
            except ValueError:
                names.add(text.rstrip("."))
        return cls(frozenset(names), tuple(networks))

    def refusal(self, url: str) -> str | None:
        """None when ``url`` may be called; otherwise why not and how to allow it."""
        host = host_of(url)
        if host is None:
            return "the URL has no host"
        if host == "localhost" or host in self.names:
            return None
        try:
            address = ipaddress.ip_address(host)
        except ValueError:
            address = None
        if address is not None and (
            address.is_loopback or any(address in network for network in self.networks)
        ):
            return None
        shown = f"[{host}]" if ":" in host else host
        return (
            f"host {host!r} is not loopback, so the mock does not call it; "
            f"start it with --webhook-allow-host {shown} (or webhooks.allow_hosts in a "
            "config or scenario file) to allow it"
        )


def host_of(url: str) -> str | None:
    """The literal host of ``url``, lower-cased, without brackets or a trailing dot."""
    parsed = parse_url(url)
    return None if isinstance(parsed, BadUrl) or not parsed.host else parsed.host


def backoff_seconds(attempt: int, first: float, cap: float = 3600.0) -> float:
    """Delay before retry number ``attempt`` (1 = the first retry): first, 2x, 4x ..."""
    return float(min(cap, first * (2 ** max(0, attempt - 1))))


def secret_bytes(secret: str) -> bytes:
    """The HMAC key of a Standard Webhooks secret: the base64 part after ``whsec_``."""
    if not secret.startswith("whsec_"):
        raise ValueError("a webhook signing secret must look like whsec_<base64>")
    try:
        key = base64.b64decode(secret.removeprefix("whsec_"), validate=True)
    except (binascii.Error, ValueError):
        raise ValueError("the part after whsec_ must be valid base64") from None
    if not key:
        raise ValueError("the webhook signing secret is empty")
    return key


def signature_headers(key: bytes, msg_id: str, timestamp: int, body: bytes) -> dict[str, str]:
    """``webhook-id``, ``webhook-timestamp`` and ``webhook-signature`` per Standard Webhooks:
    ``v1,<base64 HMAC-SHA256(key, "{id}.{timestamp}.{body}")>``."""
    content = msg_id.encode() + b"." + str(timestamp).encode() + b"." + body
    digest = hmac.new(key, content, hashlib.sha256).digest()
    return {
        "webhook-id": msg_id,
        "webhook-timestamp": str(timestamp),
        "webhook-signature": "v1," + base64.b64encode(digest).decode("ascii"),
    }
