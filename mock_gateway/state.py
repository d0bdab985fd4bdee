"""Everything one mock instance owns. One object per app: no module globals."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field

import httpx

from .clock import VirtualClock
from .config import Settings
from .contract import Contract
from .core import GatewayCore, Job
from .imaging import ImageCache, SampleImages
from .inputs import InputResolver

FinishedListener = Callable[[Job, float], None]


@dataclass(eq=False)
class MockState:
    settings: Settings
    clock: VirtualClock
    core: GatewayCore
    contract: Contract
    samples: SampleImages
    images: ImageCache
    inputs: InputResolver
    http: httpx.AsyncClient | None = None
    finished_listeners: list[FinishedListener] = field(default_factory=list)

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
