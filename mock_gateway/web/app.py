"""``create_app``: one call builds a complete, independent mock gateway."""

from __future__ import annotations

import contextlib
import gc
import logging
from collections.abc import AsyncIterator
from typing import TYPE_CHECKING, Any

import anyio
from starlette.applications import Starlette
from starlette.exceptions import HTTPException
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import BaseRoute

from mock_gateway.config.settings import Settings, fault_endpoints
from mock_gateway.core import GatewayCore
from mock_gateway.imaging import ImageCache, SampleImages
from mock_gateway.steering.clock import VirtualClock
from mock_gateway.steering.faults import FaultBook
from mock_gateway.steering.hygiene import Hygiene
from mock_gateway.steering.journal import Journal
from mock_gateway.steering.webhooks import Delivery, WebhookDispatcher
from mock_gateway.validation.contract import load_request_schemas
from mock_gateway.web.aborts import ClientDisconnect, client_disconnected
from mock_gateway.web.asgi import MockApp
from mock_gateway.web.background import Background
from mock_gateway.web.gc_policy import GcPolicy
from mock_gateway.web.inputs import RemoteInputs
from mock_gateway.web.responses import (
    MOCK_FAILED,
    answer_response,
    gateway_error,
    not_found_route,
)
from mock_gateway.web.routes.control import control_routes
from mock_gateway.web.routes.control_inspect import inspect_routes
from mock_gateway.web.routes.gateway import gateway_routes
from mock_gateway.web.routes.media import media_routes
from mock_gateway.web.routes.ui import ui_routes
from mock_gateway.web.state import MockState

if TYPE_CHECKING:
    import httpx

    from mock_gateway.persistence.store import StateStore

log = logging.getLogger("mock_gateway")

TICK_CEILING = 0.25  # the ticker looks at least this often (real seconds) for due work
WEBHOOK_CONCURRENCY = 32  # deliveries in flight at once; more wait their turn


def build_state(
    settings: Settings, *, clock: VirtualClock | None = None, http: httpx.AsyncClient | None = None
) -> MockState:
    """The app's state without the HTTP layer (also handy in tests)."""
    initial_rate = 0.0 if settings.core.timing.name == "manual" else 1.0
    if clock is None:
        clock = VirtualClock(rate=initial_rate)
    else:
        initial_rate = clock.rate  # a reset returns an injected clock to its own rate
    samples = SampleImages()
    return MockState(
        settings=settings,
        clock=clock,
        core=GatewayCore(settings.core, clock.now()),
        schemas=load_request_schemas(),
        samples=samples,
        images=ImageCache(settings.media_cache_bytes),
        remote_inputs=RemoteInputs(enabled=settings.fetch_remote_inputs, http=http),
        faults=FaultBook(settings.core.seed, settings.faults),
        journal=Journal(settings.journal_size, settings.journal_bytes),
        hygiene=Hygiene(
            min_poll_seconds=settings.min_poll_seconds,
            duplicate_window_seconds=settings.duplicate_window_seconds,
            capacity=settings.journal_size,
        ),
        webhooks=WebhookDispatcher(
            settings.webhooks, settings.journal_size, max_bytes=settings.journal_bytes
        ),
        fault_endpoints=fault_endpoints(),
        http=http,
        initial_rate=initial_rate,
    )


async def _deliver(
    state: MockState, delivery: Delivery, due: float, limiter: anyio.CapacityLimiter
) -> None:
    assert state.http is not None  # the ticker starts deliveries only with a client
    await state.webhooks.deliver(delivery, due, state.http, state.clock, limiter)
    state.waker.wake()  # a failed attempt has a retry to schedule


def _open_http(state: MockState) -> None:
    """The client for webhooks and remote inputs, made when first needed: importing httpx
    costs about as much as the rest of the start-up, and most runs never need it."""
    import httpx

    state.http = httpx.AsyncClient(follow_redirects=False, trust_env=False)
    state.remote_inputs.http = state.http


