"""Webhook callbacks: parse them, verify their signature, and receive them locally.

A callback body is the job's status body, so ``parse`` returns the same ``JobStatus`` as
``Gateway.status()``. The gateway documents no signing; the mock can sign callbacks with the
Standard Webhooks scheme (``webhook-id``, ``webhook-timestamp``, ``webhook-signature:
v1,<base64 HMAC-SHA256 of "{id}.{timestamp}.{body}">``, secret ``whsec_<base64>``), which
``verify`` checks, rejecting timestamps more than ``tolerance`` seconds (default 5 min) away.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import queue
import threading
import time
from collections.abc import Iterator, Mapping
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import anyio.to_thread

from seedream_client._exceptions import APIResponseValidationError, WebhookVerificationError
from seedream_client._models import JobStatus

__all__ = ["WebhookReceiver", "Webhooks", "parse", "sign", "unwrap", "verify"]

DEFAULT_TOLERANCE = 300.0


def _secret_bytes(secret: str) -> bytes:
    try:
        return base64.b64decode(secret.removeprefix("whsec_"), validate=True)
    except ValueError:
        raise WebhookVerificationError("webhook secret is not whsec_<base64>") from None


def sign(body: bytes | str, secret: str, *, msg_id: str, timestamp: int) -> dict[str, str]:
    """The three Standard Webhooks headers for ``body`` (to test your own receiver)."""
    raw = body.encode() if isinstance(body, str) else body  # sign the exact bytes received
    content = f"{msg_id}.{timestamp}.".encode() + raw
    digest = hmac.new(_secret_bytes(secret), content, hashlib.sha256).digest()
    return {
        "webhook-id": msg_id,
        "webhook-timestamp": str(timestamp),
        "webhook-signature": "v1," + base64.b64encode(digest).decode("ascii"),
    }


def verify(
    body: bytes | str,
    headers: Mapping[str, str],
    secret: str,
    *,
    tolerance: float = DEFAULT_TOLERANCE,
    now: float | None = None,
) -> None:
    """Raise WebhookVerificationError unless ``body`` carries a valid, fresh signature."""
    lowered = {k.lower(): v for k, v in headers.items()}
    msg_id, stamp = lowered.get("webhook-id"), lowered.get("webhook-timestamp")
    signatures = lowered.get("webhook-signature")
    if not (msg_id and stamp and signatures):
        raise WebhookVerificationError("missing webhook-id, webhook-timestamp or webhook-signature")
    try:
        timestamp = int(stamp)
    except ValueError:
        raise WebhookVerificationError(f"webhook-timestamp {stamp!r} is not an integer") from None
    current = time.time() if now is None else now
    if abs(current - timestamp) > tolerance:
        raise WebhookVerificationError(f"webhook-timestamp is more than {tolerance:g} s away")
    expected = sign(body, secret, msg_id=msg_id, timestamp=timestamp)["webhook-signature"]
    for candidate in signatures.split():
        if candidate.startswith("v1,") and hmac.compare_digest(candidate, expected):
            return
    raise WebhookVerificationError("no webhook-signature matches the body")


def parse(body: bytes | str | Mapping[str, Any]) -> JobStatus:
    """Parse a callback body into a JobStatus (the same type ``status()`` returns)."""
    if isinstance(body, Mapping):
        return JobStatus.from_body(dict(body))
    try:
        data = json.loads(body)
    except (ValueError, UnicodeDecodeError):
        raise APIResponseValidationError("webhook body is not JSON") from None
    return JobStatus.from_body(data)


def unwrap(
    body: bytes | str,
    headers: Mapping[str, str],
    secret: str | None = None,
    *,
    tolerance: float = DEFAULT_TOLERANCE,
) -> JobStatus:
    """Verify (when a secret is given) and parse a callback."""
    if secret:
        verify(body, headers, secret, tolerance=tolerance)
    return parse(body)


class Webhooks:
    """``gateway.webhooks``: the helpers above bound to the client's webhook secret."""

    def __init__(self, secret: str | None = None, *, tolerance: float = DEFAULT_TOLERANCE) -> None:
        self._secret = secret
        self.tolerance = tolerance

    def __repr__(self) -> str:
        return f"Webhooks(signed={bool(self._secret)})"

    def parse(self, body: bytes | str | Mapping[str, Any]) -> JobStatus:
        return parse(body)

    def verify(self, body: bytes | str, headers: Mapping[str, str]) -> None:
        if not self._secret:
            raise WebhookVerificationError("no webhook secret configured")
        verify(body, headers, self._secret, tolerance=self.tolerance)

    def unwrap(self, body: bytes | str, headers: Mapping[str, str]) -> JobStatus:
        return unwrap(body, headers, self._secret, tolerance=self.tolerance)


