"""A loopback HTTP server that records every callback: the webhook receiver of tests.

It can be told to fail the next N deliveries (with a status code of your choice), so a
test can watch a target's retries. The contract suite's receiver (``receiver.py``) and the
mock's ``webhook_receiver`` pytest fixture both run one; it is usable on its own too:
``with LoopbackReceiver() as receiver: ... receiver.url``. It lives here, in the suite's
package, so the suite never imports the mock it judges (the mock may import the suite's
leaves: this file and ``document.py``).
"""

from __future__ import annotations

import json
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

MAX_BODY = 10 * 1024 * 1024


@dataclass(frozen=True)
class Callback:
    """One request the receiver got, and what it answered."""

    method: str
    path: str
    headers: dict[str, str]
    body: bytes
    answered: int
    received_at: float  # real time (time.time())

    def json(self) -> Any:
        return json.loads(self.body)


class LoopbackReceiver:
    def __init__(self, host: str = "127.0.0.1") -> None:
        self.callbacks: list[Callback] = []
        self._fail_left = 0
        self._fail_status = 500
        self._delay = 0.0
        self._changed = threading.Condition()
        self._server = ThreadingHTTPServer((host, 0), self._handler_class())
        self._server.daemon_threads = True
        self._thread = threading.Thread(
            target=self._server.serve_forever,
            kwargs={"poll_interval": 0.02},  # so close() returns at once, not after 0.5 s
            name="webhook-receiver",
            daemon=True,
        )
        self._thread.start()

    def _handler_class(self) -> type[BaseHTTPRequestHandler]:
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                length = int(self.headers.get("Content-Length") or 0)
                body = self.rfile.read(min(length, MAX_BODY))
                status, delay = receiver._next_answer()
                if delay:
                    time.sleep(delay)
                headers = {name.lower(): value for name, value in self.headers.items()}
                # Recorded before answering: once the sender has its 200, the test sees it.
                receiver._record(
                    Callback(self.command, self.path, headers, body, status, time.time())
                )
                self.send_response(status)
                self.send_header("Content-Length", "0")
                self.end_headers()

            do_PUT = do_POST

            def log_message(self, format: str, *args: Any) -> None:
                pass  # keep test output clean

        return Handler

    def _next_answer(self) -> tuple[int, float]:
        with self._changed:
            if self._fail_left > 0:
                self._fail_left -= 1
                return self._fail_status, self._delay
            return 200, self._delay

    def _record(self, callback: Callback) -> None:
        with self._changed:
            self.callbacks.append(callback)
            self._changed.notify_all()

    @property
    def url(self) -> str:
        host, port = self._server.server_address[:2]
        return f"http://{host!s}:{port}/webhook"

    def url_for(self, path: str) -> str:
        return self.url.rsplit("/", 1)[0] + "/" + path.lstrip("/")

    def fail(self, times: int, status: int = 500) -> None:
        """Answer the next ``times`` callbacks with ``status`` (then 200 again)."""
        with self._changed:
            self._fail_left, self._fail_status = times, status

    def slow_down(self, seconds: float) -> None:
        """Wait this long (real time) before answering each callback: for timeout tests."""
        self._delay = seconds

    @property
    def delivered(self) -> list[Callback]:
        """The callbacks answered with a 2xx."""
        return [c for c in self.callbacks if 200 <= c.answered < 300]

    def bodies(self) -> list[Any]:
        return [callback.json() for callback in self.delivered]

    def wait_for(
        self, count: int = 1, timeout: float = 5.0, *, delivered: bool = True
    ) -> list[Callback]:
        """Block until ``count`` callbacks arrived (only 2xx-answered ones by default)."""

        def enough(callbacks: list[Callback]) -> list[Callback]:
            found = [c for c in callbacks if not delivered or 200 <= c.answered < 300]
            return found if len(found) >= count else []

        found = self.wait_until(enough, timeout)
        if not found:
            got = len(self.delivered if delivered else self.callbacks)
            raise TimeoutError(f"{got} of {count} callbacks in {timeout:g} s")
        return found

    def wait_until(
        self, select: Callable[[list[Callback]], list[Callback]], timeout: float
    ) -> list[Callback]:
        """Block until ``select`` (shown every callback so far) picks some; [] on timeout."""
        deadline = time.monotonic() + timeout
        with self._changed:
            while True:
                found = select(list(self.callbacks))
                remaining = deadline - time.monotonic()
                if found or remaining <= 0:
                    return found
                self._changed.wait(remaining)

    def clear(self) -> None:
        with self._changed:
            self.callbacks.clear()
            self._fail_left = 0
            self._delay = 0.0

    def close(self) -> None:
        self._server.shutdown()
        self._server.server_close()
        self._thread.join(timeout=5)

    def __enter__(self) -> LoopbackReceiver:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.close()
