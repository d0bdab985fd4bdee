"""Sanitizing and recording exchanges with the contract suite's own code.

The redaction (``seedream_contracts.redact``) and the recording format
(``seedream_contracts.recording``) are the suite's, so ``python -m seedream_contracts diff``
reads a proxy recording like a suite recording. Exchanges are labelled with the suite's
scenario names where the traffic is the same situation (an unknown key's submit is
``submit.invalid-key`` here as there), so the two compare group by group.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

from mock_gateway.validation.contract import Operation
from seedream_contracts.exchange import Exchange
from seedream_contracts.recording import Recorder
from seedream_contracts.redact import Redactor

MAX_KEYS = 1000  # distinct keys remembered for redaction (headers are redacted regardless)


def scenario_of(
    operation: Operation | None, has_key: bool, status: int | None, body: Any, num_images: Any
) -> str:
    """The suite's label for this situation (``operation`` None: the status endpoint)."""
    group = "status" if operation is None else "submit"
    if status == 401:
        return f"{group}.invalid-key" if has_key else f"{group}.missing-key"
    if operation is None:
        return {200: "status.poll", 404: "status.unknown"}.get(status or 0, f"status.{status}")
    if status == 402:
        images = num_images if isinstance(num_images, int) and num_images > 1 else 1
        return "submit.broke-key" if images == 1 else f"submit.broke-key-{images}-images"
    if status == 429:
        return "submit.rate-limited"
    if status is not None and 200 <= status < 300:
        return "submit.example" if body == operation.example else "submit.generated-valid"
    if status == 400:
        return "submit.generated-invalid"  # inputs vary: messages are not compared
    return f"submit.{status or 'noanswer'}"


class Sanitizer:
    """The suite's redactor, taught every key the proxy sees and the upstream's host."""

    def __init__(self, upstream: str) -> None:
        parts = urlsplit(upstream)
        self.redactor = Redactor(keys={}, hosts={f"{parts.scheme}://{parts.netloc}": "{gateway}"})

    def learn_key(self, key: str | None) -> None:
        keys = self.redactor.keys
        if key and key not in keys and len(keys) < MAX_KEYS:
            keys[key] = "api-key" if not keys else f"api-key-{len(keys) + 1}"

    def text(self, value: str) -> str:
        return self.redactor.text(value)

    def exchange(self, exchange: Exchange) -> dict[str, Any]:
        return self.redactor.exchange(exchange)


class ProxyRecorder:
    """``--record DIR``: one sanitized fixture per forwarded exchange, then the index."""

    def __init__(self, directory: Path) -> None:
        self.target = {"kind": "proxy", "base_url": "{gateway}", "via": "mock-gateway proxy"}
        self.recorder = Recorder(directory, self.target)

    def write(self, fixture: dict[str, Any]) -> None:
        self.recorder.write(fixture)

    def close(self, timing: dict[str, Any]) -> None:
        self.recorder.close(timing, self.target)
