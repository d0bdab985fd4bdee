"""Group commits: every change made so far goes to disk in one short transaction.

``StateKeeper`` is ``MockState.durability``. An answer that must not be sent before its
change is on disk (a submit's 202, a control call's answer) awaits ``wait()``; the first
waiter schedules a flush for when the loop has run what is ready now, so every request
being handled meanwhile shares that commit (or, while one is being written, the next).
One transaction at a time, from one writer: the loop itself with ``--state-sync normal``
(no fsync: a commit is a write into the WAL), a thread with ``full`` (an fsync per commit
must not hold the loop). Without waiters, ``run`` flushes every ``FLUSH_SECONDS``: job
transitions, refunds and webhook attempts reach the disk within that time.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections import deque
from concurrent.futures import ThreadPoolExecutor

from mock_gateway.core import Job
from mock_gateway.persistence.batch import Batch
from mock_gateway.persistence.changes import ChangeTracker
from mock_gateway.persistence.options import StateWriteError
from mock_gateway.persistence.store import StateStore

log = logging.getLogger("mock_gateway.persistence")

FLUSH_SECONDS = 0.25  # changes nobody waits for (job transitions, attempts) are this late at most
CHECKPOINT_SECONDS = 1.0  # the WAL is copied into the file this often, by the writer thread


def _empty(batch: Batch) -> bool:
    return not (
        batch.jobs
        or batch.deleted
        or batch.clear_jobs
        or batch.sections
        or batch.journal
        or batch.journal_clear
    )


class StateKeeper:
    def __init__(self, store: StateStore, tracker: ChangeTracker, codec_format: int) -> None:
        self.store = store
        self.tracker = tracker
        self.codec_format = codec_format
        # synchronous=normal: a commit is a write() into the WAL, no fsync, well under a
        # millisecond: done on the loop itself, it costs less than handing it to a thread
        # (which would wait for the GIL at every row). full: each commit waits for an
        # fsync, which must not hold the loop, so a thread writes.
        self.inline = store.synchronous == "normal"
        self._checkpointing = False
        self._checkpointed_at = 0  # the number of commits at the last checkpoint
        self._writer = ThreadPoolExecutor(1, thread_name_prefix="mock-state-writer")
        self._wanted = 0  # tickets handed out
        self._busy = False  # a flush is scheduled or its transaction is being written
        self._full = False  # the next flush compares everything (a control call asked)
        self._waiters: deque[tuple[int, asyncio.Future[None]]] = deque()
        self.commits = 0
        self.failing: str | None = None  # the last commit's error, until one succeeds

    async def wait(self) -> None:
        """Return once every change made so far is committed (``StateWriteError`` if the
        commit failed: the change is then in memory only)."""
        await self._commit(full=False)

    def touch(self, job: Job) -> None:
        """``job`` changed outside its schedule (a refund): save it with the next commit."""
        self.tracker.touch(job)

    async def commit_all(self) -> None:
        """Like ``wait``, comparing all of memory with the file (after a control call)."""
        await self._commit(full=True)

    async def _commit(self, *, full: bool) -> None:
        loop = asyncio.get_running_loop()
        self._wanted += 1
        future: asyncio.Future[None] = loop.create_future()
        self._waiters.append((self._wanted, future))
        self._full = self._full or full
        if not self._busy:
            self._busy = True
            loop.call_soon(self._flush, loop)  # callers ready to run now join this commit
        await future

    def _flush(self, loop: asyncio.AbstractEventLoop) -> None:
        ticket, full = self._wanted, self._full
        self._full = False
        try:
            batch = self.tracker.collect(full=full)
        except Exception as exc:  # a bug must not leave every waiter hanging
            log.exception("collecting the state's changes failed")
            self._settle(loop, ticket, StateWriteError(f"the state could not be saved: {exc}"))
            return
        if _empty(batch):
            self._settle(loop, ticket, None)
            return
        if self.inline:
            try:
                self.store.write(batch, self.codec_format)
            except Exception as exc:  # whatever it is, every waiter must hear of it
                self._committed(loop, ticket, batch, exc)
            else:
                self._committed(loop, ticket, batch, None)
            return
        done = loop.run_in_executor(self._writer, self.store.write, batch, self.codec_format)
        done.add_done_callback(
            lambda result: self._committed(loop, ticket, batch, result.exception())
        )

    def _committed(
        self,
        loop: asyncio.AbstractEventLoop,
        ticket: int,
        batch: Batch,
        error: BaseException | None,
    ) -> None:
        failure: StateWriteError | None = None
        if error is None:
            self.commits += 1
            if self.failing is not None:
                log.warning("the state file %s is written again", self.store.path)
                self.failing = None
        else:
            self.tracker.failed(batch)
            failure = (
                error
                if isinstance(error, StateWriteError)
                else StateWriteError(f"the state could not be saved: {error!r}")
            )
            if self.failing is None:  # once per episode, not once per commit
                log.error("%s", failure)
            self.failing = str(failure)
        self._settle(loop, ticket, failure)

    def _settle(
        self, loop: asyncio.AbstractEventLoop, ticket: int, error: StateWriteError | None
    ) -> None:
        while self._waiters and self._waiters[0][0] <= ticket:
            _, future = self._waiters.popleft()
            if future.done():  # its caller went away (a client hung up)
                continue
            if error is None:
                future.set_result(None)
            else:
                future.set_exception(error)
        if self._wanted > ticket:
            loop.call_soon(self._flush, loop)  # the waiters who came meanwhile: one more
        else:
            self._busy = False

    async def run(self) -> None:
        """Flush what nobody waits for, every ``FLUSH_SECONDS``, and checkpoint every
        ``CHECKPOINT_SECONDS`` when anything was committed (the lifespan runs this)."""
        loop = asyncio.get_running_loop()
        every = max(1, round(CHECKPOINT_SECONDS / FLUSH_SECONDS))
        ticks = 0
        while True:
            await asyncio.sleep(FLUSH_SECONDS)
            with contextlib.suppress(StateWriteError):  # logged once; retried next time
                await self.wait()
            ticks += 1
            due = ticks % every == 0 and self.commits != self._checkpointed_at
            if due and not self._checkpointing:
                self._checkpointed_at = self.commits
                self._checkpointing = True
                done = loop.run_in_executor(self._writer, self.store.checkpoint)
                done.add_done_callback(self._checkpointed)

    def _checkpointed(self, result: asyncio.Future[None]) -> None:
        self._checkpointing = False

    async def close(self) -> None:
        """Commit the last moment (the clock exactly where it stands) and let go."""
        self.tracker.clean = True
        try:
            await self.commit_all()
        except StateWriteError as exc:
            log.error("the last changes could not be saved: %s", exc)
        finally:
            self._writer.shutdown(wait=True)
            self.store.close()
