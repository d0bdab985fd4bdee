"""Fault rules: provoke on demand what the live gateway does only rarely.

Pure and synchronous (no HTTP here): ``parse_rule`` turns a JSON object from the control
API or a scenario file into a ``FaultSpec`` with a clear message for every mistake, and
``FaultBook.decide`` says what to do with one gateway call. Probabilities are drawn from the
book's own seeded RNG, so ``--seed N`` repeats which calls fail.
"""

from __future__ import annotations

import json
import random
from collections.abc import Collection, Mapping
from dataclasses import dataclass, field
from typing import Any

from mock_gateway.core import JobStatus
from mock_gateway.steering.header_rules import header_problem

MAX_RULES = 1000  # a runaway test loop must not grow the mock's memory without end
OUTCOMES = {"FAILED": JobStatus.FAILED, "ERROR": JobStatus.ERROR}
DEFAULT_ERRORS = {
    JobStatus.ERROR: "Internal error: the generation backend failed.",
    JobStatus.FAILED: "Generation failed.",
}
FIELDS = (
    "endpoint", "model", "key", "prompt_contains", "times", "probability", "status", "body",
    "headers", "retry_after", "latency_ms", "drop_connection", "outcome", "error", "note",
)  # fmt: skip


class FaultError(ValueError):
    """A rule that cannot be used; the message names the field and the problem."""


@dataclass(frozen=True, slots=True)
class FaultSpec:
    """One rule as written: filters (None matches anything), a budget and actions."""

    endpoint: str | None = None  # canonical: "submit", "status" or an operation id
    model: str | None = None
    key: str | None = None
    prompt_contains: str | None = None
    times: int | None = None  # None: every matching call
    probability: float = 1.0
    status: int | None = None
    body: Any = None
    headers: tuple[tuple[str, str], ...] = ()
    retry_after: int | None = None
    latency_ms: float = 0.0
    drop_connection: bool = False
    outcome: JobStatus | None = None
    error: str | None = None
    note: str = ""


@dataclass(frozen=True, slots=True)
class Call:
    """What a gateway call looks like to the rules."""

    kind: str  # "submit" or "status"
    operation_id: str | None = None
    models: frozenset[str] = frozenset()
    key: str | None = None
    prompt: str | None = None


@dataclass(slots=True)
class ActiveFault:
    id: str
    spec: FaultSpec
    fired: int = 0

    @property
    def exhausted(self) -> bool:
        return self.spec.times is not None and self.fired >= self.spec.times


@dataclass(slots=True)
class Decision:
    """The sum of the rules that fired: latency adds up, the first decisive rule wins."""

    latency_ms: float = 0.0
    answer: FaultSpec | None = None  # answer with spec.status / body / headers
    drop: bool = False
    outcome: tuple[JobStatus, str] | None = None
    rule_ids: list[str] = field(default_factory=list)


def _text(data: Mapping[str, Any], name: str) -> str | None:
    value = data.get(name)
    if value is None:
        return None
    if not isinstance(value, str) or not value or len(value) > 2000:
        raise FaultError(f"{name}: must be a non-empty string of at most 2000 characters")
    return value


def _number(data: Mapping[str, Any], name: str, low: float, high: float) -> float | None:
    value = data.get(name)
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, int | float) or not low <= value <= high:
        raise FaultError(f"{name}: must be a number from {low:g} to {high:g} (got {value!r})")
    return float(value)


def _integer(data: Mapping[str, Any], name: str, low: int, high: int) -> int | None:
    value = data.get(name)
    if value is None:
        return None
    if isinstance(value, float) and value.is_integer():
        value = int(value)  # JSON (and JSON Schema) count 3.0 as an integer
    if isinstance(value, bool) or not isinstance(value, int) or not low <= value <= high:
        raise FaultError(f"{name}: must be an integer from {low} to {high} (got {value!r})")
    return value


def _probability(data: Mapping[str, Any]) -> float:
    value = _number(data, "probability", 0.0, 1.0)
    return 1.0 if value is None else value


