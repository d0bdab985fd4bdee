"""The suite's own webhook receiver: a loopback HTTP server that records every callback.

It is the only ``X-Webhook-URL`` the suite ever sends, so a target can call back nobody but
the machine running the suite (and only a target on the same machine can reach it).
"""

from __future__ import annotations

import json
import secrets
import threading
import time
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any


@dataclass
class Delivery:
    path: str
    headers: dict[str, str]
    body: bytes
    received_at: float

    def json(self) -> Any:
        try:
            return json.loads(self.body)
        except ValueError:
            return None


class WebhookReceiver:
    def __init__(self) -> None:
        self.token = secrets.token_hex(8)
        self.deliveries: list[Delivery] = []
        self._changed = threading.Condition()
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:  # http.server's naming
                length = int(self.headers.get("Content-Length") or 0)
                body = self.rfile.read(min(length, 10 * 1024 * 1024))
                self.send_response(200)
                self.send_header("Content-Length", "0")
                self.end_headers()
                with receiver._changed:
                    receiver.deliveries.append(
                        Delivery(self.path, dict(self.headers.items()), body, time.time())
                    )
                    receiver._changed.notify_all()

            def log_message(self, format: str, *args: Any) -> None:
                pass

        self._server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self._server.daemon_threads = True
        self._thread = threading.Thread(target=self._server.serve_forever, daemon=True)
        self._thread.start()

    @property
    def prefix(self) -> str:
        host, port = self._server.server_address[:2]
        return f"http://{host!s}:{port}/hook/{self.token}/"

    def url_for(self, tag: str) -> str:
        return f"{self.prefix}{tag}"

    def wait_for(self, request_id: str, timeout: float) -> list[Delivery]:
        """Callbacks whose body names ``request_id``, waiting up to ``timeout`` for one."""
        deadline = time.monotonic() + timeout
        with self._changed:
            while True:
                found = [
                    d
                    for d in self.deliveries
                    if isinstance(d.json(), dict) and d.json().get("request_id") == request_id
                ]
                remaining = deadline - time.monotonic()
                if found or remaining <= 0:
                    return found
                self._changed.wait(remaining)

    def close(self) -> None:
        self._server.shutdown()
        self._server.server_close()
