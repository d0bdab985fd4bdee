"""Everything one mock instance owns. One object per app: no module globals."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

import anyio
from anyio.abc import TaskGroup

from mock_gateway.config.settings import Settings
from mock_gateway.core import GatewayCore, Job
from mock_gateway.imaging import ImageCache, SampleImages
from mock_gateway.steering.clock import VirtualClock
from mock_gateway.steering.faults import FaultBook
from mock_gateway.steering.hygiene import Hygiene
from mock_gateway.steering.journal import Journal
from mock_gateway.steering.webhooks import WebhookDispatcher
from mock_gateway.validation.contract import Contract
from mock_gateway.validation.submit_parser import SubmitParser
from mock_gateway.web.inputs import InputResolver

if TYPE_CHECKING:
    import httpx  # imported when the first webhook or remote input needs it

FinishedListener = Callable[[Job, float], None]


class Waker:
    """Lets a request (a clock step, a new webhook) cut the ticker's sleep short."""

    def __init__(self) -> None:
        self._event: anyio.Event | None = None

    def wake(self) -> None:
        if self._event is not None:
            self._event.set()

    async def sleep(self, seconds: float) -> None:
        self._event = anyio.Event()
        with anyio.move_on_after(seconds):
            await self._event.wait()
        self._event = None


@dataclass(eq=False)
class MockState:
    settings: Settings
    clock: VirtualClock
    core: GatewayCore
    contract: Contract
    samples: SampleImages
    images: ImageCache
    inputs: InputResolver
    faults: FaultBook
    journal: Journal
    hygiene: Hygiene
    webhooks: WebhookDispatcher
    fault_endpoints: dict[str, str]
    http: httpx.AsyncClient | None = None
    initial_rate: float = 1.0
    finished_listeners: list[FinishedListener] = field(default_factory=list)
    waker: Waker = field(default_factory=Waker)
    tasks: TaskGroup | None = None  # the lifespan's task group (None without a lifespan)
    submit_parser: SubmitParser = field(init=False)

    def __post_init__(self) -> None:
        self.finished_listeners.append(self.webhooks.on_finished)
        self.submit_parser = SubmitParser(
            self.contract, concurrency=self.settings.decode_concurrency
        )

    def now(self) -> float:
        return self.clock.now()

    def pump(self, now: float | None = None) -> None:
        """Advance the core to ``now`` and hand every newly finished job to the listeners
        (webhook delivery, the journal)."""
        moment = self.clock.now() if now is None else now
        self.core.advance(moment)
        finished = self.core.take_finished()
        for job in finished:
            for listener in self.finished_listeners:
                listener(job, moment)
        if finished:
            self.waker.wake()
        self.core.idle_accounts.expire(self.core, moment)  # --any-key accounts left idle
        for request_id in self.core.queue.take_gone():  # expired jobs' renders leave the cache
            self.images.discard_prefix(f"{request_id}/")

    async def settle(self, seconds: float) -> bool:
        """Wait (at most ``seconds`` of real time) until every job transition and webhook
        attempt due by now has happened, so a test reads the outcome of a clock step.
        Without a lifespan nothing is delivered, so there is nothing to wait for."""
        with anyio.move_on_after(seconds):
            while self.tasks is not None:
                self.pump()
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
        self.images.clear()
        self.faults.reset(self.settings.core.seed, self.settings.faults)
        self.journal.clear()
        self.hygiene.clear()
        self.webhooks.reset()
        self.waker.wake()
