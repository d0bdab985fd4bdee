"""The steps every gateway operation shares: API Management's checks, then the fault rules.

Each step either lets the call through (returning what the next step needs) or decides
its answer (returning the Outcome). Rejected calls never reach the wallet.
"""

from __future__ import annotations

from mock_gateway.core.gateway import Account, AuthFailure
from mock_gateway.pipeline.answers import auth_failure, fault_answer, rate_limit_exceeded
from mock_gateway.pipeline.outcome import Outcome, Trace
from mock_gateway.pipeline.world import World
from mock_gateway.steering.faults import Call, Decision


def admit(world: World, trace: Trace, group: str, now: float) -> Account | Outcome:
    """What API Management decides before the gateway sees the call: key, then rate limit.

    A call made before the ``Retry-After`` this key was given is flagged (client hygiene).
    """
    account = world.core.authenticate(trace.key)
    if isinstance(account, AuthFailure):
        return trace.finish(auth_failure(account, now))
    if account.auto:  # made by --any-key: idle ones are forgotten (core.idle_accounts)
        world.core.idle_accounts.touch(account.key, now)
    trace.warn(world.hygiene.before_call(account.key, group, now))
    limited = world.core.check_rate(account, group, now)
    if limited is not None:
        world.hygiene.rate_limited(account.key, group, now, limited.retry_after)
        return trace.finish(rate_limit_exceeded(limited.retry_after))
    return account


def apply_faults(
    world: World, trace: Trace, call: Call, now: float, price_micros: int, request_id: str = ""
) -> Outcome | Decision | None:
    """The Outcome to give instead of the real answer, or the decision (its ``outcome``
    forces how the job ends), or None when no rule fired. Latency is noted on the trace:
    whatever the answer, the HTTP layer holds it that long."""
    if not world.faults.armed:
        return None
    decision = world.faults.decide(call)
    if decision is None:
        return None
    trace.faults = tuple(decision.rule_ids)
    trace.delay_seconds = decision.latency_ms / 1000
    if decision.drop:
        return trace.hang_up()
    rule = decision.answer
    if rule is not None:
        answer = fault_answer(rule, call, now, price_micros, request_id)
        if rule.status == 429 and call.key is not None:
            world.hygiene.rate_limited(call.key, call.kind, now, rule.retry_after or 1)
        return trace.finish(answer)
    return decision
