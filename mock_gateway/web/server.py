"""How the mock is served: uvicorn on uvloop and httptools, in one process, with bounds.

One process holds one coherent state (jobs, wallets, the clock), so there are no worker
processes. The fast stack is uvicorn's own (``uvicorn[standard]``); what this module adds is
what a mock hit by a CI fleet or a fuzzer needs and uvicorn lacks:

- a connection that sends nothing is closed after ``idle_timeout`` (uvicorn times out only
  idle keep-alive connections, after a first answer), and a request head that dribbles in
  is cut off ``header_timeout`` after its first byte;
- at most ``max_connections`` are open at once (never more than the file descriptor limit
  allows): one more gets a 503 and is closed at once, instead of holding a descriptor;
- running out (the cap, or ``EMFILE`` on accept) is logged once per episode, not per accept;
- a request line whose version is not HTTP/1.0 or 1.1 gets 505, not an answer;
- the hot gateway routes are answered in the protocol itself (``web.fast``), unless
  ``fast_path`` is off.

The timeouts share one timer per connection whose deadline moves with each request (a
timer made and cancelled twice per request cost more than a status poll's pipeline).
"""

from __future__ import annotations

import asyncio
import errno
import logging
import re
import socket
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import uvicorn
from uvicorn.protocols.http.httptools_impl import HttpToolsProtocol

from mock_gateway.web.asgi import MockApp
from mock_gateway.web.fast import FastProtocol
from mock_gateway.web.fast_cycle import HotRoutes
from mock_gateway.web.outbox import Outbox

log = logging.getLogger("mock_gateway.server")

FD_RESERVE = 128  # descriptors kept for all but client connections (webhooks, images, logs)
OUT_OF_RESOURCES = {errno.EMFILE, errno.ENFILE, errno.ENOBUFS, errno.ENOMEM}
REQUEST_LINE = re.compile(rb"[A-Z]+ \S+ HTTP/(\d+)\.(\d+)\r?\n")
SUPPORTED_VERSIONS = ("1.0", "1.1")


@dataclass(frozen=True)
class ConnectionLimits:
    """The bounds on client connections, and whether the hot gateway routes take the fast
    path (``web.fast``); each default is written here only."""

    idle_timeout: float = 5.0  # seconds a connection may stay silent, before or between requests
    header_timeout: float = 10.0  # seconds from a request's first byte to the end of its head
    max_connections: int = 1000  # open at once; more get 503 and are closed
    # answer the hot gateway routes in the protocol (web/fast.py); False: all via ASGI
    fast_path: bool = True

    def __post_init__(self) -> None:
        if not (self.idle_timeout > 0 and self.header_timeout > 0 and self.max_connections > 0):
            raise ValueError("connection timeouts and the connection cap must be positive")


def canned_response(status: str, body: bytes, *extra: bytes) -> bytes:
    """A complete HTTP/1.1 answer that closes the connection (written by the protocol)."""
    head = [
        b"HTTP/1.1 " + status.encode(),
        b"content-type: application/json",
        b"content-length: " + str(len(body)).encode(),
        b"connection: close",
        *extra,
    ]
    return b"\r\n".join(head) + b"\r\n\r\n" + body


TOO_MANY = canned_response(
    "503 Service Unavailable",
    b'{"statusCode": 503, "message": "Too many open connections; try again shortly."}',
    b"retry-after: 1",
)
BAD_VERSION = canned_response(
    "505 HTTP Version Not Supported",
    b'{"statusCode": 505, "message": "Only HTTP/1.0 and HTTP/1.1 are supported."}',
)


def allowed_connections(limits: ConnectionLimits, soft_fd_limit: int | None) -> int:
    """The cap in force: the configured one, lowered so that accepting never hits EMFILE."""
    if soft_fd_limit is None:
        return limits.max_connections
    return max(1, min(limits.max_connections, soft_fd_limit - FD_RESERVE))


def raise_fd_limit(wanted: int) -> int | None:
    """Raise this process's soft descriptor limit towards ``wanted`` (as far as the hard
    limit allows); return the soft limit in force, or None where there is no such limit."""
    try:
        import resource
    except ImportError:  # not on this platform
        return None
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    target = wanted if hard == resource.RLIM_INFINITY else min(wanted, hard)
    if soft != resource.RLIM_INFINITY and soft < target:
        try:
            resource.setrlimit(resource.RLIMIT_NOFILE, (target, hard))
            soft = target
        except (ValueError, OSError):
            pass
    return None if soft == resource.RLIM_INFINITY else soft


