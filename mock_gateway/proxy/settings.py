"""What one proxy is told: where the upstream is, what it may spend, what it keeps."""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal
from pathlib import Path
from urllib.parse import urlsplit

DEFAULT_PORT = 8010
MAX_BODY_BYTES = 20 * 1024 * 1024  # the gateway's documented request limit (and the mock's)


class ProxySettingsError(ValueError):
    """A setting cannot be used; the message names it."""


@dataclass(frozen=True)
class ProxySettings:
    upstream: str  # origin (and optional base path) every forwarded request goes to
    max_spend_usd: Decimal | None = None  # None: no limit (spend is still counted)
    record_dir: Path | None = None
    reject_invalid: bool = False
    timeout_seconds: float = 60.0
    max_body_bytes: int = MAX_BODY_BYTES  # requests and answers alike
    # What the report keeps in memory (older entries are dropped, counts stay exact).
    max_exchanges: int = 500
    max_violations: int = 1000
    max_refusals: int = 500
    max_tracked_jobs: int = 10_000  # request ids whose lifecycle is followed
    max_body_chars: int = 2000  # bodies shown in the report are cut here

    def __post_init__(self) -> None:
        object.__setattr__(self, "upstream", parse_upstream(self.upstream))
        if self.max_spend_usd is not None and self.max_spend_usd < 0:
            raise ProxySettingsError("--max-spend: must not be negative")


def parse_upstream(text: str) -> str:
    """``text`` as an upstream base URL without a trailing slash, or a clear error."""
    try:
        parts = urlsplit(text.strip())
        _ = parts.port  # raises on a bad port
    except ValueError as exc:
        raise ProxySettingsError(f"--upstream: {text!r} is not a URL ({exc})") from None
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise ProxySettingsError(f"--upstream: {text!r} must be an absolute http(s) URL")
    if parts.query or parts.fragment or parts.username or parts.password:
        raise ProxySettingsError(
            f"--upstream: {text!r} must not carry a query, a fragment or credentials"
        )
    return f"{parts.scheme}://{parts.netloc}{parts.path}".rstrip("/")
