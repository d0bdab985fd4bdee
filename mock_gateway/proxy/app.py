"""``create_proxy_app``: the proxy's HTTP layer (routes, lifespan, local answers)."""

from __future__ import annotations

import contextlib
import logging
from collections.abc import AsyncIterator, Awaitable, Callable

import httpx
from starlette.applications import Starlette
from starlette.exceptions import HTTPException
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from mock_gateway.proxy import handling
from mock_gateway.proxy.forwarding import Forwarder
from mock_gateway.proxy.settings import ProxySettings
from mock_gateway.proxy.state import ProxyState
from mock_gateway.validation.contract import Operation
from mock_gateway.web.responses import JSONBody, gateway_error, not_found_route
from seedream_contracts.document import STATUS_PATH

log = logging.getLogger("mock_gateway.proxy")
httpx_log = logging.getLogger("httpx")  # logs each request's URL, query (and key) included
Endpoint = Callable[[Request], Awaitable[Response]]


class _Scrubber(logging.Filter):
    """Keys and signed URL parameters out of httpx's request lines (``?subscription-key=``
    would otherwise reach any log at INFO)."""

    def __init__(self, scrub: Callable[[str], str]) -> None:
        super().__init__()
        self.scrub = scrub

    def filter(self, record: logging.LogRecord) -> bool:
        record.msg, record.args = self.scrub(record.getMessage()), None
        return True


def _state(request: Request) -> ProxyState:
    state: ProxyState = request.app.state.proxy
    return state


def _submit_route(operation: Operation) -> Route:
    async def submit(request: Request) -> Response:
        return await handling.submit(_state(request), operation, request)

    return Route(operation.path, submit, methods=["POST"], name=operation.operation_id)


async def _status(request: Request) -> Response:
    return await handling.status(_state(request), request)


async def _report(request: Request) -> Response:
    return JSONBody(_state(request).report_json())


async def _health(request: Request) -> Response:
    return JSONBody({"status": "ok", "proxy": True})


def create_proxy_app(
    settings: ProxySettings, *, transport: httpx.AsyncBaseTransport | None = None
) -> Starlette:
    """A complete proxy; ``transport`` (tests) replaces the network to the upstream."""
    state = ProxyState.build(settings)

    @contextlib.asynccontextmanager
    async def lifespan(app: Starlette) -> AsyncIterator[None]:
        async with httpx.AsyncClient(
            transport=transport,
            timeout=settings.timeout_seconds,
            follow_redirects=False,
            trust_env=False,  # never route the key through a proxy from the environment
        ) as client:
            state.forwarder = Forwarder(settings.upstream, client, settings.max_body_bytes)
            scrubber = _Scrubber(state.sanitizer.text)
            httpx_log.addFilter(scrubber)
            try:
                yield
            finally:
                httpx_log.removeFilter(scrubber)
                state.forwarder = None
                log.info("%s", state.close())

    async def http_error(request: Request, exc: Exception) -> Response:
        if isinstance(exc, HTTPException) and exc.status_code in (404, 405):
            response = not_found_route()  # as API Management answers an unknown route
            response.headers[handling.LOCAL_HEADER] = "not-forwarded"
            return response
        status = exc.status_code if isinstance(exc, HTTPException) else 500
        return gateway_error(status, "Error", str(getattr(exc, "detail", "")))

    async def server_error(request: Request, exc: Exception) -> Response:
        log.exception("unexpected error on %s %s", request.method, request.url.path)
        return gateway_error(500, "Internal Server Error", "The proxy failed unexpectedly.")

    routes = [_submit_route(operation) for operation in state.contract.submit_operations()]
    routes += [
        Route(STATUS_PATH, _status, methods=["GET"]),
        Route("/_proxy/report", _report, methods=["GET"]),
        Route("/_health", _health, methods=["GET"]),
    ]
    app = Starlette(
        routes=routes,
        lifespan=lifespan,
        exception_handlers={HTTPException: http_error, Exception: server_error},
    )
    app.state.proxy = state
    return app
