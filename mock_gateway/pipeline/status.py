"""``GET /v2/requests/status/{request_id}``, decided: no HTTP, no I/O, one ``now``."""

from __future__ import annotations

from typing import NamedTuple

from mock_gateway.pipeline.answers import Answer, request_not_found
from mock_gateway.pipeline.gate import admit, apply_faults
from mock_gateway.pipeline.outcome import Outcome, Trace
from mock_gateway.pipeline.world import World
from mock_gateway.steering.faults import Call


class StatusCall(NamedTuple):
    """What the HTTP layer parsed from a status poll (a NamedTuple, like ``Answer``: one
    per poll, immutable and cheap to build)."""

    key: str | None
    request_id: str
    base_url: str  # how the client reached the mock: media URLs lead back there


def status(world: World, call: StatusCall, now: float) -> Outcome:
    trace = Trace(call.key, world.advance(now))
    account = admit(world, trace, "status", now)
    if isinstance(account, Outcome):
        return account
    request_id = call.request_id
    trace.request_id = request_id
    if world.faults.armed:
        rule_call = fault_call(world, account.key, request_id)
        price = world.status_call_price(account.key, request_id)
        faulted = apply_faults(world, trace, rule_call, now, price, request_id)
        if isinstance(faulted, Outcome):
            return faulted
    job = world.job_of(account.key, request_id)
    seen = job.status.value if job is not None else None
    trace.warn(world.hygiene.poll(account.key, request_id, now, seen))
    if job is None:
        return trace.finish(request_not_found(request_id))
    return trace.finish(Answer(200, world.bodies.encode(job, call.base_url)))


def fault_call(world: World, key: str, request_id: str) -> Call:
    """How a status poll looks to the fault rules (the model from the id or the job)."""
    models = {request_id.partition("_")[0]}
    job = world.job_of(key, request_id)
    if job is not None:
        models.add(job.spec.model)
    return Call("status", None, frozenset(models), key)
