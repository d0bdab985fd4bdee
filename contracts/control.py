"""The mock's control API (``/_mock/``, issue 7), used only when the target offers it.

Only mock targets are ever probed: the probe names a key in its path, and a live gateway's
access logs are no place for a key.
"""

from __future__ import annotations

import uuid
from decimal import Decimal
from typing import Any

import requests

from seedream_contracts.transport import GuardedSession

CONTROL_TIMEOUT = 10.0


class ControlRefused(RuntimeError):
    """The target's control API refused a set-up call the suite needed (a suite failure,
    not a verdict on the target)."""


class ControlApi:
    def __init__(self, session: GuardedSession, base_url: str) -> None:
        self.session = session
        self.base_url = base_url

    def _call(self, method: str, path: str, body: Any = None) -> requests.Response:
        with self.session.labelled("control"):
            return self.session.request(
                method, f"{self.base_url}/_mock{path}", json=body, timeout=CONTROL_TIMEOUT
            )

    def probe(self, key: str) -> bool:
        """True when ``GET /_mock/keys/{key}`` answers with a balance."""
        try:
            response = self._call("GET", f"/keys/{key}")
        except requests.RequestException:
            return False
        if response.status_code != 200:
            return False
        try:
            return "balance_usd" in response.json()
        except ValueError:
            return False

    def balance(self, key: str) -> Decimal:
        response = self._call("GET", f"/keys/{key}")
        if response.status_code != 200:
            raise ControlRefused(f"GET /_mock/keys/{{key}}: {response.status_code} {response.text}")
        return Decimal(str(response.json()["balance_usd"]))

    def new_key(self, balance_usd: Decimal, label: str = "money") -> str:
        """A fresh funded key of the suite's own, so no other check shares its wallet."""
        key = f"contract-suite-{label}-{uuid.uuid4().hex[:12]}"
        self.set_balance(key, balance_usd)
        return key

    def set_balance(self, key: str, balance_usd: Decimal) -> None:
        response = self._call("PUT", f"/keys/{key}", {"balance_usd": float(balance_usd)})
        if response.status_code not in (200, 201, 204):
            raise ControlRefused(f"PUT /_mock/keys/{{key}}: {response.status_code} {response.text}")

    def set_rate_limits(self, key: str, **limits: str) -> None:
        """``"1/m"``-style limits per endpoint group (``submit``, ``status``) for one key."""
        response = self._call("PUT", f"/keys/{key}", {"rate_limits": limits})
        if response.status_code not in (200, 201, 204):
            raise ControlRefused(f"PUT /_mock/keys/{{key}}: {response.status_code} {response.text}")

    def add_fault(self, rule: dict[str, Any]) -> None:
        response = self._call("POST", "/faults", rule)
        if response.status_code not in (200, 201, 204):
            raise ControlRefused(f"POST /_mock/faults: {response.status_code} {response.text}")

    def advance(self, seconds: float) -> None:
        response = self._call("POST", "/clock/advance", {"seconds": seconds})
        if response.status_code not in (200, 204):
            raise ControlRefused(f"POST /_mock/clock/advance: {response.status_code}")
