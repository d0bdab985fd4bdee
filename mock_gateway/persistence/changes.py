"""What changed since the last commit, as one ``Batch`` of rows: incremental, not a snapshot.

``ChangeTracker.collect`` runs on the event loop, in one go, so a batch is a consistent cut
of the mock at one moment: a job written as ERROR comes with the balance its refund left,
a job written as COMPLETED with the webhook delivery its finish queued.

Jobs are rows (the codec's ``job_record``). A job is written when it is queued and when its
status (or its refund) changes; a status poll changes nothing, so it writes nothing. The
scan costs what changed, not what the queue holds: the queue is first in, first out, so the
jobs written as QUEUED are walked in submit order up to the first one still waiting, and
those written as PROCESSING wait in a heap by the moment they finish, until the queue's
simulation has passed it. The small sections (clock, accounts, faults, RNG, ...) are
rewritten when their text changed; the journal, which every call grows, gains rows for its
new entries at most once a ``LOG_SECONDS`` (a poll writes nothing of its own: its entry
rides along with the next batch), unless a control call asks for everything.
"""

from __future__ import annotations

import heapq
import time
from collections import deque
from dataclasses import dataclass
from typing import Any

from mock_gateway.core import Job, JobStatus
from mock_gateway.core.queue import JobQueue
from mock_gateway.persistence.batch import Batch, Codec, to_text
from mock_gateway.persistence.codec import entry_record
from mock_gateway.steering.journal import Entry

LOG_SECONDS = 1.0  # the journal and the webhook log's attempts are saved this often at most
# saved at most once a LOG_SECONDS (see _deferred); hygiene changes on almost every call and
# holds only hints (which polls came how fast)
LAZY_SECTIONS = ("journal", "webhooks", "hygiene")
JOB_SECTIONS = ("format", "jobs")


@dataclass(slots=True)
class Written:
    job: Job
    status: JobStatus
    refunded: bool
    seq: int


