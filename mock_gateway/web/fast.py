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

An answer that cannot be given at once (a ``Pending`` step, an injected latency, a commit
to wait for, a client that does not read) is finished in a task; meanwhile the connection
behaves like uvicorn's request cycle: later pipelined requests wait their turn, reading
paused. ``tests/test_fast_path.py`` sends the same corpus to a server with and without
this path and compares answers and journals.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Coroutine
from typing import Any, cast

import httptools
from uvicorn.protocols.http.httptools_impl import HttpToolsProtocol

from mock_gateway.persistence.options import StateWriteError
from mock_gateway.pipeline import Outcome, Pending
from mock_gateway.pipeline.answers import Answer
from mock_gateway.steering.journal import JournalNote
from mock_gateway.validation.contract import Operation
from mock_gateway.validation.request import check_content_type
from mock_gateway.web.aborts import CLIENT_DISCONNECTED, SHUTTING_DOWN, STOPPED
from mock_gateway.web.fast_cycle import FastCycle, HotRoutes
from mock_gateway.web.parse import KEY_HEADER, base_url_from, key_from
from mock_gateway.web.persisted import unsaved_answer
from mock_gateway.web.responses import MOCK_FAILED
from mock_gateway.web.routes.gateway import carry_out

log = logging.getLogger("mock_gateway")

STATUS_PREFIX = "/v2/requests/status/"
# Headers whose meaning the ASGI path handles (100-continue, upgrades, framing, proxies).
HANDED_ON = frozenset({b"expect", b"upgrade", b"transfer-encoding", b"x-forwarded-proto"})
STOPPING = Answer(503, SHUTTING_DOWN, (("connection", "close"),))
# The most a connection keeps of its last data for a replay: a poll is a few hundred bytes,
# a submit a few KB; a connection does not hold a big body only to compare the next with it.
REPLAY_BYTES = 16 * 1024


