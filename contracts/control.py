"""The mock's control API (``/_mock/``), used only when the target offers it.

Only targets taken for a mock are ever asked (``GET /_mock/clock``, which names no key).
"""

from __future__ import annotations

import contextlib
import uuid
from decimal import Decimal
from typing import Any

import requests

from seedream_contracts.transport import GuardedSession

CONTROL_TIMEOUT = 10.0


class ControlError(RuntimeError):
    pass


class ControlApi:
    """The calls the suite makes, remembering what it created so ``cleanup`` can remove it:
    a shared, long-running mock is left as the suite found it (its own keys and fault rules
    gone; only the request journal keeps a trace)."""

    def __init__(self, session: GuardedSession, base_url: str) -> None:
        self.session = session
        self.base_url = base_url
        self.created_keys: list[str] = []
        self.fault_ids: list[str] = []

    def _call(self, method: str, path: str, body: Any = None) -> requests.Response:
        with self.session.labelled("control"):
            return self.session.request(
                method, f"{self.base_url}/_mock{path}", json=body, timeout=CONTROL_TIMEOUT
            )

    def available(self) -> bool:
        """True when ``GET /_mock/clock`` answers with a clock (free, and names no key)."""
        try:
            response = self._call("GET", "/clock")
        except requests.RequestException:
            return False
        if response.status_code != 200:
            return False
        try:
            body = response.json()
        except ValueError:
            return False
        return isinstance(body, dict) and "time" in body and "rate" in body

    def balance(self, key: str) -> Decimal:
        response = self._call("GET", f"/keys/{key}")
        if response.status_code != 200:
            raise ControlError(f"GET /_mock/keys/{{key}}: {response.status_code} {response.text}")
        return Decimal(str(response.json()["balance_usd"]))

    def new_key(self, balance_usd: Decimal, label: str = "money") -> str:
        """A fresh funded key of the suite's own, so no other check shares its wallet."""
        key = f"contract-suite-{label}-{uuid.uuid4().hex[:12]}"
        self.created_keys.append(key)  # before the call: a half-made key is removed too
        self.set_balance(key, balance_usd)
        return key

    def set_balance(self, key: str, balance_usd: Decimal) -> None:
        response = self._call("PUT", f"/keys/{key}", {"balance_usd": str(balance_usd)})
        if response.status_code not in (200, 201, 204):
            raise ControlError(f"PUT /_mock/keys/{{key}}: {response.status_code} {response.text}")

    def set_rate_limits(self, key: str, **limits: str) -> None:
        """``"1/m"``-style limits per endpoint group (``submit``, ``status``) for one key."""
        response = self._call("PUT", f"/keys/{key}", {"rate_limits": limits})
        if response.status_code not in (200, 201, 204):
            raise ControlError(f"PUT /_mock/keys/{{key}}: {response.status_code} {response.text}")

    def add_fault(self, rule: dict[str, Any]) -> None:
        response = self._call("POST", "/faults", rule)
        if response.status_code not in (200, 201, 204):
            raise ControlError(f"POST /_mock/faults: {response.status_code} {response.text}")
        with contextlib.suppress(ValueError, AttributeError):
            rule_id = response.json().get("id")
            if isinstance(rule_id, str):
                self.fault_ids.append(rule_id)

    def advance(self, seconds: float) -> None:
        response = self._call("POST", "/clock/advance", {"seconds": seconds})
        if response.status_code not in (200, 204):
            raise ControlError(f"POST /_mock/clock/advance: {response.status_code}")

    def cleanup(self) -> list[str]:
        """Remove the fault rules and keys this run created; what could not be removed."""
        left: list[str] = []
        for path in [f"/faults/{rule}" for rule in self.fault_ids] + [
            f"/keys/{key}" for key in self.created_keys
        ]:
            try:
                status = self._call("DELETE", path).status_code
            except requests.RequestException as exc:
                left.append(f"{path}: {exc}")
                continue
            if status not in (200, 204, 404):  # 404: gone already (a spent rule, a reset)
                left.append(f"{path}: {status}")
        self.fault_ids.clear()
        self.created_keys.clear()
        return left