class ExhaustionLog:
    """Says once that the server ran out of something, and once that it recovered, however
    many accepts fail in between (the old way was one traceback per failed accept).

    An episode ends when a connection is accepted after ``QUIET`` seconds without a refusal
    (accepts succeed now and then while descriptors come and go; that is not recovery), and
    a long one is reported again every ``REPEAT`` seconds, with the count.
    """

    QUIET = 1.0
    REPEAT = 60.0

    def __init__(self, clock: Callable[[], float] = time.monotonic) -> None:
        self._clock = clock  # real seconds: this is about the machine, not the mock's time
        self.running_out: str | None = None
        self.refused = 0
        self._last_refusal = self._last_report = 0.0

    def ran_out(self, what: str) -> None:
        now = self._clock()
        self.refused += 1
        self._last_refusal = now
        if self.running_out is None or now - self._last_report >= self.REPEAT:
            self.running_out, self._last_report = what, now
            log.warning(
                "%s: refusing new connections until some close (%d refused so far)",
                what,
                self.refused,
            )

    def accepted(self) -> None:
        """A connection was accepted (call only while ``running_out`` is set)."""
        if self._clock() - self._last_refusal >= self.QUIET:
            log.warning("accepting connections again (%d refused meanwhile)", self.refused)
            self.running_out, self.refused = None, 0

    def loop_exception_handler(
        self, fallback: Callable[[dict[str, Any]], None]
    ) -> Callable[[asyncio.AbstractEventLoop, dict[str, Any]], None]:
        """For ``loop.set_exception_handler``: the plain asyncio loop reports each failed
        accept (hundreds a second); uvloop's libuv drops such connections silently."""

        def handle(loop: asyncio.AbstractEventLoop, context: dict[str, Any]) -> None:
            exc = context.get("exception")
            if isinstance(exc, OSError) and exc.errno in OUT_OF_RESOURCES:
                self.ran_out(f"out of resources on accept ({exc.strerror})")
            else:
                fallback(context)

        return handle


def guarded_protocol(
    limits: ConnectionLimits,
    exhaustion: ExhaustionLog,
    max_connections: int,
    hot_routes: HotRoutes | None = None,
) -> type[HttpToolsProtocol]:
    """uvicorn's httptools protocol with the limits above (a class per server: no globals),
    answering the hot gateway routes itself when ``hot_routes`` is given."""

    class GuardedProtocol(FastProtocol):
        # One timer per connection, moved lazily: a request moves the deadline, and the
        # timer, when it fires early, sets itself for the new one (a timer made and
        # cancelled twice per answer cost more than a status poll's pipeline).
        _deadline: float | None = None  # loop time to close at if still quiet; None: never
        _timer: asyncio.TimerHandle | None = None
        _timer_at = 0.0
        _timing_head = False  # the deadline runs from a request head's first byte
        _last_data = b""
        hot = hot_routes
        outbox = Outbox()

        def connection_made(self, transport: asyncio.Transport) -> None:  # type: ignore[override]
            super().connection_made(transport)
            if len(self.connections) > max_connections:
                exhaustion.ran_out(f"connection limit reached ({max_connections} open)")
                transport.write(TOO_MANY)
                transport.close()
                return
            if exhaustion.running_out is not None:
                exhaustion.accepted()
            self._close_after(limits.idle_timeout)

        def before_parse(self, data: bytes) -> None:
            if not self._timing_head and (self.cycle is None or self.cycle.response_complete):
                self._timing_head = True
                self._close_after(limits.header_timeout)
            self._last_data = data

        def on_headers_complete(self) -> None:
            self.head_parsed()
            version = self.parser.get_http_version()
            if version not in SUPPORTED_VERSIONS:
                self.send_unsupported_version()
                return
            self.head_version = version  # the fast path reads it (httptools builds a new str)
            super().on_headers_complete()

        def head_parsed(self) -> None:
            self._timing_head = False
            self._deadline = None

        def on_response_complete(self) -> None:
            # uvicorn's, with the idle deadline in place of its keep-alive timer
            self.server_state.total_requests += 1
            if self.transport.is_closing():
                return
            self.flow.resume_reading()
            if self.pipeline:
                cycle, app = self.pipeline.pop()
                self._start_asgi_task(cycle, app)
            else:
                self._close_after(limits.idle_timeout)

        def send_400_response(self, msg: str) -> None:
            # httptools rejects a version such as HTTP/9.9 as a parse error; it is a
            # well-formed request line, so say what is wrong with it.
            match = REQUEST_LINE.match(self._last_data)
            if match and f"{int(match[1])}.{int(match[2])}" not in SUPPORTED_VERSIONS:
                self.send_unsupported_version()
                return
            super().send_400_response(msg)

        def send_unsupported_version(self) -> None:
            self.send_held()
            self.transport.write(BAD_VERSION)
            self.transport.close()

        def _close_after(self, seconds: float) -> None:
            deadline = self.loop.time() + seconds
            self._deadline = deadline
            if self._timer is None or self._timer_at > deadline:
                if self._timer is not None:
                    self._timer.cancel()
                self._timer, self._timer_at = self.loop.call_at(deadline, self._expire), deadline

        def _expire(self) -> None:
            self._timer = None
            deadline = self._deadline
            if deadline is None:
                return
            if self.loop.time() < deadline:  # moved on since the timer was set
                self._timer, self._timer_at = self.loop.call_at(deadline, self._expire), deadline
                return
            self._deadline = None
            if not self.transport.is_closing():
                self._close()

        def connection_lost(self, exc: Exception | None) -> None:
            if self._timer is not None:
                self._timer.cancel()
            self._timer = self._deadline = None
            super().connection_lost(exc)

    return GuardedProtocol


