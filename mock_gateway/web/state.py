"""Everything one mock instance owns. One object per app: no module globals.

The gateway's decisions are the pipeline's (``world``); this object carries out what they
cause that needs the event loop: webhook deliveries, waking the ticker.
"""

from __future__ import annotations

import asyncio
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Protocol

import anyio

from mock_gateway.config.settings import Settings
from mock_gateway.core import GatewayCore, Job, JobStatus
from mock_gateway.imaging import ImageCache, SampleImages
from mock_gateway.pipeline import Advance, Outcome, World
from mock_gateway.steering.clock import VirtualClock
from mock_gateway.steering.faults import FaultBook
from mock_gateway.steering.hygiene import Hygiene
from mock_gateway.steering.journal import Journal
from mock_gateway.steering.webhooks import WebhookDispatcher
from mock_gateway.validation.contract import RequestSchemas
from mock_gateway.web.background import Background
from mock_gateway.web.inputs import RemoteInputs

if TYPE_CHECKING:
    import httpx  # imported when the first webhook or remote input needs it


class Durability(Protocol):
    """Persistent state (``--state FILE``): what an answer that changed state waits on."""

    async def wait(self) -> None:
        """Return once every change made so far is committed to disk."""

    async def commit_all(self) -> None:
        """Like ``wait``, comparing all of the state with the disk (after a control call)."""

    def touch(self, job: Job) -> None:
        """``job`` changed outside the queue's schedule: save it with the next commit."""


class Waker:
    """Lets a request (a clock step, a new webhook) cut the ticker's sleep short.

    asyncio's own future and timer: an anyio ``Event`` under ``move_on_after`` cost about
    13 us a sleep against 3 us, and under load the ticker sleeps hundreds of times a second.
    The mock only runs on asyncio (uvicorn's loop, uvloop or not)."""

    def __init__(self) -> None:
        self._woken: asyncio.Future[None] | None = None

    def wake(self) -> None:
        if self._woken is not None:
            _resolve(self._woken)

    async def sleep(self, seconds: float) -> None:
        loop = asyncio.get_running_loop()
        woken = self._woken = loop.create_future()
        timer = loop.call_later(seconds, _resolve, woken)
        try:
            await woken
        finally:
            timer.cancel()
            self._woken = None


def _resolve(woken: asyncio.Future[None]) -> None:
    """End a sleep (once: a wake and the timer may both come)."""
    if not woken.done():
        woken.set_result(None)


@dataclass(eq=False)
class MockState:
    settings: Settings
    clock: VirtualClock
    core: GatewayCore
    schemas: RequestSchemas
    samples: SampleImages
    images: ImageCache
    remote_inputs: RemoteInputs
    faults: FaultBook
    journal: Journal
    hygiene: Hygiene
    webhooks: WebhookDispatcher
    fault_endpoints: dict[str, str]
    http: httpx.AsyncClient | None = None
    initial_rate: float = 1.0
    waker: Waker = field(default_factory=Waker)
    tasks: Background | None = None  # the lifespan's tasks (None without a lifespan)
    durability: Durability | None = None  # None: state lives in memory only
    world: World = field(init=False)
    _compute: anyio.CapacityLimiter | None = None

    def __post_init__(self) -> None:
        self.world = World(
            core=self.core,
            faults=self.faults,
            hygiene=self.hygiene,
            schemas=self.schemas,
            samples=self.samples,
            fetch_remote_inputs=self.remote_inputs.enabled,
        )

    def compute_limiter(self) -> anyio.CapacityLimiter:
        """Worker threads for the pipeline's heavy steps, ``decode_concurrency`` (2) at a
        time (made in the loop)."""
        if self._compute is None:
            self._compute = anyio.CapacityLimiter(self.settings.decode_concurrency)
        return self._compute

    def commit_to_await(self, outcome: Outcome) -> Durability | None:
        """What ``outcome``'s answer must wait for before it is sent (None: nothing): with
        persistent state, a submit's 202 waits until its job and its charge are on disk."""
        return self.durability if outcome.queued is not None else None

    def unacknowledged(self, job: Job) -> None:
        """A submit whose 202 could not be made durable (its answer is a 503 instead): the
        client never learned the job's id, so its charge goes back now and it ends in ERROR."""
        if not job.refunded and self.core.account(job.owner) is not None:
            self.core.wallet.refund(job.owner, job.cost_micros)
            job.refunded = True
        if not job.status.terminal:
            job.outcome = JobStatus.ERROR
            job.outcome_error = "Not accepted: the mock could not save it (its answer was 503)."
        if self.durability is not None:
            self.durability.touch(job)

    def now(self) -> float:
        return self.clock.now()

    def advance(self) -> None:
        """Move the world to now (``World.advance``) and carry out what that caused."""
        self.carry_out(self.world.advance(self.clock.now()))

    def carry_out(self, advanced: Advance) -> None:
        """Hand the webhooks that fell due to the dispatcher; wake the ticker to send them;
        drop the cached renders of jobs that expired.

        Only a webhook wakes the ticker: a job that finished without one leaves it nothing to
        do (the world was advanced already), and under load nearly every submit finishes some
        job, so waking for those cost a ticker pass (an anyio event and cancel scope) each."""
        for due in advanced.webhooks:
            self.webhooks.enqueue(due.request_id, due.key, due.url, due.body, due.at)
        if advanced.webhooks:
            self.waker.wake()
        for request_id in self.core.queue.take_gone():  # expired jobs' renders leave the cache
            self.images.discard_prefix(f"{request_id}/")

    async def settle(self, seconds: float) -> bool:
        """Wait (at most ``seconds`` of real time) until every job transition and webhook
        attempt due by now has happened, so a test reads the outcome of a clock step.
        Without a lifespan nothing is delivered, so there is nothing to wait for."""
        with anyio.move_on_after(seconds):
            while self.tasks is not None:
                self.advance()
                if self.webhooks.idle(self.clock.now()):
                    return True
                self.waker.wake()
                await anyio.sleep(0.002)
        return self.webhooks.idle(self.clock.now())

    def reset(self) -> None:
        """Back to the configured start state (``POST /_mock/reset``); time never runs back,
        but the clock's rate returns to the configured one."""
        self.clock.set_rate(self.initial_rate)
        self.core.reset(self.clock.now())
        self.world.reset()
        self.images.clear()
        self.faults.reset(self.settings.core.seed, self.settings.faults)
        self.journal.clear()
        self.hygiene.clear()
        self.webhooks.reset()
        self.waker.wake()
