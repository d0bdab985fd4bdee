"""Driving the gateway pipeline without HTTP: a world on a frozen clock, calls, their answers."""

from __future__ import annotations

import json
from typing import Any

from gateway_helpers import T0, T2I
from mock_gateway.config.settings import Settings, fault_endpoints
from mock_gateway.pipeline import Outcome, Pending, StatusCall, SubmitCall, World, status, submit
from mock_gateway.steering.clock import VirtualClock
from mock_gateway.steering.faults import parse_rule
from mock_gateway.validation.request import Rejection
from mock_gateway.web.app import build_state

BASE = "http://mock.test"
HOOK = "http://127.0.0.1:9/hook"


def world(**overrides: Any) -> World:
    settings = Settings.load(**{"seed": 1, "timing": "fast", **overrides})
    return build_state(settings, clock=VirtualClock(start=T0, rate=0.0)).world


def arm(w: World, **rule: Any) -> None:
    """Add one fault rule, written as the control API takes it."""
    w.faults.add(parse_rule(rule, fault_endpoints()))


def submit_call(
    body: Any = None, *, key: str | None = "test-key", path: str = T2I, hook: str | None = None
) -> SubmitCall:
    w = world()
    operation = next(op for op in w.schemas.submit_operations() if op.path == path)
    raw = body if isinstance(body, bytes | Rejection) else json.dumps(body or {"prompt": "a fox"})
    return SubmitCall(key, operation, raw if not isinstance(raw, str) else raw.encode(), hook, BASE)


def decided(result: Outcome | Pending) -> Outcome:
    assert isinstance(result, Outcome), result
    return result


def body_of(outcome: Outcome) -> Any:
    return json.loads(outcome.answer.body)


def submitted(w: World, body: Any = None, *, at: float = T0, **options: Any) -> Outcome:
    """A submit decided at once (small plain body)."""
    return decided(submit(w, submit_call(body, **options), at))


def polled(w: World, request_id: str, *, at: float = T0, key: str = "test-key") -> Outcome:
    return status(w, StatusCall(key, request_id, BASE), at)


def kinds(outcome: Outcome) -> list[str]:
    """The hygiene and input flags the journal notes for the call."""
    return [flag[0] for flag in outcome.note.warnings]
