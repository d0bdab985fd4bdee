"""One pure, synchronous function per gateway operation (h11's lesson: no I/O in here).

``submit(world, SubmitCall, now)`` serves the five submit endpoints and ``status(world,
StatusCall, now)`` the status endpoint. Each takes what the HTTP layer parsed and returns
one ``Outcome``: status, headers, body bytes, and what the call caused (the job it queued,
the webhooks that fell due, the journal's note, a latency to hold the answer for, a
connection to drop); or a ``Pending`` step for the HTTP layer to run off the event loop
(fetch remote inputs, parse a big body) before it resumes the decision. API Management's
checks, rate limits, fault rules, the wallet, the queue and client hygiene are sequenced
here, once; ``tests/test_pipeline.py`` drives it without HTTP and
``tests/test_core_purity.py`` keeps it free of I/O frameworks.
"""

from __future__ import annotations

from mock_gateway.pipeline.outcome import Advance, Outcome, WebhookDue
from mock_gateway.pipeline.status import StatusCall, status
from mock_gateway.pipeline.submit import Compute, FetchInputs, Pending, SubmitCall, submit
from mock_gateway.pipeline.world import World

__all__ = [
    "Advance",
    "Compute",
    "FetchInputs",
    "Outcome",
    "Pending",
    "StatusCall",
    "SubmitCall",
    "WebhookDue",
    "World",
    "status",
    "submit",
]
