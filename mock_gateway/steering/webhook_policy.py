"""Webhook decisions that need no I/O: which hosts may be called, when to retry, how to sign.

The mock must never become a source of traffic to other people's servers: fuzzers send it
arbitrary ``X-Webhook-URL`` values. So the allow decision is made from the URL's *literal*
host (no DNS lookup, which could itself leak the name or be steered by a hostile resolver),
and the connection then goes to the address that was judged, not to a name resolved later.

One rule decides loopback: the host is exactly ``localhost`` (connected to as 127.0.0.1) or
an IP address written the one way every parser reads alike (dotted quad or bracketed IPv6)
inside 127.0.0.0/8 or ::1. Any other spelling is refused, with the spelling to use instead:
a trailing dot (``localhost.``, ``127.0.0.1.``: a fully qualified name that goes to DNS),
IPv4 shorthands (``127.1``, ``0x7f000001``, ``2130706433``: only a resolver calls them
loopback) and IPv4-mapped IPv6 (``[::ffff:127.0.0.1]``). Everything else is called only when
listed (``--webhook-allow-host``); a listed *name* is the one case the system resolves.
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
LOCALHOST_ADDRESS = "127.0.0.1"  # where ``localhost`` is connected to, without a lookup


@dataclass(frozen=True, slots=True)
class Target:
    """Where a webhook URL that may be called is connected to."""

    address: str  # an IP literal, or a name the user listed (then, only then, resolved)
    host: str  # the URL's literal host (sent as the Host header, and for TLS)


@dataclass(frozen=True, slots=True)
class WebhookSettings:
    allow_hosts: tuple[str, ...] = ()
    max_attempts: int = 5
    backoff_seconds: float = 1.0  # first retry; then doubling
    timeout_seconds: float = 10.0  # per attempt as a whole (connect to last byte), real time
    per_host_concurrency: int = 4  # attempts at once to one receiver (scheme, host, port)
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
        decision = self.decide(url)
        return decision if isinstance(decision, str) else None

    def decide(self, url: str) -> Target | str:
        """Where to connect for ``url``, or why it is not called. Never resolves a name."""
        host = host_of(url)
        if not host:
            return "the URL has no host"
        if host == "localhost":
            return Target(LOCALHOST_ADDRESS, host)
        try:
            address = ipaddress.ip_address(host)
        except ValueError:
            address = None
        if address is not None:
            mapped = getattr(address, "ipv4_mapped", None)
            if mapped is not None:
                return _refused(host, f"an IPv4-mapped IPv6 address: write it as {mapped}")
            if address.is_loopback or any(address in network for network in self.networks):
                return Target(address.compressed, host)
            return _refused(host, "not loopback")
        if host.endswith("."):
            return _refused(
                host,
                "a fully qualified name (trailing dot), which goes to DNS: write "
                f"{host.rstrip('.') or 'the host'} without the dot",
            )
        shorthand = _ipv4_shorthand(host)
        if shorthand is not None:
            return _refused(host, f"a shorthand IPv4 spelling: write it as {shorthand}")
        if host in self.names:
            return Target(host, host)
        return _refused(host, "not loopback")


def _refused(host: str, why: str) -> str:
    """The reason a host is not called; a host that is merely not loopback is named in the
    option that would allow it, a misspelt one gets the spelling to use."""
    if why == "not loopback":
        shown = f"[{host}]" if ":" in host else host
        return (
            f"host {host!r} is not loopback, so the mock does not call it; start it with "
            f"--webhook-allow-host {shown} (or webhooks.allow_hosts in a config or scenario "
            "file) to allow it"
        )
    return (
        f"host {host!r} is not called: it is {why} (loopback is localhost, 127.0.0.0/8 or "
        "[::1], written in full; other hosts need --webhook-allow-host)"
    )


def _ipv4_shorthand(host: str) -> str | None:
    """The dotted quad a resolver would read ``host`` as (``127.1``, ``0x7f000001``,
    ``0177.0.0.1``), or None: the rules of C's ``inet_aton``, which the system resolver
    applies before it looks a name up. One to four numbers, each decimal, octal (a leading 0)
    or hex (0x); the last fills the bytes the others leave."""
    parts = host.split(".")
    if not 1 <= len(parts) <= 4:
        return None
    values: list[int] = []
    for part in parts:
        try:
            if part[:2] in ("0x", "0X"):
                value = int(part[2:], 16)
            elif len(part) > 1 and part.startswith("0"):
                value = int(part, 8)
            else:
                value = int(part, 10)
        except ValueError:  # also an empty part, a sign or a space
            return None
        if not part.isalnum():
            return None
        values.append(value)
    *leading, last = values
    if any(value > 255 for value in leading) or last >= 256 ** (4 - len(leading)):
        return None
    number = 0
    for value in leading:
        number = number * 256 + value
    number = (number << (8 * (4 - len(leading)))) | last
    return str(ipaddress.IPv4Address(number))


def host_of(url: str) -> str | None:
    """The literal host of ``url``, lower-cased, without brackets (a trailing dot kept:
    ``localhost.`` is another name than ``localhost``)."""
    parsed = parse_url(url)
    return None if isinstance(parsed, BadUrl) or not parsed.host else parsed.literal_host


def hide_password(url: str) -> str:
    """``url`` with the password of its userinfo (if any) replaced by ``****``."""
    parsed = parse_url(url)
    if isinstance(parsed, BadUrl) or parsed.userinfo is None or ":" not in parsed.userinfo:
        return url
    user = parsed.userinfo.split(":", 1)[0]
    return url.replace(f"{parsed.userinfo}@", f"{user}:****@", 1)


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
