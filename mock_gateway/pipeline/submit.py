"""The five submit endpoints, decided: no HTTP, no I/O, one ``now``.

The order is the gateway's: API Management (key, rate limit), the body (JSON, schema,
``X-Webhook-URL``), the fault rules, then the wallet and the queue. Two steps must not run
here, and come back as a ``Pending`` whose ``resume`` continues the decision: fetching
remote input images when the user opted in (``FetchInputs``: I/O), and parsing a big body
or decoding a data URL's image (``Compute``: seconds of CPU for a 36-megapixel PNG, which
must not hold the event loop while other clients poll).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from functools import partial

from mock_gateway.core import InsufficientBalance, JobStatus
from mock_gateway.core.gateway import Account, ModelDisabled
from mock_gateway.pipeline.answers import (
    accepted,
    gateway_error,
    insufficient_balance,
    model_disabled,
)
from mock_gateway.pipeline.gate import admit, apply_faults
from mock_gateway.pipeline.inputs import (
    Inputs,
    local_inputs,
    missing_refs,
    probed,
    unfetched_flag,
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
    resume: Callable[[Mapping[str, bytes | None], float], Outcome | Pending]


@dataclass(frozen=True, slots=True)
class Compute:
    """Run ``work()`` (pure, CPU-bound) in a worker thread, then ``resume(result, now)``."""

    work: Callable[[], ParsedSubmit | Rejection]
    resume: Callable[[ParsedSubmit | Rejection, float], Outcome | Pending]


Pending = FetchInputs | Compute
INLINE_BYTES = 16 * 1024  # bodies up to this size without a data URL are parsed inline
NO_INPUTS: Inputs = ()  # a text-to-image submit's


def rejected(trace: Trace, rejection: Rejection) -> Outcome:
    return trace.finish(gateway_error(rejection.status, rejection.error, rejection.message))


def parse_body(world: World, operation: Operation, raw: bytes) -> ParsedSubmit | Rejection:
    """The raw body as a validated submit (data URLs decoded), or the 400 saying why not."""
    body = parse_json(raw)
    if isinstance(body, Rejection):
        return body
    return parse_submit(world.schemas, operation, body)


def submit(world: World, call: SubmitCall, now: float) -> Outcome | Pending:
    trace = Trace(call.key, world.advance(now))
    account = admit(world, trace, "submit", now)
    if isinstance(account, Outcome):
        return account
    raw = call.body
    if isinstance(raw, Rejection):
        return rejected(trace, raw)
    trace.body = raw  # the journal shows what the client sent
    if len(raw) <= INLINE_BYTES and b"data:" not in raw:
        return _parsed(world, trace, call, account, parse_body(world, call.operation, raw), now)
    parse = partial(parse_body, world, call.operation, raw)

    def resume(parsed: ParsedSubmit | Rejection, later: float) -> Outcome | Pending:
        trace.advanced = _both(trace.advanced, world.advance(later))
        return _parsed(world, trace, call, account, parsed, later)

    return Compute(parse, resume)


def _parsed(
    world: World,
    trace: Trace,
    call: SubmitCall,
    account: Account,
    parsed: ParsedSubmit | Rejection,
    now: float,
) -> Outcome | Pending:
    """The steps after the body: webhook URL, fault rules, inputs, then wallet and queue."""
    if isinstance(parsed, Rejection):
        return rejected(trace, parsed)
    problem = check_webhook_url(call.webhook_url)
    if problem is not None:
        return rejected(trace, problem)
    forced: Forced = None
    if world.faults.armed:  # (the usual case has no rules: nothing to build for them)
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
    if not parsed.image_refs:  # a text-to-image submit: no inputs to resolve or probe
        return _queue(world, trace, call, account, parsed, NO_INPUTS, forced, now)
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
        return trace.finish(model_disabled(result.model))
    if isinstance(result, InsufficientBalance):
        return trace.finish(insufficient_balance(result.required_micros))
    request_id = result.job.request_id
    trace.request_id = request_id
    assert isinstance(call.body, bytes)  # a rejected body never gets this far
    trace.warn(world.hygiene.submitted(account.key, call.operation.path, call.body, now))
    if inputs:
        fetched = world.fetch_remote_inputs
        trace.warn(unfetched_flag(parsed.image_refs, inputs, fetch_remote=fetched))
    polling_url = f"{call.base_url}/v2/requests/status/{request_id}"
    return trace.finish(accepted(request_id, polling_url), queued=result.job)
