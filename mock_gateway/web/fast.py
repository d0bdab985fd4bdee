"""The hot gateway routes answered inside uvicorn's protocol: no ASGI task, one write.

A status poll through Starlette costs about four times what the pipeline itself does: an
ASGI task, the scope, routing, two ``transport.write`` calls. ``FastProtocol`` recognises
the gateway's hot routes (``GET /v2/requests/status/{id}`` and the five submit ``POST``\\s)
from httptools' callbacks, builds the ``StatusCall`` / ``SubmitCall`` from the parsed head
and body, runs the pure pipeline synchronously and writes the whole answer (head and body)
at once. It does what the ASGI path does for these routes, byte for byte apart from the
Date header: the journal entry, ``carry_out``, the key from the header or the query, the
base URL from Host. Anything unusual goes down uvicorn's ASGI path unchanged: other
routes and methods, ``Expect``, an upgrade, a chunked, undeclared, oversized or wrongly
typed body (``web.parse`` answers those), ``X-Forwarded-Proto``, a percent-escaped path.

A connection that sends the very bytes it sent last (a poller polling one job, a retried
submit) is answered from the parse of those bytes without feeding the parser again: when
the last data held exactly one hot request, parsed whole, the same bytes parse the same way
and leave the parser where it was. Only the parse is reused; the request is decided, answered
and journaled anew.

This module recognises hot requests; ``web.fast_answer`` answers them (in a task when an
answer cannot be given at once, while later pipelined requests wait their turn, reading
paused, as in uvicorn's request cycle). ``tests/test_fast_path.py`` sends the same corpus
to a server with and without this path and compares answers and journals.
"""

from __future__ import annotations

from typing import Any, cast

from mock_gateway.web.aborts import CLIENT_DISCONNECTED
from mock_gateway.web.fast_answer import FastAnswering
from mock_gateway.web.fast_cycle import FastCycle, HotRoute, HotRoutes
from mock_gateway.web.parse import KEY_HEADER, base_url_from, key_from

# Headers whose meaning the ASGI path handles (100-continue, upgrades, framing, proxies).
HANDED_ON = frozenset({b"expect", b"upgrade", b"transfer-encoding", b"x-forwarded-proto"})
# The most a connection keeps of its last data for a replay: a poll is a few hundred bytes,
# a submit a few KB; a connection does not hold a big body only to compare the next with it.
REPLAY_BYTES = 16 * 1024


