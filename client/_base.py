"""BaseGateway: configuration, request building and retry bookkeeping shared by both clients.

``Gateway`` and ``AsyncGateway`` subclass it and add only the I/O loops; everything that
decides something (what to send, what an answer means, whether to retry) lives here or in
the pure modules it calls.
"""

from __future__ import annotations

import dataclasses
import logging
import os
from collections.abc import Callable, Mapping, Sequence
from decimal import Decimal
from typing import Any
from urllib.parse import quote

import httpx

from seedream_client._build import Kind, PreparedSubmit, estimate_cost, prepare_submit, submit_args
from seedream_client._contract import STATUS_PATH
from seedream_client._exceptions import GatewayError
from seedream_client._models import PriceTable
from seedream_client._retry import CallKind, PollPolicy, RetryPolicy, body_of
from seedream_client.webhooks import Webhooks

log = logging.getLogger("seedream_client")

DEFAULT_BASE_URL = "https://gateway.pixazo.ai"
DEFAULT_TIMEOUT = httpx.Timeout(60.0, connect=10.0)
KEY_HEADER = "Ocp-Apim-Subscription-Key"
USER_AGENT = "seedream-gateway-client/0.1"


class _Secret:
    """Holds the key so that ``vars()``, debuggers and tracebacks show ``<redacted>``."""

    __slots__ = ("_value",)

    def __init__(self, value: str) -> None:
        self._value = value

    def __repr__(self) -> str:
        return "<redacted>"

    def reveal(self) -> str:
        return self._value


class BaseGateway:
    """Holds the settings; builds requests; turns answers into results or errors."""

    def __init__(
        self,
        api_key: str | None,
        base_url: str | None,
        *,
        timeout: float | httpx.Timeout | None,
        max_retries: int,
        poll: PollPolicy | None,
        retry: RetryPolicy | None,
        prices: PriceTable | None,
        webhook_secret: str | None,
        client_timeout: httpx.Timeout | None,
    ) -> None:
        key = api_key if api_key is not None else os.environ.get("PIXAZO_API_KEY")
        if not key:
            raise GatewayError("no API key: pass api_key= or set PIXAZO_API_KEY")
        self._key = _Secret(key)  # never part of repr, logs or messages
        url = base_url or os.environ.get("PIXAZO_BASE_URL") or DEFAULT_BASE_URL
        self.base_url = url.rstrip("/")
        if timeout is None:  # a client you pass in keeps its own timeout
            self.timeout = client_timeout or DEFAULT_TIMEOUT
        else:
            self.timeout = httpx.Timeout(timeout)
        # ``max_retries`` is the everyday knob; it wins over ``retry.max_retries``.
        self.retry = dataclasses.replace(retry or RetryPolicy(), max_retries=max_retries)
        self.poll = poll or PollPolicy()
        self.prices = prices or PriceTable()
        self.webhooks = Webhooks(webhook_secret or os.environ.get("PIXAZO_WEBHOOK_SECRET"))
        # Called before each retry's sleep with the reason ("HTTP 429", "ConnectError") and
        # the delay in seconds, e.g. to tell a user why nothing happens for 30 s.
        self.on_retry: Callable[[str, float], None] | None = None

    def __repr__(self) -> str:
        return f"{type(self).__name__}(base_url={self.base_url!r})"

    # -- requests -------------------------------------------------------------------------

    def _headers(self, *, authenticated: bool = True) -> dict[str, str]:
        headers = {"Accept": "application/json", "User-Agent": USER_AGENT}
        if authenticated:
            headers |= {KEY_HEADER: self._key.reveal(), "Cache-Control": "no-cache"}
        return headers

    def _submit_request(
        self, http: httpx.Client | httpx.AsyncClient, prepared: PreparedSubmit
    ) -> httpx.Request:
        headers = self._headers()
        if prepared.webhook_url:
            headers["X-Webhook-URL"] = prepared.webhook_url
        op = prepared.operation
        return http.build_request(
            op.method,
            self.base_url + op.path,
            json=prepared.body,
            headers=headers,
            timeout=self.timeout,
        )

    def _status_request(
        self, http: httpx.Client | httpx.AsyncClient, request_id: str
    ) -> httpx.Request:
        if not request_id or not isinstance(request_id, str):
            raise GatewayError(f"not a request id: {request_id!r}")
        path = STATUS_PATH.replace("{request_id}", quote(request_id, safe=""))
        return http.build_request(
            "GET", self.base_url + path, headers=self._headers(), timeout=self.timeout
        )

    def _download_request(self, http: httpx.Client | httpx.AsyncClient, url: str) -> httpx.Request:
        # Media URLs point at a CDN: the subscription key is never sent there.
        return http.build_request(
            "GET", url, headers=self._headers(authenticated=False), timeout=self.timeout
        )

    # -- decisions --------------------------------------------------------------------------

    def _next_delay(
        self,
        kind: CallKind,
        attempt: int,
        what: str,
        *,
        response: httpx.Response | None = None,
        exc: httpx.TransportError | None = None,
        request_id: str | None = None,
    ) -> float | None:
        """None to accept ``response``; seconds to sleep before retrying; or raise."""
        if exc is not None:
            decision = self.retry.decide_exception(kind, attempt, exc, what=what)
        else:
            assert response is not None
            error_body = body_of(response) if response.status_code >= 400 else None
            decision = self.retry.decide_response(
                kind,
                attempt,
                response.status_code,
                response.headers,
                error_body,
                request_id=request_id,
                what=what,
            )
        if decision.error is not None:
            raise decision.error from exc
        if decision.delay is not None:
            reason = type(exc).__name__ if exc else f"HTTP {response and response.status_code}"
            log.info(
                "retrying %s in %.2f s after %s (retry %d)",
                what,
                decision.delay,
                reason,
                attempt + 1,
            )
            if self.on_retry is not None:
                self.on_retry(reason, decision.delay)
        return decision.delay

    def _prepare(self, kind: Kind, args: Mapping[str, Any]) -> PreparedSubmit:
        """Check and build a submit from a public method's arguments; raise if it would fail."""
        return prepare_submit(**submit_args(kind, args), prices=self.prices)

    def estimate_cost(
        self,
        kind: Kind = "text_to_image",
        *,
        model: str | None = None,
        num_images: int = 1,
    ) -> Decimal:
        """The estimated USD cost of a submit, from this client's price table."""
        return estimate_cost(kind, model, num_images, self.prices)


def needs_thread(images: object) -> bool:
    """Whether preparing a submit reads files or encodes bytes (worth a worker thread)."""
    if isinstance(images, str) or images is None:
        return False
    if isinstance(images, bytes | os.PathLike):
        return True
    return isinstance(images, Sequence) and any(not isinstance(i, str) for i in images)