def listening_socket(host: str, port: int) -> socket.socket:
    """A TCP socket bound to ``host:port`` (0: any free port), for uvicorn's ``sockets=``.

    IPPROTO_TCP explicitly: asyncio sets TCP_NODELAY only on sockets whose ``proto`` says
    TCP, and without it every answer waits ~40 ms for a delayed ACK. Raises OSError.
    """
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    sock = socket.socket(family, socket.SOCK_STREAM, socket.IPPROTO_TCP)
    try:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        sock.bind((host, port))
    except BaseException:
        sock.close()
        raise
    return sock


def event_loop_factory() -> Callable[[], asyncio.AbstractEventLoop]:
    """uvloop where it is installed (``uvicorn[standard]`` brings it), else asyncio's."""
    try:
        import uvloop
    except ImportError:  # e.g. Windows
        return asyncio.new_event_loop
    return uvloop.new_event_loop


class GuardedServer(uvicorn.Server):
    """uvicorn's server with the limits, an exhaustion log, and its own loop handler."""

    def __init__(
        self,
        app: Any,
        limits: ConnectionLimits,
        *,
        log_level: str = "warning",
        soft_fd_limit: int | None = None,
        **options: Any,
    ) -> None:
        self.limits = limits
        self.exhaustion = ExhaustionLog()
        self.max_connections = allowed_connections(limits, soft_fd_limit)
        if self.max_connections < limits.max_connections:
            log.warning(
                "the file descriptor limit (%s) allows at most %d connections, not %d",
                soft_fd_limit,
                self.max_connections,
                limits.max_connections,
            )
        # uvicorn's ASGI cycle handles a root path and a concurrency limit; the fast path not
        plain = not options.get("root_path") and options.get("limit_concurrency") is None
        hot = (
            HotRoutes(app.mock_state)
            if limits.fast_path and plain and isinstance(app, MockApp)
            else None
        )
        protocol = guarded_protocol(limits, self.exhaustion, self.max_connections, hot)
        config = uvicorn.Config(
            app,
            http=protocol,
            log_level=log_level,
            lifespan="on",
            ws="none",  # the mock speaks no WebSocket; importing websockets slows start-up
            **options,
        )
        super().__init__(config)

    async def serve(self, sockets: list[socket.socket] | None = None) -> None:
        loop = asyncio.get_running_loop()
        loop.set_exception_handler(
            self.exhaustion.loop_exception_handler(loop.default_exception_handler)
        )
        await super().serve(sockets=sockets)

    def run(self, sockets: list[socket.socket] | None = None) -> None:
        with asyncio.Runner(loop_factory=event_loop_factory()) as runner:
            runner.run(self.serve(sockets=sockets))