def _json_body(data: Mapping[str, Any]) -> Any:
    """The answer body as given, if JSON can carry it (a scenario file's TOML may hold a
    date or time, which no JSON answer, snapshot or rule listing could show)."""
    body = data.get("body")
    try:
        json.dumps(body, allow_nan=False)
    except (TypeError, ValueError) as exc:
        raise FaultError(f"body: must be plain JSON ({exc})") from None
    return body


def _headers(data: Mapping[str, Any]) -> tuple[tuple[str, str], ...]:
    value = data.get("headers") or {}
    if not isinstance(value, dict) or not all(
        isinstance(k, str) and k and isinstance(v, str) for k, v in value.items()
    ):
        raise FaultError("headers: must be an object of header names to string values")
    for name, text in value.items():
        problem = header_problem(name, text)
        if problem is not None:
            raise FaultError(problem)
    return tuple(value.items())


def _outcome(data: Mapping[str, Any]) -> JobStatus | None:
    value = data.get("outcome")
    if value is None:
        return None
    if not isinstance(value, str) or value.upper() not in OUTCOMES:
        raise FaultError(f"outcome: must be FAILED or ERROR (got {value!r})")
    return OUTCOMES[value.upper()]


def parse_rule(data: Any, endpoints: Mapping[str, str]) -> FaultSpec:
    """Check one rule (as JSON data) and build its spec.

    ``endpoints`` maps every accepted ``endpoint`` spelling (``submit``, ``status``, operation
    ids, paths) to its canonical name (``submit``, ``status`` or an operation id).
    """
    if not isinstance(data, dict):
        raise FaultError(f"a fault rule must be a JSON object (got {type(data).__name__})")
    unknown = sorted(set(data) - set(FIELDS))
    if unknown:
        raise FaultError(f"{unknown[0]}: unknown field (allowed: {', '.join(FIELDS)})")
    endpoint = _text(data, "endpoint")
    if endpoint is not None:
        if endpoint not in endpoints:
            raise FaultError(f"endpoint: must be one of {', '.join(sorted(endpoints))}")
        endpoint = endpoints[endpoint]
    drop = data.get("drop_connection", False)
    if not isinstance(drop, bool):
        raise FaultError("drop_connection: must be true or false")
    spec = FaultSpec(
        endpoint=endpoint,
        model=_text(data, "model"),
        key=_text(data, "key"),
        prompt_contains=_text(data, "prompt_contains"),
        times=_integer(data, "times", 1, 1_000_000_000),
        probability=_probability(data),
        status=_integer(data, "status", 200, 599),
        body=_json_body(data),
        headers=_headers(data),
        retry_after=_integer(data, "retry_after", 0, 86400),
        latency_ms=_number(data, "latency_ms", 0, 600_000) or 0.0,
        drop_connection=drop,
        outcome=_outcome(data),
        error=_text(data, "error"),
        note=_text(data, "note") or "",
    )
    _check_combination(spec, data)
    return spec


def _check_combination(spec: FaultSpec, data: Mapping[str, Any]) -> None:
    decisive = [name for name in ("status", "outcome") if data.get(name) is not None]
    decisive += ["drop_connection"] if spec.drop_connection else []
    if len(decisive) > 1:
        raise FaultError(f"{decisive[1]}: cannot be combined with {decisive[0]} in one rule")
    if not decisive and not spec.latency_ms:
        raise FaultError("a rule needs an action: status, outcome, drop_connection or latency_ms")
    if spec.status is None and (spec.body is not None or spec.headers or spec.retry_after):
        raise FaultError("body, headers and retry_after: only make sense with status")
    if spec.error is not None and spec.outcome is None:
        raise FaultError('error: only makes sense with outcome ("FAILED" or "ERROR")')
    if spec.outcome is not None and spec.endpoint == "status":
        raise FaultError("outcome: applies to submits, not to the status endpoint")


