"""The job queue: a discrete-event simulation of ``workers`` parallel model workers.

``advance(now)`` replays every start and finish that falls at or before ``now`` in time
order, so the result is the same whether the queue is advanced every millisecond or once an
hour (a frozen clock then ``advance`` by a test gives the same history as real time).
"""

from __future__ import annotations

import heapq
import itertools
import math
from collections import deque
from collections.abc import Iterator
from operator import attrgetter

from mock_gateway.core.jobs import Job, JobStatus


class JobQueue:
    def __init__(self, workers: int, retention_seconds: float) -> None:
        if workers < 1:
            raise ValueError("at least one worker is needed")
        self.workers = workers
        self.retention_seconds = retention_seconds
        self._jobs: dict[str, Job] = {}
        self._waiting: deque[Job] = deque()
        self._running: list[tuple[float, int, Job]] = []  # heap of (finish time, seq, job)
        # finished jobs in the order they ended (each one's ``completed_at``), for expiry
        self._finished: deque[Job] = deque()
        # Ids of jobs that expired or were removed, until ``take_gone`` hands them on (so
        # their cached renders can go too); bounded in case nobody asks.
        self._gone: deque[str] = deque(maxlen=10_000)
        self._per_owner: dict[str, int] = {}  # jobs kept per key
        self._seq = itertools.count()  # breaks ties between equal finish times: start order
        self._sim_time = -math.inf  # the moment the simulation has reached
        # No start or finish falls before this moment (-inf: look). An ``advance`` before
        # it only moves the clock and expires: most calls of a busy mock find nothing due.
        self._due = -math.inf

    def __len__(self) -> int:
        return len(self._jobs)

    def __iter__(self) -> Iterator[Job]:
        return iter(self._jobs.values())

    def newest_first(self) -> Iterator[Job]:
        """Every job held, the most recently submitted first (no copy is made)."""
        return reversed(self._jobs.values())

    def get(self, request_id: str) -> Job | None:
        return self._jobs.get(request_id)

    @property
    def queued(self) -> int:
        return len(self._waiting)

    @property
    def processing(self) -> int:
        return len(self._running)

    def has_owner(self, owner: str) -> bool:
        """Whether any job of ``owner`` is kept (queued, running or retained)."""
        return owner in self._per_owner

    def add(self, job: Job) -> None:
        self._per_owner[job.owner] = self._per_owner.get(job.owner, 0) + 1
        self._jobs[job.request_id] = job
        self._waiting.append(job)
        self._due = min(self._due, job.ready_at)  # it may start before anything else happens

    def _next_start(self) -> float:
        if not self._waiting or len(self._running) >= self.workers:
            return math.inf
        return max(self._waiting[0].ready_at, self._sim_time)

    def _next_finish(self) -> float:
        return self._running[0][0] if self._running else math.inf

    def next_deadline(self) -> float | None:
        """When the queue next changes on its own (a start, a finish or an expiry)."""
        candidates = [self._next_start(), self._next_finish()]
        if self._finished:
            candidates.append(self._oldest_finish() + self.retention_seconds)
        soonest = min(candidates)
        return None if soonest == math.inf else soonest

    def _oldest_finish(self) -> float:
        completed_at = self._finished[0].completed_at
        assert completed_at is not None  # a finished job has its moment
        return completed_at

    def advance(self, now: float) -> list[Job]:
        """Apply every transition due by ``now``; return the jobs that became terminal."""
        finished: list[Job] = []
        if now >= self._due:
            self._run_until(now, finished)
        self._sim_time = max(self._sim_time, now)
        self._expire(now)
        return finished

    def _run_until(self, now: float, finished: list[Job]) -> None:
        """Every start and finish due by ``now``, in time order (``_next_start`` and
        ``_next_finish`` inlined: this loop runs for every job twice); then ``_due``."""
        waiting, running, workers, inf = self._waiting, self._running, self.workers, math.inf
        while True:
            start_at = inf
            if waiting and len(running) < workers:
                start_at = max(waiting[0].ready_at, self._sim_time)
            finish_at = running[0][0] if running else inf
            moment = min(start_at, finish_at)
            if moment > now:
                self._due = moment
                return
            self._sim_time = moment
            if finish_at <= start_at:
                job = heapq.heappop(running)[2]
                job.move_to(job.outcome, moment)
                self._finished.append(job)
                finished.append(job)
            else:
                job = waiting.popleft()
                job.move_to(JobStatus.PROCESSING, moment)
                finish = moment + job.processing_seconds
                heapq.heappush(running, (finish, next(self._seq), job))

    def _expire(self, now: float) -> None:
        horizon = now - self.retention_seconds
        ended = self._finished
        while ended and self._oldest_finish() <= horizon:
            expired = ended.popleft()
            del self._jobs[expired.request_id]  # remove_owner drops from both at once
            left = self._per_owner.pop(expired.owner, 1) - 1
            if left:
                self._per_owner[expired.owner] = left
            self._gone.append(expired.request_id)

    def take_gone(self) -> list[str]:
        """Request ids of the jobs that expired or were removed since the last call."""
        if not self._gone:
            return []  # the usual case, on every request: no allocation
        gone = list(self._gone)
        self._gone.clear()
        return gone

    def waive_refunds(self, owner: str) -> None:
        """Unfinished jobs of ``owner`` will not refund their charge when they end in ERROR
        (used when a test sets that key's balance: the balance it set is the balance)."""
        for job in self._jobs.values():
            if job.owner == owner and not job.status.terminal:
                job.refunded = True

    def remove_owner(self, owner: str) -> None:
        """Drop every job of one key (used when a test resets that key)."""
        if owner not in self._per_owner:
            return  # nothing to drop: skip the walk over every job
        self._waiting = deque(job for job in self._waiting if job.owner != owner)
        self._running = [entry for entry in self._running if entry[2].owner != owner]
        heapq.heapify(self._running)
        self._finished = deque(job for job in self._finished if job.owner != owner)
        self._due = -math.inf  # (a freed worker: look again)
        self._per_owner.pop(owner, None)
        for request_id in [rid for rid, job in self._jobs.items() if job.owner == owner]:
            del self._jobs[request_id]
            self._gone.append(request_id)

    @property
    def sim_time(self) -> float:
        """The moment the simulation has reached (-inf before the first ``advance``)."""
        return self._sim_time

    @classmethod
    def restored(
        cls, workers: int, retention_seconds: float, jobs: list[Job], sim_time: float
    ) -> JobQueue:
        """A queue holding exactly ``jobs`` (in submission order) as a snapshot recorded them
        (``mock_gateway.persistence.codec``): jobs start first in, first out, so running jobs
        are pushed in submission order and finished ones kept in the order they ended (ties
        in start order), and the simulation goes on as it would have."""
        queue = cls(workers, retention_seconds)
        for job in jobs:
            queue._per_owner[job.owner] = queue._per_owner.get(job.owner, 0) + 1
            queue._jobs[job.request_id] = job
            if job.status is JobStatus.QUEUED:
                queue._waiting.append(job)
            elif job.status is JobStatus.PROCESSING and job.started_at is not None:
                finish = job.started_at + job.processing_seconds
                heapq.heappush(queue._running, (finish, next(queue._seq), job))
        ended = [job for job in jobs if job.completed_at is not None]
        ended.sort(key=attrgetter("completed_at"))  # stable: ties keep submission order
        queue._finished.extend(ended)
        queue._sim_time = sim_time
        return queue