class FastProtocol(FastAnswering):
    """uvicorn's httptools protocol, answering the hot routes itself when ``hot`` is set."""

    # The base URL last built on this connection, and the Host value it was built from
    # (a client sends the same Host on every request).
    # The HTTP version of the request whose head just ended, when a subclass read it already.
    head_version: str | None = None
    _base_host: bytes | None = None
    _base = ""
    # The hot route last recognised on this connection, by method and raw URL (a client
    # polling one job sends the same URL every time): (path, query, operation, target).
    _route_url = b""
    _route_method = b""
    _route: HotRoute = ("", b"", None, "")
    # The last data received when it held exactly one plain hot request, with that request's
    # parse (``FastCycle``'s arguments, and its body): the same bytes again are replayed.
    _replay: tuple[bytes, tuple[Any, ...], bytes] | None = None
    _parsed: tuple[Any, ...] | None = None  # the last hot head parsed, as cycle arguments
    _begun = 0  # requests begun within the data being parsed

    # httptools callbacks

    def data_received(self, data: bytes) -> None:
        replay = self._replay
        if replay is not None and data == replay[0]:
            cycle: object = self.cycle
            if isinstance(cycle, FastCycle) and cycle.response_complete and not self.pipeline:
                self._answer_again(replay[1], replay[2])
                return
        self._replay = self._parsed = None
        self._begun = 0
        self.before_parse(data)
        super().data_received(data)
        cycle = self.cycle
        if (
            self._begun == 1  # one request, from its first byte: parsed whole below
            and len(data) <= REPLAY_BYTES
            and self._parsed is not None
            and isinstance(cycle, FastCycle)
            and not cycle.more_body  # ... to its last byte
            and not self.transport.is_closing()
        ):
            self._replay = (data, self._parsed, bytes(cycle.body))

    def _answer_again(self, arguments: tuple[Any, ...], body: bytes) -> None:
        """What parsing the replayed bytes would do: the head's callbacks, then the body's."""
        self.head_parsed()
        cycle = FastCycle(*arguments)
        cycle.body = body
        cycle.more_body = False
        self.cycle = cast(Any, cycle)
        self._take_turn(cycle)
        self._answer(cycle)

    def before_parse(self, data: bytes) -> None:
        """``data`` is about to be parsed (a subclass that times heads starts the clock;
        a replay is never parsed, and its head is complete at once)."""

    def head_parsed(self) -> None:
        """A request head is complete (a subclass that times heads stops the clock)."""

    def on_message_begin(self) -> None:
        if self.hot is None:
            super().on_message_begin()
            return
        # uvicorn's, without the ASGI scope: a hot request never uses it, so it is built
        # (as uvicorn builds it) only for a request that goes down the ASGI path.
        self._begun += 1
        self.url = b""
        self.expect_100_continue = False
        self.headers = []

    def on_headers_complete(self) -> None:
        # (No keep-alive timer to unset, as uvicorn's does: the connection guard's
        # on_response_complete, which this class runs under, never arms it.)
        cycle = None if self.hot is None else self._hot_cycle(self.hot)
        if cycle is None:
            if self.hot is not None:
                self._begin_scope()
            super().on_headers_complete()
            return
        previous = self.cycle
        self.cycle = cast(Any, cycle)
        if previous is None or previous.response_complete:
            self._take_turn(cycle)
        else:  # pipelined behind an answer still being made: wait, as uvicorn does
            self.flow.pause_reading()
            self.pipeline.appendleft((cast(Any, cycle), self.app))

    def on_body(self, body: bytes) -> None:
        cycle: object = self.cycle
        if isinstance(cycle, FastCycle):
            cycle.body += body  # bounded: the declared length was checked against max_body
            return
        super().on_body(body)

    def on_message_complete(self) -> None:
        cycle: object = self.cycle
        if isinstance(cycle, FastCycle):
            cycle.more_body = False
            if cycle.turn:
                self._answer(cycle)
            return
        super().on_message_complete()

    def _start_asgi_task(self, cycle: Any, app: Any) -> None:
        if isinstance(cycle, FastCycle):  # its turn came (uvicorn's pipeline queue)
            self._take_turn(cycle)
            if not cycle.more_body:  # call soon, not now: no recursion through a backlog
                self.loop.call_soon(self._answer, cycle)
            return
        super()._start_asgi_task(cycle, app)

    def connection_lost(self, exc: Exception | None) -> None:
        cycle: object = self.cycle
        if isinstance(cycle, FastCycle) and cycle.turn and cycle.more_body:
            self._journal(cycle, None, None, CLIENT_DISCONNECTED)  # hung up mid-body
        super().connection_lost(exc)

    # recognising a hot request

    def _hot_cycle(self, hot: HotRoutes) -> FastCycle | None:
        """The request as a ``FastCycle`` when it is a plain hot one, else None."""
        parser = self.parser
        method = parser.get_method()
        # (Expect and Upgrade headers are in HANDED_ON; a root path or a concurrency limit
        # turns the fast path off for the whole server: web.server.GuardedServer.)
        if method not in (b"GET", b"POST"):
            return None
        raw_url = self.url
        if raw_url == self._route_url and method == self._route_method:
            path, query, operation, target = self._route  # the same URL as the last request
        else:
            route = hot.route(method, raw_url)
            if route is None:
                return None
            path, query, operation, target = self._route = route
            self._route_url, self._route_method = raw_url, method
        host = webhook = content_type = length = key = None
        for name, value in self.headers:
            if name in HANDED_ON:
                return None
            if name == KEY_HEADER:
                key = value if key is None and value else key  # the first one sent (key_from)
            elif name == b"host":
                host = value if host is None else host
            elif name == b"content-type":
                content_type = value if content_type is None else content_type
            elif name == b"content-length":
                length = value if length is None else length
            elif name == b"x-webhook-url":
                webhook = value if webhook is None else webhook
        if operation is None:
            if length not in (None, b"0"):
                return None  # a poll with a body: uvicorn's cycle discards it, unbuffered
        elif not hot.plain_body(content_type, length):
            return None
        version = self.head_version or parser.get_http_version()
        self.head_version = None
        if host != self._base_host or not self._base:
            self._base_host = host
            self._base = base_url_from(
                self.scheme or "http",
                None if host is None else host.decode("latin-1"),
                self.server,
                "",
            )
        parsed = self._parsed = (
            method.decode("ascii"),
            path,
            query,
            operation,
            target,
            key_from((), query) if key is None else key.decode("latin-1"),
            self._base,
            None if webhook is None else webhook.decode("latin-1"),
            version,
            version != "1.0" and parser.should_keep_alive(),
        )
        return FastCycle(*parsed)

    def _begin_scope(self) -> None:
        """The ASGI scope uvicorn's ``on_message_begin`` would have built."""
        self.scope = {  # type: ignore[typeddict-item]
            "type": "http",
            "asgi": {"version": self.asgi_version, "spec_version": "2.3"},
            "http_version": "1.1",
            "server": self.server,
            "client": self.client,
            "scheme": self.scheme,  # type: ignore[typeddict-item]
            "root_path": self.root_path,
            "headers": self.headers,
            "state": self.app_state.copy(),
        }
