"""``create_app``: one call builds a complete, independent mock gateway."""

from __future__ import annotations

import contextlib
import gc
import logging
from collections.abc import AsyncIterator

import anyio
import httpx
from starlette.applications import Starlette
from starlette.exceptions import HTTPException
from starlette.requests import Request
from starlette.responses import Response

from .clock import VirtualClock
from .config import Settings
from .contract import load_contract
from .core import GatewayCore
from .imaging import ImageCache, SampleImages
from .inputs import InputResolver
from .responses import gateway_error, not_found_route
from .routes.gateway import gateway_routes
from .routes.media import media_routes
from .state import MockState

log = logging.getLogger("mock_gateway")

TICK_CEILING = 0.25  # the ticker looks at least this often (real seconds) for due work


def build_state(
    settings: Settings, *, clock: VirtualClock | None = None, http: httpx.AsyncClient | None = None
) -> MockState:
    """The app's state without the HTTP layer (also handy in tests)."""
    if clock is None:
        manual = settings.core.timing.name == "manual"
        clock = VirtualClock(rate=0.0 if manual else 1.0)
    samples = SampleImages(settings.fixtures / "images")
    return MockState(
        settings=settings,
        clock=clock,
        core=GatewayCore(settings.core, clock.now()),
        contract=load_contract(),
        samples=samples,
        images=ImageCache(settings.media_cache_bytes),
        inputs=InputResolver(samples, fetch_remote=settings.fetch_remote_inputs, http=http),
        http=http,
    )


async def _tick(state: MockState) -> None:
    """Advance the world eagerly so webhooks fire on time even when nobody polls."""
    while True:
        state.pump()
        deadline = state.core.next_deadline()
        wait = TICK_CEILING
        if deadline is not None:
            until = state.clock.real_seconds_until(deadline)
            if until is not None:
                wait = min(TICK_CEILING, max(0.002, until))
        await anyio.sleep(wait)


def create_app(
    settings: Settings | None = None,
    *,
    clock: VirtualClock | None = None,
    http: httpx.AsyncClient | None = None,
) -> Starlette:
    settings = settings or Settings.load()
    state = build_state(settings, clock=clock, http=http)

    @contextlib.asynccontextmanager
    async def lifespan(app: Starlette) -> AsyncIterator[None]:
        owned_http = None
        if state.http is None:
            owned_http = httpx.AsyncClient(follow_redirects=False, trust_env=False)
            state.http = owned_http
            state.inputs.http = owned_http
        # Long-lived objects built at start-up need no cyclic GC scans (keeps p99 flat).
        gc.collect()
        gc.freeze()
        async with anyio.create_task_group() as tasks:
            tasks.start_soon(_tick, state)
            try:
                yield
            finally:
                tasks.cancel_scope.cancel()
        if owned_http is not None:
            await owned_http.aclose()

    async def http_error(request: Request, exc: Exception) -> Response:
        if isinstance(exc, HTTPException) and exc.status_code in (404, 405):
            return not_found_route()
        status = exc.status_code if isinstance(exc, HTTPException) else 500
        return gateway_error(status, "Error", str(getattr(exc, "detail", "")))

    async def server_error(request: Request, exc: Exception) -> Response:
        log.exception("unexpected error on %s %s", request.method, request.url.path)
        return gateway_error(500, "Internal Server Error", "The mock failed unexpectedly.")

    operations = list(state.contract.submit_operations())
    app = Starlette(
        routes=[*gateway_routes(operations), *media_routes()],
        lifespan=lifespan,
        exception_handlers={HTTPException: http_error, Exception: server_error},
    )
    app.state.mock = state
    return app