class FaultBook:
    """The active rules of one mock instance, in the order they were added."""

    def __init__(self, seed: int | None = None, specs: Collection[FaultSpec] = ()) -> None:
        self.reset(seed, specs)

    def reset(self, seed: int | None, specs: Collection[FaultSpec] = ()) -> None:
        self.rng = random.Random(seed)
        self._rules: list[ActiveFault] = []
        self._next_id = 1
        for spec in specs:
            self.add(spec)

    def __len__(self) -> int:
        return len(self._rules)

    @property
    def armed(self) -> bool:
        """False when no rule can fire: the gateway routes then skip matching entirely."""
        rules = self._rules
        return bool(rules) and any(not rule.exhausted for rule in rules)  # asked on every call

    def add(self, spec: FaultSpec) -> ActiveFault:
        if len(self._rules) >= MAX_RULES:
            raise FaultError(f"at most {MAX_RULES} fault rules (DELETE /_mock/faults first)")
        rule = ActiveFault(id=f"f{self._next_id}", spec=spec)
        self._next_id += 1
        self._rules.append(rule)
        return rule

    def remove(self, rule_id: str) -> bool:
        before = len(self._rules)
        self._rules = [rule for rule in self._rules if rule.id != rule_id]
        return len(self._rules) != before

    def clear(self, key: str | None = None) -> int:
        """Drop every rule (or only those scoped to ``key``); returns how many went."""
        keep = [] if key is None else [rule for rule in self._rules if rule.spec.key != key]
        removed = len(self._rules) - len(keep)
        self._rules = keep
        return removed

    def rules(self) -> list[ActiveFault]:
        return list(self._rules)

    @property
    def next_id(self) -> int:
        """The number the next rule's id gets (``f<n>``)."""
        return self._next_id

    def restore(self, rules: list[ActiveFault], next_id: int, rng: random.Random) -> None:
        """Hold exactly ``rules`` (with what they have fired), as a snapshot recorded them."""
        self.rng = rng
        self._rules = list(rules)
        self._next_id = next_id

    def decide(self, call: Call) -> Decision | None:
        decision = Decision()
        for rule in self._rules:
            if rule.exhausted or not _matches(rule.spec, call):
                continue
            spec = rule.spec
            # Draw only for rules that match, so a seeded run repeats the same choices.
            if spec.probability < 1.0 and self.rng.random() >= spec.probability:
                continue
            rule.fired += 1
            decision.rule_ids.append(rule.id)
            decision.latency_ms += spec.latency_ms
            if spec.status is not None:
                decision.answer = spec
            elif spec.drop_connection:
                decision.drop = True
            elif spec.outcome is not None:
                decision.outcome = (spec.outcome, spec.error or DEFAULT_ERRORS[spec.outcome])
            else:
                continue
            break
        return decision if decision.rule_ids else None


def _matches(spec: FaultSpec, call: Call) -> bool:
    if spec.outcome is not None and call.kind != "submit":
        return False
    if spec.endpoint is not None and spec.endpoint not in (call.kind, call.operation_id):
        return False
    if spec.key is not None and spec.key != call.key:
        return False
    if spec.model is not None and spec.model not in call.models:
        return False
    return spec.prompt_contains is None or (
        call.prompt is not None and spec.prompt_contains.lower() in call.prompt.lower()
    )


def describe(rule: ActiveFault) -> dict[str, Any]:
    """A rule as ``GET /_mock/faults`` shows it: its fields, how often it fired, what is left."""
    spec = rule.spec
    shown: dict[str, Any] = {"id": rule.id}
    for name in FIELDS:
        if name == "probability":
            continue
        value = getattr(spec, name)
        if name == "headers":
            value = dict(value) or None
        elif name == "outcome" and value is not None:
            value = value.value
        if value not in (None, False, "", 0.0) or (name == "status" and value is not None):
            shown[name] = value
    if spec.probability != 1.0:
        shown["probability"] = spec.probability
    remaining = None if spec.times is None else max(0, spec.times - rule.fired)
    shown.update({"fired": rule.fired, "remaining": remaining})
    return shown
