"""The suite's own webhook receiver: the only ``X-Webhook-URL`` the suite ever sends.

It listens on 127.0.0.1 only, so a target can call back nobody but the machine running the
suite (and only a target on the same machine can reach it). The server itself is a
``LoopbackReceiver`` (``loopback.py``); the suite adds a random path prefix, so a stray
request to the port is not mistaken for a callback, and lookups by request id.
"""

from __future__ import annotations

import secrets

from seedream_contracts.loopback import Callback, LoopbackReceiver


def _names(callback: Callback, request_id: str) -> bool:
    try:
        body = callback.json()
    except ValueError:  # a target that sends something else than JSON
        return False
    return isinstance(body, dict) and body.get("request_id") == request_id


class SuiteReceiver:
    def __init__(self) -> None:
        self.token = secrets.token_hex(8)
        self._server = LoopbackReceiver()

    @property
    def prefix(self) -> str:
        return self._server.url_for(f"hook/{self.token}/")

    def url_for(self, tag: str) -> str:
        return f"{self.prefix}{tag}"

    def wait_for(self, request_id: str, timeout: float) -> list[Callback]:
        """Callbacks whose body names ``request_id``, waiting up to ``timeout`` for one."""
        mine = f"/hook/{self.token}/"
        return self._server.wait_until(
            lambda callbacks: [
                c for c in callbacks if c.path.startswith(mine) and _names(c, request_id)
            ],
            timeout,
        )

    def close(self) -> None:
        self._server.close()