class ChangeTracker:
    def __init__(self, state: Any, codec: Codec, sections: tuple[str, ...]) -> None:
        self.state = state
        self.codec = codec
        self.sections = sections
        self._queue: JobQueue | None = None
        self._written: dict[str, Written] = {}  # request id -> what its row says
        self._waiting: dict[str, Job] = {}  # written as QUEUED: submit order
        # written as PROCESSING: (when it finishes, seq, job); one whose finish the queue's
        # simulation has passed is finished (or gone), the others still run
        self._running: list[tuple[float, int, Job]] = []
        self._touched: list[Job] = []  # changed outside the queue's schedule (a refund)
        self._owed: set[str] = set()  # finished with a webhook not yet seen queued
        self._finished: deque[tuple[float, str]] = deque()  # (finished at, id): for expiry
        self._seq = 0
        self._texts: dict[str, str] = {}  # section -> the text last written
        self._lazy_at = 0.0  # real time the lazy sections were last looked at
        self._journal_last: Entry | None = None  # the newest journal entry written
        self._carry: Batch | None = None
        self.clean = False  # set for the last commit of a clean stop

    def adopt(self, seqs: dict[str, int]) -> None:
        """After a load: every job in memory is what its row (``seqs``: request id -> the
        row's key) says, and every entry of the journal has its row."""
        self._queue = self.state.core.queue
        self._seq = max(seqs.values(), default=0)
        entries = self.state.journal.entries()
        self._journal_last = entries[-1] if entries else None
        for job in self._queue:
            seq = seqs.get(job.request_id)
            if seq is None:  # (not loaded from a row: it gets one with the next batch)
                self._touched.append(job)
                continue
            self._remember(job, seq)

    def collect(self, *, full: bool = False) -> Batch:
        """The changes since the last batch (with a failed one's laid under), as rows."""
        batch = Batch()
        queue: JobQueue = self.state.core.queue
        if queue is not self._queue:  # a reset (or a restore) made a new queue
            self._queue = queue
            self._written.clear()
            self._waiting.clear()
            self._running.clear()
            self._finished.clear()
            batch.clear_jobs = True
            for job in queue:
                self._write(batch, job)
        elif full:
            self._reconcile(batch, queue)
        else:
            self._new_jobs(batch, queue)
            self._progress(batch, queue)
        self._sections(batch, full)
        self._expire(batch)
        batch.meta["saved_wall"] = repr(time.time())
        batch.meta["clean"] = "1" if self.clean else "0"
        if self._carry is not None:
            batch.absorb_older(self._carry)
            self._carry = None
        return batch

    def failed(self, batch: Batch) -> None:
        """The batch did not commit: carry it into the next one."""
        self._carry = batch

    # -- jobs ----------------------------------------------------------------------------

    def _remember(self, job: Job, seq: int) -> None:
        rid = job.request_id
        self._written[rid] = Written(job, job.status, job.refunded, seq)
        if job.status is JobStatus.QUEUED:
            self._waiting[rid] = job
            return
        self._waiting.pop(rid, None)
        if job.status is JobStatus.PROCESSING:
            finish = (job.started_at or 0.0) + job.processing_seconds
            heapq.heappush(self._running, (finish, seq, job))
        else:
            self._finished.append((job.completed_at or 0.0, rid))

    def touch(self, job: Job) -> None:
        """``job`` changed outside the queue's schedule: write it with the next batch."""
        self._touched.append(job)

    def _write(self, batch: Batch, job: Job) -> None:
        known = self._written.get(job.request_id)
        record = self.codec.job_record(job)
        spec = record.pop("spec")
        if known is None or known.job is not job:
            self._seq += 1
            seq, spec_text = self._seq, to_text(spec)
        else:
            seq, spec_text = known.seq, None  # on disk already: a job's spec never changes
        finished = job.completed_at if job.status.terminal else None
        row = (seq, job.request_id, job.status.value, finished, spec_text, to_text(record))
        batch.jobs[job.request_id] = row
        batch.deleted.pop(job.request_id, None)
        self._remember(job, seq)

    def _new_jobs(self, batch: Batch, queue: JobQueue) -> None:
        fresh: list[Job] = []
        for job in queue.newest_first():  # jobs older than a written one are all written
            if job.request_id in self._written:
                break
            fresh.append(job)
        for job in reversed(fresh):
            self._write(batch, job)

    def _progress(self, batch: Batch, queue: JobQueue) -> None:
        """The written jobs whose status changed: O(changes), whatever the queue holds."""
        changed: list[Job] = []
        for job in self._waiting.values():
            if job.status is JobStatus.QUEUED:
                break  # first in, first out: every later job is still waiting too
            changed.append(job)
        running = self._running
        while running and running[0][0] <= queue.sim_time:
            _, _, job = heapq.heappop(running)
            known = self._written.get(job.request_id)
            if known is not None and known.job is job and known.status is not job.status:
                changed.append(job)
        for job in changed:
            if self._written.get(job.request_id) is not None:
                self._write(batch, job)
        for job in self._touched:
            if queue.get(job.request_id) is job:  # (not removed since)
                self._write(batch, job)
        self._touched.clear()

    def _reconcile(self, batch: Batch, queue: JobQueue) -> None:
        """Everything against memory (after a control call: keys removed with their jobs,
        refunds waived, a restore)."""
        present: set[str] = set()
        for job in queue:
            present.add(job.request_id)
            known = self._written.get(job.request_id)
            if (
                known is None
                or known.job is not job
                or known.status is not job.status
                or known.refunded != job.refunded
            ):
                self._write(batch, job)
        for rid in set(self._written) - present:
            batch.deleted[rid] = self._written.pop(rid).seq
            self._waiting.pop(rid, None)  # the running heap skips what is not written

    def _expire(self, batch: Batch) -> None:
        """Rows of jobs past their retention go, as the jobs do from memory."""
        retention = self.state.core.settings.retention_seconds
        horizon = self.state.clock.now() - retention
        while self._finished and self._finished[0][0] <= horizon:
            _, rid = self._finished.popleft()
            known = self._written.get(rid)
            if known is not None and known.status.terminal:
                batch.deleted[rid] = self._written.pop(rid).seq

    # -- sections ------------------------------------------------------------------------

    def _journal(self, batch: Batch, full: bool) -> None:
        """The entries recorded since the last batch, as rows (the section keeps only the
        count): a batch carries what the journal gained, not all it holds. The entry last
        written is recognised by identity, so a journal emptied (a reset) or replaced (a
        restore) is rewritten whole."""
        journal = self.state.journal
        entries = journal.entries()
        last, self._journal_last = self._journal_last, entries[-1] if entries else None
        fresh: list[Entry] = []  # newest first
        if not entries or last is None:
            batch.journal_clear = last is not None or bool(entries)
            fresh = entries[::-1]
        else:
            for entry in reversed(entries):
                if entry is last:
                    break
                if entry[0] <= last[0]:  # not the entry written: emptied or replaced since
                    batch.journal_clear, fresh = True, entries[::-1]
                    break
                fresh.append(entry)  # (running out: the written one was pushed out)
        for entry in reversed(fresh):
            batch.journal[entry[0]] = to_text(entry_record(entry))
        if entries:
            batch.journal_from = entries[0][0]
        text = to_text({"recorded": journal.recorded})
        if full or self._texts.get("journal") != text:
            batch.sections["journal"] = self._texts["journal"] = text

    def _finished_with_webhook(self, batch: Batch) -> list[str]:
        """The jobs this batch writes as finished that have a webhook to send."""
        return [
            rid
            for rid, row in batch.jobs.items()
            if row[3] is not None
            and (known := self._written.get(rid)) is not None
            and known.job.spec.webhook_url
        ]

    def _owe_webhooks(self, queue: dict[str, Any], hooked: list[str]) -> None:
        """A job that finished while a submit was between steps (its world advanced, the
        webhook not yet handed to the dispatcher) is saved as finished with no delivery:
        name it among the queue's ``unreported`` jobs, whose webhooks a restored mock
        sends, until its delivery is queued (else a crash then would lose the callback).
        ``hooked``: ``_finished_with_webhook`` of the batch."""
        unreported = queue.get("unreported")
        if not isinstance(unreported, list):
            return
        self._owed.update(hooked)
        if not self._owed:
            return
        listed = set(unreported)
        webhooks = self.state.webhooks
        for rid in list(self._owed):
            known = self._written.get(rid)
            if known is None or webhooks.for_request(rid) is not None:
                self._owed.discard(rid)  # queued for delivery (or the job is gone)
            elif rid in listed:
                continue  # the codec names it already (finished, not yet reported)
            elif known.status.terminal:
                unreported.append(rid)

    def _deferred(self, hooked: list[str]) -> set[str]:
        """The lazy sections this batch may leave for later. Not the webhook log when a job
        with a webhook finished in it (``hooked``: the delivery must be saved with the job,
        or it would never be sent); not the RNG of a seeded mock (its ids must never
        repeat)."""
        deferred = set(LAZY_SECTIONS)
        if hooked:
            deferred.discard("webhooks")
        if self.state.settings.core.seed is None:
            # Unseeded draws (jitter, seeds) are random anyway; encoding three generators
            # (20 kB) per commit would cost more than the rest of it.
            deferred.add("rng")
        return deferred

    def _sections(self, batch: Batch, full: bool) -> None:
        now = time.monotonic()
        hooked = self._finished_with_webhook(batch)
        deferred: set[str] = set()
        if full or now - self._lazy_at >= LOG_SECONDS:
            self._lazy_at = now
        else:
            deferred = self._deferred(hooked)
        for name in self.sections:
            if name in deferred:
                continue
            if name == "journal":
                self._journal(batch, full)
                continue
            data = self.codec.section(self.state, name)
            if name == "queue" and isinstance(data, dict):
                self._owe_webhooks(data, hooked)
            text = to_text(data)
            if full or self._texts.get(name) != text:
                batch.sections[name] = text
                self._texts[name] = text
