"""The five submit endpoints, decided: no HTTP, no I/O, one ``now``.

The order is the gateway's: API Management (key, rate limit), the body (JSON, schema,
``X-Webhook-URL``), the fault rules, then the wallet and the queue. The one step that may
need I/O, fetching remote input images when the user opted in, comes back as a
``FetchInputs`` whose ``resume`` finishes the decision once the bytes are there.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass

from mock_gateway.core import InsufficientBalance, JobStatus
from mock_gateway.core.gateway import Account, ModelDisabled
from mock_gateway.pipeline.answers import (
    gateway_error,
    insufficient_balance,
    json_answer,
)
from mock_gateway.pipeline.gate import admit, apply_faults
from mock_gateway.pipeline.inputs import (
    Inputs,
    local_inputs,
    missing_refs,
    probed,
    with_fetched,
)
from mock_gateway.pipeline.outcome import Advance, Outcome, Trace
from mock_gateway.pipeline.world import World
from mock_gateway.steering.faults import Call
from mock_gateway.validation.contract import Operation
from mock_gateway.validation.request import (
    ParsedSubmit,
    Rejection,
    check_webhook_url,
    parse_json,
    parse_submit,
)

Forced = tuple[JobStatus, str] | None


@dataclass(frozen=True, slots=True)
class SubmitCall:
    """What the HTTP layer parsed from a submit."""

    key: str | None
    operation: Operation
    body: bytes | Rejection  # the raw body, or why the HTTP layer would not read it
    webhook_url: str | None
    base_url: str  # how the client reached the mock: returned URLs lead back there


@dataclass(frozen=True, slots=True)
class FetchInputs:
    """Fetch ``urls`` (None for any that fail), then call ``resume(fetched, now)``."""

    urls: tuple[str, ...]
    resume: Callable[[Mapping[str, bytes | None], float], Outcome]


def rejected(trace: Trace, rejection: Rejection) -> Outcome:
    return trace.finish(gateway_error(rejection.status, rejection.error, rejection.message))


def submit(world: World, call: SubmitCall, now: float) -> Outcome | FetchInputs:
    trace = Trace(call.key, world.advance(now))
    account = admit(world, trace, "submit", now)
    if isinstance(account, Outcome):
        return account
    raw = call.body
    if isinstance(raw, Rejection):
        return rejected(trace, raw)
    trace.body = raw  # the journal shows what the client sent
    body = parse_json(raw)
    if isinstance(body, Rejection):
        return rejected(trace, body)
    parsed = parse_submit(world.schemas, call.operation, body)
    if isinstance(parsed, Rejection):
        return rejected(trace, parsed)
    problem = check_webhook_url(call.webhook_url)
    if problem is not None:
        return rejected(trace, problem)
    operation = call.operation
    rule_call = Call(
        "submit",
        operation.operation_id,
        frozenset({operation.slug, parsed.model}),
        account.key,
        parsed.fields.get("prompt"),
    )
    price = world.unit_price_micros(operation.operation_id)
    faulted = apply_faults(world, trace, rule_call, now, price)
    if isinstance(faulted, Outcome):
        return faulted
    forced = faulted.outcome if faulted is not None else None
    inputs = local_inputs(world.samples, parsed, call.base_url)
    missing = missing_refs(parsed, inputs) if world.fetch_remote_inputs else ()
    if not missing:
        return _queue(world, trace, call, account, parsed, probed(parsed, inputs), forced, now)

    def resume(fetched: Mapping[str, bytes | None], later: float) -> Outcome:
        trace.advanced = _both(trace.advanced, world.advance(later))
        found = probed(parsed, with_fetched(parsed, inputs, fetched))
        return _queue(world, trace, call, account, parsed, found, forced, later)

    return FetchInputs(missing, resume)


def _both(first: Advance, second: Advance) -> Advance:
    return Advance(first.finished + second.finished, first.webhooks + second.webhooks)


def _queue(
    world: World,
    trace: Trace,
    call: SubmitCall,
    account: Account,
    parsed: ParsedSubmit,
    inputs: Inputs,
    forced: Forced,
    now: float,
) -> Outcome:
    """Charge the wallet and queue the job (or say why not)."""
    spec = parsed.job_spec(inputs, webhook_url=call.webhook_url, base_url=call.base_url)
    result = world.core.submit(account, spec, now, outcome=forced)
    if isinstance(result, ModelDisabled):
        message = f"Model '{result.model}' not found or is disabled"
        return trace.finish(gateway_error(400, "Model not found", message))
    if isinstance(result, InsufficientBalance):
        return trace.finish(insufficient_balance(result.required_micros))
    request_id = result.job.request_id
    trace.request_id = request_id
    assert isinstance(call.body, bytes)  # a rejected body never gets this far
    trace.warn(world.hygiene.submitted(account.key, call.operation.path, call.body, now))
    body = {
        "request_id": request_id,
        "status": "QUEUED",
        "polling_url": f"{call.base_url}/v2/requests/status/{request_id}",
    }
    return trace.finish(json_answer(202, body), queued=result.job)
