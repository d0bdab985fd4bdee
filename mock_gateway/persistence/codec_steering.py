"""The steering sections of a snapshot: fault rules and webhook deliveries (the logs are in
``codec_logs``).

Each has a ``*_section`` (the state as JSON) and a ``read_*`` that checks a section and
builds new objects from it without touching the mock (``codec.restore`` installs them once
every section has been read).
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from mock_gateway.persistence.codec_fields import (
    MAX_KEY,
    Fields,
    SnapshotRefused,
)
from mock_gateway.steering.faults import MAX_RULES, ActiveFault, FaultError, FaultSpec, parse_rule
from mock_gateway.steering.webhooks import Attempt, Delivery, WebhookDispatcher

RULE_FIELDS = ("id", "fired", "rule")
DELIVERY_FIELDS = (
    "id", "request_id", "key", "url", "body", "created", "state", "reason", "next_at",
    "attempts", "logged",
)  # fmt: skip
ATTEMPT_FIELDS = ("attempt", "time", "status", "error", "duration_ms", "headers")
DELIVERY_STATES = ("pending", "delivered", "failed", "blocked")
MAX_COUNT = 2**62


# -- faults ------------------------------------------------------------------------------


def rule_document(spec: FaultSpec) -> dict[str, Any]:
    """A rule as ``parse_rule`` reads it (so a restore checks it exactly as the API does)."""
    rule: dict[str, Any] = {"probability": spec.probability}
    for name in ("endpoint", "model", "key", "prompt_contains", "times", "status", "body"):
        if getattr(spec, name) is not None:
            rule[name] = getattr(spec, name)
    if spec.headers:
        rule["headers"] = dict(spec.headers)
    if spec.retry_after is not None:
        rule["retry_after"] = spec.retry_after
    if spec.latency_ms:
        rule["latency_ms"] = spec.latency_ms
    if spec.drop_connection:
        rule["drop_connection"] = True
    if spec.outcome is not None:
        rule["outcome"] = spec.outcome.value
    if spec.error is not None:
        rule["error"] = spec.error
    if spec.note:
        rule["note"] = spec.note
    return rule


def faults_section(rules: list[ActiveFault], next_id: int) -> dict[str, Any]:
    shown = [{"id": r.id, "fired": r.fired, "rule": rule_document(r.spec)} for r in rules]
    return {"next_id": next_id, "rules": shown}


def read_faults(data: Any, endpoints: Mapping[str, str]) -> tuple[list[ActiveFault], int]:
    fields = Fields(data, "faults", ("next_id", "rules"))
    next_id = fields.integer("next_id", 1, MAX_COUNT)
    rules: list[ActiveFault] = []
    for where, item in fields.indexed("rules"):
        rule = Fields(item, where, RULE_FIELDS)
        rule_id = rule.text("id", limit=32, empty=False)
        if not rule_id.startswith("f") or not rule_id[1:].isdigit():
            raise rule.refuse("id", f"must be f<number> like f1 (got {rule_id!r})")
        if int(rule_id[1:]) >= next_id or any(kept.id == rule_id for kept in rules):
            raise rule.refuse("id", f"{rule_id} is repeated or not below next_id ({next_id})")
        try:
            spec = parse_rule(rule.raw("rule"), endpoints)
        except FaultError as exc:
            raise rule.refuse("rule", str(exc)) from None
        rules.append(ActiveFault(rule_id, spec, rule.integer("fired", 0, MAX_COUNT)))
    if len(rules) > MAX_RULES:
        raise fields.refuse("rules", f"at most {MAX_RULES} rules")
    return rules, next_id


# -- webhooks ----------------------------------------------------------------------------


def _attempt_json(attempt: Attempt) -> dict[str, Any]:
    shown = attempt.to_json()
    del shown["at"]  # derived from time
    shown["duration_ms"] = attempt.duration_ms
    return shown


def delivery_record(delivery: Delivery, *, logged: bool, due: float | None) -> dict[str, Any]:
    """One delivery; ``due`` overrides its next attempt (an attempt in flight is due again)."""
    in_flight = delivery.state == "in_flight"
    return {
        "id": delivery.id,
        "request_id": delivery.request_id,
        "key": delivery.key,
        "url": delivery.url,
        "body": delivery.body.decode("utf-8", "replace"),
        "created": delivery.created,
        "state": "pending" if in_flight else delivery.state,
        "reason": delivery.reason,
        "next_at": due if due is not None else delivery.next_at,
        "attempts": [_attempt_json(attempt) for attempt in delivery.attempts],
        "logged": logged,
    }


def webhooks_section(dispatcher: WebhookDispatcher, now: float) -> dict[str, Any]:
    """Logged deliveries (oldest first) and the schedule; an attempt in flight now is written
    as due now (delivered at least once: a receiver may see it twice, never zero times)."""
    logged, scheduled = dispatcher.kept()
    in_flight = [delivery for delivery in logged if delivery.state == "in_flight"]
    order = sorted(
        [(d.next_at or 0.0, rank, d) for rank, d in enumerate(scheduled)]
        + [(now, len(scheduled) + rank, d) for rank, d in enumerate(in_flight)],
        key=lambda entry: entry[:2],
    )
    in_log = {id(delivery) for delivery in logged}
    records = [
        delivery_record(d, logged=True, due=now if d.state == "in_flight" else None) for d in logged
    ]
    records += [
        delivery_record(d, logged=False, due=None) for d in scheduled if id(d) not in in_log
    ]
    return {"deliveries": records, "scheduled": [entry[2].id for entry in order]}


def _attempt(data: Any, where: str) -> Attempt:
    fields = Fields(data, where, ATTEMPT_FIELDS)
    headers = fields.raw("headers")
    if not isinstance(headers, dict) or not all(
        isinstance(name, str) and isinstance(value, str) for name, value in headers.items()
    ):
        raise fields.refuse("headers", "must be an object of header names to strings")
    return Attempt(
        number=fields.integer("attempt", 1, 10_000),
        time=fields.time("time"),
        status=fields.optional_integer("status", 100, 599),
        error=fields.optional_text("error", limit=4096),
        duration_ms=fields.number("duration_ms", 0.0, 1e9),
        headers=dict(headers),
    )


def _delivery(data: Any, where: str, dispatcher: WebhookDispatcher) -> tuple[Delivery, bool]:
    fields = Fields(data, where, DELIVERY_FIELDS)
    body = fields.text("body", limit=16 * 1024 * 1024)
    try:
        json.loads(body)
    except (ValueError, RecursionError):
        raise fields.refuse("body", "must be the JSON text of a status body") from None
    delivery = Delivery(
        id=fields.text("id", limit=300, empty=False),
        request_id=fields.text("request_id", limit=300, empty=False),
        key=fields.text("key", limit=MAX_KEY),
        url=fields.text("url", limit=2048, empty=False),
        body=body.encode(),
        created=fields.time("created"),
        generation=0,
        state=fields.choice("state", DELIVERY_STATES),
        reason=fields.optional_text("reason", limit=4096),
        next_at=fields.optional_time("next_at"),
        attempts=[_attempt(item, at) for at, item in fields.indexed("attempts")],
    )
    if (delivery.state == "pending") != (delivery.next_at is not None):
        raise fields.refuse("next_at", "must be set exactly when the state is pending")
    if delivery.state == "pending":
        decision = dispatcher.target_of(delivery.url)
        if isinstance(decision, str):  # this mock may not call it: kept, but not attempted
            delivery.state, delivery.reason, delivery.next_at = "blocked", decision, None
        else:
            delivery.target = decision
    return delivery, fields.flag("logged")


@dataclass(frozen=True, slots=True)
class Deliveries:
    logged: list[Delivery]
    scheduled: list[Delivery]


def read_webhooks(data: Any, dispatcher: WebhookDispatcher) -> Deliveries:
    fields = Fields(data, "webhooks", ("deliveries", "scheduled"))
    by_id: dict[str, Delivery] = {}
    logged: list[Delivery] = []
    for where, item in fields.indexed("deliveries"):
        delivery, in_log = _delivery(item, where, dispatcher)
        if delivery.id in by_id:
            raise SnapshotRefused(f"{where}.id: {delivery.id!r} appears twice")
        by_id[delivery.id] = delivery
        if in_log:
            logged.append(delivery)
    scheduled: list[Delivery] = []
    for where, item in fields.indexed("scheduled"):
        found = by_id.pop(item, None) if isinstance(item, str) else None
        if found is None:
            raise SnapshotRefused(f"{where}: must name a delivery listed once (got {item!r})")
        if found.state == "pending":  # (one this mock may not call stays blocked)
            scheduled.append(found)
    waiting = [d.id for d in by_id.values() if d.state == "pending"]
    if waiting:
        raise fields.refuse("scheduled", f"must list every pending delivery ({waiting[0]})")
    return Deliveries(logged, scheduled)