async def _tick(state: MockState, gc_policy: GcPolicy) -> None:
    """Advance the world eagerly so webhooks fire on time even when nobody polls."""
    limiter: anyio.CapacityLimiter | None = None  # made with the first delivery (background)
    while True:
        try:
            state.advance()
            gc_policy.after_calls(state.journal.recorded)
            if state.tasks is not None:
                for delivery, due in state.webhooks.take_due(state.clock.now()):
                    if state.http is None:
                        _open_http(state)
                    if limiter is None:
                        limiter = anyio.CapacityLimiter(WEBHOOK_CONCURRENCY)
                    state.tasks.start_soon(_deliver, state, delivery, due, limiter)
        except Exception:  # a bug here must not stop every later webhook and job
            log.exception("the mock's ticker failed; carrying on")
        deadlines = [state.core.next_deadline(), state.webhooks.next_deadline()]
        wait = gc_policy.next_look(TICK_CEILING)  # under load: soon enough for its freezes
        soonest = min((d for d in deadlines if d is not None), default=None)
        if soonest is not None:
            until = state.clock.real_seconds_until(soonest)
            if until is not None:
                wait = min(wait, max(0.002, until))
        await state.waker.sleep(wait)


def create_app(
    settings: Settings | None = None,
    *,
    clock: VirtualClock | None = None,
    http: httpx.AsyncClient | None = None,
    store: StateStore | None = None,
    owns_process: bool = False,
) -> Starlette:
    """The mock; with ``store`` (``serve --state FILE``) it starts from what the file holds
    and commits every change to it (``mock_gateway.persistence``).

    ``owns_process`` (``mock-gateway serve``) lets the mock tune the process's cyclic GC
    (``gc.freeze`` at start-up and every 250 calls, ``web/gc_policy.py``; the collector,
    off while ``cli.main`` starts up, is on from then on). A mock embedded
    in someone else's process (the pytest plugin, ``ServerThread``) leaves their GC alone:
    frozen objects that later become cyclic garbage are never reclaimed."""
    settings = settings or Settings.load()
    state = build_state(settings, clock=clock, http=http)
    keeper = None
    if store is not None:
        from mock_gateway.persistence.attach import attach

        keeper = attach(state, store)

    @contextlib.asynccontextmanager
    async def lifespan(app: Starlette) -> AsyncIterator[None]:
        owns_http = state.http is None
        if owns_http and state.settings.fetch_remote_inputs:
            _open_http(state)  # a submit may need it at once
        if owns_process:
            # Long-lived objects built at start-up need no cyclic GC scans (keeps p99 flat).
            # No gc.collect() first: it took longer than the rest of start-up after the
            # imports, and the little garbage the imports leave is not worth a full collection.
            gc.freeze()
            gc.enable()  # `mock-gateway serve` starts up without it (cli.main)
        # keeps GC pauses short under load and as finished jobs accumulate (0: off)
        gc_policy = GcPolicy() if owns_process else GcPolicy(every_calls=0)
        tasks = state.tasks = Background()
        tasks.start_soon(_tick, state, gc_policy)
        if keeper is not None:
            tasks.start_soon(keeper.run)
        try:
            yield
        finally:
            state.tasks = None
            await tasks.aclose()
        if keeper is not None:
            await keeper.close()  # the last moment, then the file is let go
        if owns_http and state.http is not None:
            await state.http.aclose()
            state.http = state.remote_inputs.http = None

    async def http_error(request: Request, exc: Exception) -> Response:
        if isinstance(exc, HTTPException) and exc.status_code in (404, 405):
            return not_found_route()
        status = exc.status_code if isinstance(exc, HTTPException) else 500
        return gateway_error(status, "Error", str(getattr(exc, "detail", "")))

    async def server_error(request: Request, exc: Exception) -> Response:
        log.exception("unexpected error on %s %s", request.method, request.url.path)
        return answer_response(MOCK_FAILED)

    operations = list(state.schemas.submit_operations())
    control: list[BaseRoute] = (
        [*control_routes(), *inspect_routes(), *ui_routes()] if settings.control_enabled else []
    )
    handlers: dict[Any, Any] = {
        HTTPException: http_error,
        ClientDisconnect: client_disconnected,
        Exception: server_error,
    }
    if keeper is not None:
        from mock_gateway.persistence.options import StateWriteError
        from mock_gateway.web.persisted import durable_control, unsaved

        control = durable_control(control)
        handlers[StateWriteError] = unsaved
    app = MockApp(
        state,
        routes=[*gateway_routes(operations), *media_routes(), *control],
        lifespan=lifespan,
        exception_handlers=handlers,
    )
    app.router.redirect_slashes = False  # APIM answers 404 for "/path/", never a redirect
    app.state.mock = state
    return app
