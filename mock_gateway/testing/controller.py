"""``MockController``: the control API (``/_mock/``) from Python, over plain HTTP.

Works with any running mock (``mock-gateway serve``, the pytest plugin's server, a CI
service). Bound to a ``key``, it scopes what a test does to that key: fault rules only hit
its calls and the logs only show its traffic, so tests running side by side do not see
each other.
"""

from __future__ import annotations

import json
import os
from collections.abc import Mapping
from decimal import Decimal
from pathlib import Path
from typing import Any, Self

import httpx

Money = Decimal | str | int | float
SnapshotSource = Mapping[str, Any] | str | os.PathLike[str]  # a snapshot, or its JSON file


class ControlError(RuntimeError):
    """The control API refused a call; ``status`` and ``message`` say why."""

    def __init__(self, status: int, message: str) -> None:
        super().__init__(f"{status}: {message}")
        self.status = status
        self.message = message


class MockController:
    def __init__(
        self,
        base_url: str,
        *,
        key: str | None = None,
        token: str | None = None,
        timeout: float = 30.0,
        transport: httpx.BaseTransport | None = None,
    ) -> None:
        self.base_url = base_url.rstrip("/")
        self.key = key
        headers = {"Authorization": f"Bearer {token}"} if token else {}
        self._http = httpx.Client(
            base_url=f"{self.base_url}/_mock",
            headers=headers,
            timeout=timeout,
            transport=transport,
            trust_env=False,  # a proxy setting must never send control calls elsewhere
        )

    def close(self) -> None:
        self._http.close()

    def __enter__(self) -> Self:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.close()

    def _call(
        self,
        method: str,
        route: str,
        body: Any = None,
        /,
        *,
        raw: bytes | None = None,
        **params: Any,
    ) -> Any:
        query = {name: _param(value) for name, value in params.items() if value is not None}
        if raw is not None:
            headers = {"Content-Type": "application/json"}
            response = self._http.request(method, route, content=raw, params=query, headers=headers)
        else:
            response = self._http.request(method, route, json=body, params=query)
        if response.status_code >= 400:
            try:
                message = str(response.json().get("message", response.text))
            except ValueError:
                message = response.text
            raise ControlError(response.status_code, message)
        return response.json() if response.content else None

    def _key(self, key: str | None) -> str:
        chosen = key or self.key
        if not chosen:
            raise ValueError("no key given and this controller is not bound to one")
        return chosen

    # -- keys and wallets ---------------------------------------------------------------

    def key_info(self, key: str | None = None) -> dict[str, Any]:
        """``balance_usd`` (a decimal string), ``forbidden``, ``rate_limits``, ``note``."""
        info: dict[str, Any] = self._call("GET", f"/keys/{self._key(key)}")
        return info

    def put_key(self, key: str | None = None, **fields: Any) -> dict[str, Any]:
        """Create or update a key: ``balance_usd``, ``forbidden``, ``rate_limits``, ``note``."""
        if "balance_usd" in fields:
            fields["balance_usd"] = str(fields["balance_usd"])
        info: dict[str, Any] = self._call("PUT", f"/keys/{self._key(key)}", fields)
        return info

    def delete_key(self, key: str | None = None) -> None:
        self._call("DELETE", f"/keys/{self._key(key)}")

    def balance(self, key: str | None = None) -> Decimal:
        return Decimal(self.key_info(key)["balance_usd"])

    def set_balance(self, balance_usd: Money, key: str | None = None) -> dict[str, Any]:
        return self.put_key(key, balance_usd=balance_usd)

    def set_rate_limits(
        self, key: str | None = None, *, submit: str | None = None, status: str | None = None
    ) -> dict[str, Any]:
        """``"10/m"``-style limits for one key; None returns a group to the default."""
        return self.put_key(key, rate_limits={"submit": submit, "status": status})

    def forbid(self, key: str | None = None, forbidden: bool = True) -> dict[str, Any]:
        return self.put_key(key, forbidden=forbidden)

    # -- snapshots -----------------------------------------------------------------------

    def snapshot(
        self, path: str | os.PathLike[str] | None = None, *, without: tuple[str, ...] = ()
    ) -> dict[str, Any]:
        """The mock's whole state (jobs, keys, webhooks, faults, clock, journal ...) as JSON;
        also written to ``path`` when given. It holds the keys in full. ``without`` leaves
        out sections a restore reads as empty (``("journal", "hygiene")`` for a prepared
        state to commit)."""
        body = {"without": list(without)} if without else None
        data: dict[str, Any] = self._call("POST", "/snapshot", body)
        if path is not None:
            Path(path).write_text(json.dumps(data), encoding="utf-8")
        return data

    def restore(self, snapshot: SnapshotSource) -> dict[str, Any]:
        """Replace the mock's whole state with ``snapshot`` (a dict from ``snapshot()``, or
        the path of its JSON file). A bad one raises ``ControlError`` (400) naming the
        field, and the mock keeps its state."""
        if isinstance(snapshot, Mapping):
            raw = json.dumps(snapshot).encode()
        else:
            raw = Path(snapshot).read_bytes()
        answer: dict[str, Any] = self._call("POST", "/restore", raw=raw)
        return answer

    # -- time ----------------------------------------------------------------------------

    def reset(self) -> None:
        """Back to the configured start state (every key, fault and log)."""
        self._call("POST", "/reset")

    def clock(self) -> dict[str, Any]:
        info: dict[str, Any] = self._call("GET", "/clock")
        return info

    def now(self) -> float:
        return float(self.clock()["time"])

    def advance(self, seconds: float) -> dict[str, Any]:
        info: dict[str, Any] = self._call("POST", "/clock/advance", {"seconds": seconds})
        return info

    def freeze(self) -> dict[str, Any]:
        info: dict[str, Any] = self._call("POST", "/clock/freeze")
        return info

    def resume(self, rate: float = 1.0) -> dict[str, Any]:
        info: dict[str, Any] = self._call("POST", "/clock/resume", {"rate": rate})
        return info

    def set_rate(self, rate: float) -> dict[str, Any]:
        """The time scale: 0 frozen, 1 real time, 10 ten times faster."""
        info: dict[str, Any] = self._call("POST", "/clock/rate", {"rate": rate})
        return info

    # -- faults --------------------------------------------------------------------------

    def inject_fault(self, rule: dict[str, Any] | None = None, /, **fields: Any) -> dict[str, Any]:
        """Add a fault rule, e.g. ``inject_fault(status=500, times=1)`` or
        ``inject_fault(outcome="ERROR", error="GPU lost")``. A bound controller scopes it
        to its key; pass ``key=None`` for a rule that hits every key."""
        merged = {**(rule or {}), **fields}
        if "key" in merged and merged["key"] is None:
            del merged["key"]
        elif "key" not in merged and self.key:
            merged["key"] = self.key
        added: dict[str, Any] = self._call("POST", "/faults", merged)
        return added

    def faults(self) -> list[dict[str, Any]]:
        rules: list[dict[str, Any]] = self._call("GET", "/faults")["faults"]
        return rules

    def clear_faults(self, key: str | None = None) -> int:
        removed: int = self._call("DELETE", "/faults", None, key=key)["removed"]
        return removed

    def remove_fault(self, rule_id: str) -> None:
        self._call("DELETE", f"/faults/{rule_id}")

    # -- logs ----------------------------------------------------------------------------

    def requests(self, *, all_keys: bool = False, **filters: Any) -> list[dict[str, Any]]:
        """Journal entries (oldest first): filter by ``path`` (prefix), ``status``,
        ``method``, ``since``, ``request_id``, ``warned``, ``limit``; a bound controller
        shows only its key's calls unless ``all_keys=True``."""
        if not all_keys and "key" not in filters:
            filters["key"] = self.key
        return self._every("/requests", "requests", **filters)

    def _every(self, route: str, name: str, /, **filters: Any) -> list[dict[str, Any]]:
        """Every item of a paged list (or the one page asked for with ``limit``/``offset``)."""
        if "limit" in filters or "offset" in filters:
            page: list[dict[str, Any]] = self._call("GET", route, None, **filters)[name]
            return page
        found: list[dict[str, Any]] = []
        offset: int | None = 0
        while offset is not None:
            answer = self._call("GET", route, None, offset=offset, **filters)
            found.extend(answer[name])
            offset = answer.get("next_offset")
            filters.pop("wait", None)  # waiting once is enough
        return found

    def warnings(self, **filters: Any) -> list[dict[str, str]]:
        """The client-hygiene warnings of the journal entries, flattened."""
        entries = self.requests(warned=True, **filters)
        return [warning for entry in entries for warning in entry["warnings"]]

    def webhooks(
        self, *, wait: float = 5.0, all_keys: bool = False, **filters: Any
    ) -> list[dict[str, Any]]:
        """Webhook deliveries with their attempts, after waiting (up to ``wait`` real
        seconds) until none is in flight or due now."""
        if not all_keys and "key" not in filters:
            filters["key"] = self.key
        return self._every("/webhooks", "webhooks", wait=wait, **filters)


def _param(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    return str(value)
