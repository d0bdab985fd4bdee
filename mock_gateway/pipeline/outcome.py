"""What one gateway call decided: the answer, and the events the HTTP layer carries out.

The pipeline does no I/O. Whatever needs it comes back here as data: how long to hold the
answer (an injected latency), whether to hang up instead (an injected drop), the webhooks
that fell due while the world advanced, and the journal's note about the call.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import NamedTuple

from mock_gateway.core import Job
from mock_gateway.pipeline.answers import Answer
from mock_gateway.steering.journal import Flag, JournalNote


@dataclass(frozen=True, slots=True)
class WebhookDue:
    """A finished job's status body, to be POSTed to its ``X-Webhook-URL``."""

    request_id: str
    key: str
    url: str
    body: bytes  # the very bytes a status poll from the submitting host gets
    at: float  # mock time the job finished: the first attempt is due then


class Advance(NamedTuple):
    """What moving the world to ``now`` caused (a NamedTuple: built on most calls)."""

    finished: int = 0  # jobs that reached a terminal status
    webhooks: tuple[WebhookDue, ...] = ()


STILL = Advance()
HANG_UP = Answer(500, b"")  # never sent: the connection is closed instead


class Outcome(NamedTuple):
    """One gateway call, decided: the answer and everything it caused (a NamedTuple, like
    ``Answer``: immutable and cheap to build on every call)."""

    answer: Answer  # status, headers and the exact body bytes
    note: JournalNote
    advanced: Advance = STILL
    queued: Job | None = None  # the job this call queued
    delay_seconds: float = 0.0  # hold the answer this long (real time: it is latency)
    drop: bool = False  # close the connection instead of answering


@dataclass(slots=True)
class Trace:
    """The note a call collects on its way through the pipeline, turned into an Outcome
    at whichever step decides the answer."""

    key: str | None
    advanced: Advance = STILL
    body: bytes | None = None
    request_id: str | None = None
    warnings: tuple[Flag, ...] = ()  # a tuple, not a list: most calls get none or one
    faults: tuple[str, ...] = ()
    delay_seconds: float = 0.0

    def warn(self, flag: Flag | None) -> None:
        if flag is not None:
            self.warnings += (flag,)

    def finish(self, answer: Answer, *, queued: Job | None = None) -> Outcome:
        return Outcome(answer, self.note(), self.advanced, queued, self.delay_seconds)

    def hang_up(self) -> Outcome:
        return Outcome(HANG_UP, self.note(), self.advanced, None, self.delay_seconds, True)

    def note(self) -> JournalNote:
        return JournalNote(self.key, self.body, self.request_id, self.warnings, self.faults)
