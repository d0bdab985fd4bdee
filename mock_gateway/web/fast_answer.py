"""How the fast path answers a hot request it recognised (``web/fast.py``): at once when
the pipeline decides synchronously, else in a task that awaits what ``web.responses.render``
awaits (a ``Pending`` step, an injected latency, a durable commit, a client that does not
read), while later pipelined requests on the connection wait their turn. One write per answer,
held until the loop's round of reads is done (``web.outbox``), then the journal entry,
exactly as the ASGI path journals it.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Coroutine
from typing import Any

from uvicorn.protocols.http.httptools_impl import HttpToolsProtocol

from mock_gateway.persistence.options import StateWriteError
from mock_gateway.pipeline import Outcome, Pending
from mock_gateway.pipeline.answers import Answer
from mock_gateway.steering.journal import JournalNote
from mock_gateway.web.aborts import SHUTTING_DOWN, STOPPED
from mock_gateway.web.fast_cycle import FastCycle, HotRoutes
from mock_gateway.web.outbox import Outbox
from mock_gateway.web.persisted import unsaved_answer
from mock_gateway.web.responses import MOCK_FAILED
from mock_gateway.web.routes.gateway import carry_out

log = logging.getLogger("mock_gateway")

STOPPING = Answer(503, SHUTTING_DOWN, (("connection", "close"),))


class FastAnswering(HttpToolsProtocol):
    """uvicorn's httptools protocol, with the answering half of the fast path."""

    hot: HotRoutes | None = None  # set on a subclass per server; None: uvicorn's path only
    outbox: Outbox  # set with ``hot``: one per server
    _held = b""  # this connection's answers waiting for the outbox's flush

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
            self._close()
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
        self._close()

    def _write(self, cycle: FastCycle, answer: Answer) -> None:
        if cycle.disconnected or self.transport.is_closing():
            return
        if self.access_log and self.access_logger.isEnabledFor(logging.INFO):
            self._log_access(cycle, answer.status)
        if answer.headers and any(name.lower() == "connection" for name, _ in answer.headers):
            cycle.keep_alive = False  # only STOPPING says so (fault rules cannot)
        assert self.hot is not None
        self._hold(self.hot.rendered(answer, cycle.keep_alive, self.server_state.default_headers))
        if answer.status in (204, 304) and answer.body:
            # uvicorn refuses a body on these (no Content-Length) and hangs up
            log.error("a %d answer cannot carry a body; closing the connection", answer.status)
            self._close()
            return
        cycle.response_complete = True
        if not cycle.keep_alive:
            self._close()
        self.on_response_complete()

    def _hold(self, data: bytes) -> None:
        if self._held:  # a pipelined answer in the same round
            self._held += data
            return
        self._held = data
        self.outbox.hold(self, self.loop)

    def send_held(self) -> None:
        """Write the answers this connection holds: the outbox's flush, and anything else
        that writes to the connection or closes it first, so that answers keep their order."""
        data = self._held
        if data:
            self._held = b""
            if not self.transport.is_closing():
                self.transport.write(data)

    def _close(self) -> None:
        self.send_held()
        self.transport.close()

    def send_400_response(self, msg: str) -> None:
        self.send_held()  # (a pipelined hot answer before the bad request's 400)
        super().send_400_response(msg)

    def shutdown(self) -> None:
        self.send_held()  # a graceful stop sends what was answered
        super().shutdown()

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
