"""One request and its answer as the suite (and the mock's proxy) logged it.

Kept apart from ``transport.py`` so that redaction and recording need no HTTP library:
the mock's proxy records with the same code without importing ``requests``.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any


@dataclass
class Exchange:
    seq: int
    check: str
    scenario: str
    operation: str
    method: str
    url: str
    request_headers: dict[str, str]
    request_body: bytes | None
    status: int | None = None
    response_headers: dict[str, str] = field(default_factory=dict)
    response_body: bytes = b""
    elapsed: float = 0.0
    error: str | None = None
    cost: Decimal = Decimal(0)
    extra: dict[str, Any] = field(default_factory=dict)

    def json(self) -> Any:
        try:
            return json.loads(self.response_body)
        except ValueError:
            return None