class WebhookReceiver:
    """A tiny callback endpoint on 127.0.0.1 (a stdlib server in a thread) for development.

    ``with WebhookReceiver(secret=...) as rx: gw.text_to_image(..., webhook_url=rx.url);
    status = rx.get(timeout=30)``. Answers 200 to a valid callback, 401 to a bad signature,
    400 to a body that is not a status; repeated deliveries (same ``webhook-id``) are kept once.
    """

    def __init__(
        self, host: str = "127.0.0.1", port: int = 0, *, secret: str | None = None
    ) -> None:
        self._webhooks = Webhooks(secret)
        self._queue: queue.Queue[JobStatus] = queue.Queue()
        self._seen: set[str] = set()
        self.received: list[JobStatus] = []
        self.rejected: list[str] = []
        self._server = ThreadingHTTPServer((host, port), self._handler_class())
        self._server.daemon_threads = True
        self._thread: threading.Thread | None = None

    @property
    def url(self) -> str:
        host, port = self._server.server_address[:2]
        return f"http://{host!s}:{port}/webhook"

    def _handler_class(self) -> type[BaseHTTPRequestHandler]:
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                body = self.rfile.read(int(self.headers.get("Content-Length") or 0))
                self.send_response(receiver._accept(body, dict(self.headers.items())))
                self.send_header("Content-Length", "0")
                self.end_headers()

            def log_message(self, format: str, *args: Any) -> None:
                pass

        return Handler

    def _accept(self, body: bytes, headers: dict[str, str]) -> int:
        try:
            status = self._webhooks.unwrap(body, headers)
        except WebhookVerificationError as exc:
            self.rejected.append(str(exc))
            return 401
        except APIResponseValidationError as exc:
            self.rejected.append(str(exc))
            return 400
        msg_id = {k.lower(): v for k, v in headers.items()}.get("webhook-id")
        if msg_id is None or msg_id not in self._seen:
            if msg_id is not None:
                self._seen.add(msg_id)
            self.received.append(status)
            self._queue.put(status)
        return 200

    def start(self) -> WebhookReceiver:
        if self._thread is None:
            self._thread = threading.Thread(
                target=self._server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True
            )
            self._thread.start()
        return self

    def close(self) -> None:
        if self._thread is not None:
            self._server.shutdown()
            self._thread.join()
            self._thread = None
        self._server.server_close()

    def __enter__(self) -> WebhookReceiver:
        return self.start()

    def __exit__(self, *exc_info: object) -> None:
        self.close()

    def get(self, timeout: float | None = None) -> JobStatus:
        """The next parsed callback; TimeoutError if none arrives in time."""
        try:
            return self._queue.get(timeout=timeout)
        except queue.Empty:
            raise TimeoutError(f"no webhook callback within {timeout} s") from None

    async def aget(self, timeout: float | None = None) -> JobStatus:
        """``get`` for async code: waits in a worker thread, not on the event loop."""
        return await anyio.to_thread.run_sync(self.get, timeout, abandon_on_cancel=True)

    def __iter__(self) -> Iterator[JobStatus]:
        while True:
            yield self.get()