class FastProtocol(HttpToolsProtocol):
    """uvicorn's httptools protocol, answering the hot routes itself when ``hot`` is set."""

    hot: HotRoutes | None = None  # set on a subclass per server; None: uvicorn's path only

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
    _route: tuple[str, bytes, Operation | None, str] = ("", b"", None, "")
    # The last data received when it held exactly one plain hot request, and that request's
    # parse (``FastCycle``'s arguments, and its body): the same bytes again are replayed.
    _replay_data: bytes | None = None
    _replay: tuple[tuple[Any, ...], bytes] | None = None
    _parsed: tuple[Any, ...] | None = None  # the last hot head parsed, as cycle arguments
    _begun = 0  # requests begun within the data being parsed

    # httptools callbacks

    def data_received(self, data: bytes) -> None:
        replay = self._replay
        if replay is not None and data == self._replay_data:
            cycle: object = self.cycle
            if isinstance(cycle, FastCycle) and cycle.response_complete and not self.pipeline:
                self._answer_again(*replay)
                return
        self._replay_data = self._replay = self._parsed = None
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
            self._replay_data, self._replay = data, (self._parsed, bytes(cycle.body))

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
            route = self._hot_route(hot, method, raw_url)
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
        elif not self._plain_body(hot, content_type, length):
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

    @staticmethod
    def _hot_route(
        hot: HotRoutes, method: bytes, raw_url: bytes
    ) -> tuple[str, bytes, Operation | None, str] | None:
        """``(path, query, operation, target)`` of a hot route's URL, else None: a status
        poll's request id is ``target`` (``operation`` None), a submit has its operation."""
        try:
            url = httptools.parse_url(raw_url)
            path = url.path.decode("ascii")
        except (httptools.HttpParserInvalidURLError, UnicodeDecodeError):
            return None  # uvicorn's path says what is wrong with it
        if "%" in path:
            return None
        query = url.query or b""
        if method == b"GET":
            if not path.startswith(STATUS_PREFIX):
                return None
            target = path[len(STATUS_PREFIX) :]
            if not target or "/" in target:
                return None
            return path, query, None, target
        operation = hot.submits.get(url.path)
        return None if operation is None else (path, query, operation, "")

    @staticmethod
    def _plain_body(hot: HotRoutes, content_type: bytes | None, length: bytes | None) -> bool:
        """A declared JSON body within the limit (``web.parse`` answers anything else)."""
        if length is None or not length.isdigit() or int(length) > hot.max_body:
            return False
        text = "" if content_type is None else content_type.decode("latin-1")
        return check_content_type(text) is None

    # answering

    def _take_turn(self, cycle: FastCycle) -> None:
        cycle.turn = True
        assert self.hot is not None
        cycle.started = self.hot.state.clock.now()

    def _answer(self, cycle: FastCycle) -> None:
        hot = self.hot
        assert hot is not None
        state = hot.state
        try:
            decided = hot.decide(cycle, state.clock.now())  # state.now(), one call less
            if isinstance(decided, Outcome):
                state.carry_out(decided.advanced)
                if not (
                    decided.delay_seconds
                    or state.commit_to_await(decided) is not None
                    or self.flow.write_paused
                ):
                    self._deliver(cycle, decided)
                    return
        except Exception:  # not out of the parser's callback: httptools would make it a 400
            self._failed(cycle)
            return
        self._spawn(self._answer_later(cycle, decided))

    async def _answer_later(self, cycle: FastCycle, decided: Outcome | Pending) -> None:
        """What ``web.responses.render`` awaits, in its order, then the answer."""
        assert self.hot is not None
        state = self.hot.state
        note: JournalNote | None = None
        try:
            if not isinstance(decided, Outcome):
                decided = await carry_out(state, decided)
                state.carry_out(decided.advanced)
            note = decided.note
            if decided.delay_seconds:
                await asyncio.sleep(decided.delay_seconds)  # real time: it is latency
            if not decided.drop:
                durability = state.commit_to_await(decided)
                if durability is not None:
                    try:
                        await durability.wait()  # durable before acknowledged
                    except StateWriteError as problem:  # as web.persisted.unsaved answers
                        refused = unsaved_answer(state, decided.queued, problem)
                        decided = decided._replace(answer=refused)
                if self.flow.write_paused and not cycle.disconnected:
                    await self.flow.drain()
            self._deliver(cycle, decided)
        except asyncio.CancelledError:  # the server is stopping: as asgi.MockApp answers
            self._write(cycle, STOPPING)
            self._journal(cycle, None, note, STOPPED)
        except Exception:
            self._failed(cycle)

    def _spawn(self, work: Coroutine[Any, Any, None]) -> None:
        task = self.loop.create_task(work)
        task.add_done_callback(self.tasks.discard)
        self.tasks.add(task)  # graceful shutdown waits for it, as for an ASGI task

    def _deliver(self, cycle: FastCycle, outcome: Outcome) -> None:
        if outcome.drop:  # hang up without an answer, as a crashed gateway would
            self._journal(cycle, None, outcome.note)
            self.transport.close()
            return
        self._write(cycle, outcome.answer)
        self._journal(cycle, outcome.answer.status, outcome.note)

    def _failed(self, cycle: FastCycle) -> None:
        """A bug in the mock: the 500 the app's handler gives (unless the answer went out
        already); uvicorn then hangs up."""
        log.exception("unexpected error on %s %s", cycle.method, cycle.path)
        if not cycle.response_complete:
            self._write(cycle, MOCK_FAILED)
            self._journal(cycle, MOCK_FAILED.status, None)
        self.transport.close()

    def _write(self, cycle: FastCycle, answer: Answer) -> None:
        if cycle.disconnected or self.transport.is_closing():
            return
        if self.access_log and self.access_logger.isEnabledFor(logging.INFO):
            self._log_access(cycle, answer.status)
        if answer.headers and any(name.lower() == "connection" for name, _ in answer.headers):
            cycle.keep_alive = False  # only STOPPING says so (fault rules cannot)
        assert self.hot is not None
        self.transport.write(
            self.hot.rendered(answer, cycle.keep_alive, self.server_state.default_headers)
        )
        if answer.status in (204, 304) and answer.body:
            # uvicorn refuses a body on these (no Content-Length) and hangs up
            log.error("a %d answer cannot carry a body; closing the connection", answer.status)
            self.transport.close()
            return
        cycle.response_complete = True
        if not cycle.keep_alive:
            self.transport.close()
        self.on_response_complete()

    def _journal(
        self,
        cycle: FastCycle,
        status: int | None,
        note: JournalNote | None,
        error: str | None = None,
    ) -> None:
        assert self.hot is not None
        key = cycle.key if note is None else note.key
        self.hot.state.journal.record(
            cycle.started, cycle.method, cycle.path, key, status, note, error
        )

    def _log_access(self, cycle: FastCycle, status: int) -> None:
        client = "%s:%d" % self.client if self.client else ""  # noqa: UP031 (uvicorn's format)
        query = f"?{cycle.query.decode('ascii')}" if cycle.query else ""
        self.access_logger.info(
            '%s - "%s %s HTTP/%s" %d',
            client,
            cycle.method,
            cycle.path + query,
            cycle.http_version,
            status,
        )
