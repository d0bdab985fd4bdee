"""The one HTTP session every request of the suite goes through (schemathesis included).

``GuardedSession.send`` scans each request for URLs the target could contact, keeps the API
key away from any origin but the target's, reserves the price of billable requests with the
spend guard, and logs the exchange (for evidence, the recording and the drift profile).
"""

from __future__ import annotations

import contextlib
import json
import time
from collections.abc import Callable, Iterator
from decimal import Decimal
from typing import Any
from urllib.parse import urlsplit

import requests

from seedream_contracts.exchange import Exchange
from seedream_contracts.guard import Reservation, SpendGuard, charged_by
from seedream_contracts.safety import UrlPolicy, unsafe_urls
from seedream_contracts.spec import KEY_HEADER, load_contract


class UnsafeRequest(RuntimeError):
    """The suite was about to send a URL a target could contact: a bug in the suite."""


def _body_bytes(body: Any) -> bytes | None:
    if body is None:
        return None
    return body.encode("utf-8") if isinstance(body, str) else bytes(body)


class GuardedSession(requests.Session):
    def __init__(
        self,
        *,
        guard: SpendGuard,
        policy: UrlPolicy,
        target_origin: str,
        free_keys: Callable[[], set[str]],
        on_exchange: Callable[[Exchange], None],
    ) -> None:
        super().__init__()
        self.trust_env = False  # never route through a proxy from the environment
        self.guard = guard
        self.policy = policy
        self.target_origin = target_origin
        self.free_keys = free_keys
        self.on_exchange = on_exchange
        self.scenario = "unlabelled"
        self.notes: dict[str, Any] = {}
        self.last: Exchange | None = None
        self._seq = 0

    @contextlib.contextmanager
    def labelled(self, scenario: str, **notes: Any) -> Iterator[None]:
        """Label the exchanges sent inside the block (drift profiles group by label);
        ``notes`` travel with them (e.g. the image size the request asked for)."""
        previous = self.scenario, self.notes
        self.scenario, self.notes = scenario, notes
        try:
            yield
        finally:
            self.scenario, self.notes = previous

    def cost_of(
        self, method: str, path: str, headers: dict[str, str], body: bytes | None
    ) -> Decimal:
        op = load_contract().by_path.get(path) if method.upper() == "POST" else None
        key = {k.lower(): v for k, v in headers.items()}.get(KEY_HEADER.lower())
        if op is None or not key or key in self.free_keys():
            return Decimal(0)
        try:
            parsed = json.loads(body or b"")
        except ValueError:
            parsed = None
        images = parsed.get("num_images") if isinstance(parsed, dict) else None
        return op.cost(images)

    def send(self, request: requests.PreparedRequest, **kwargs: Any) -> requests.Response:
        url = str(request.url)
        parts = urlsplit(url)
        headers = {str(k): str(v) for k, v in request.headers.items()}
        body = _body_bytes(request.body)
        problems = unsafe_urls(self.policy, headers, body)
        origin = f"{parts.scheme}://{parts.netloc}"
        if KEY_HEADER.lower() in {k.lower() for k in headers} and origin != self.target_origin:
            problems.append(f"the API key would be sent to {origin}, not the target")
        if problems:
            raise UnsafeRequest("refusing to send: " + "; ".join(problems))
        method = str(request.method)
        self._seq += 1
        exchange = Exchange(
            seq=self._seq,
            check=self.guard.current,
            scenario=self.scenario,
            operation=load_contract().operation_for(method, parts.path),
            method=method,
            url=url,
            request_headers=headers,
            request_body=body,
            extra=dict(self.notes),
        )
        exchange.cost = self.cost_of(method, parts.path, headers, body)
        reservation: Reservation | None = None
        if exchange.cost:
            reservation = self.guard.reserve(exchange.cost, f"{method} {parts.path}")
        started = time.monotonic()
        try:
            response = super().send(request, **kwargs)
        except Exception as exc:
            exchange.error = f"{type(exc).__name__}: {exc}"
            exchange.elapsed = time.monotonic() - started
            if reservation is not None:
                self.guard.settle(reservation, charged=True)
            self._log(exchange)
            raise
        exchange.elapsed = time.monotonic() - started
        exchange.status = response.status_code
        exchange.response_headers = {str(k): str(v) for k, v in response.headers.items()}
        exchange.response_body = response.content
        if reservation is not None:
            self.guard.settle(reservation, charged=charged_by(response.status_code))
        self._log(exchange)
        return response

    def _log(self, exchange: Exchange) -> None:
        self.last = exchange
        self.on_exchange(exchange)
