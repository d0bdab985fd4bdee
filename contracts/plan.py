"""The plan: every check declares what it may cost and what it needs before anything runs.

Checks are ordered free first, then billable (in file order: the documented examples, the
state machine, money, schemathesis), then the few that summarize the run;
the total is computed, and whatever does not fit the budget is skipped up front with the
reason. At run time the spend guard holds each check to its declaration.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

import pytest

from seedream_contracts.guard import usd
from seedream_contracts.options import Options

# What a check can need from the target or the options.
NEEDS = {
    "api_key": "no --api-key given",
    "broke_key": "no --broke-key given (a zero-balance key)",
    "other_key": "no second key (--other-key or --broke-key) for isolation checks",
    "control": "the target offers no control API (/_mock/; mock issue 7)",
    "loopback": "the target cannot reach the suite's loopback webhook receiver",
}


CostRule = Decimal | Callable[[Options], Decimal]
GRANTED = pytest.StashKey[tuple[str, ...]]()
PLANNED = pytest.StashKey[Decimal]()


def cost(amount: CostRule) -> pytest.MarkDecorator:
    """Declare the most this check may spend (USD, from the contract's price table); a
    callable gets the run's options (for costs that scale with ``--examples``)."""
    return pytest.mark.contract_cost(rule=amount)  # a keyword: a lone callable arg is special


def cost_parts(parts: dict[str, Decimal]) -> pytest.MarkDecorator:
    """A check made of separately priced parts: when the whole does not fit the budget, it
    gets the cheapest parts that do (read them with :func:`granted_parts`)."""
    return pytest.mark.contract_cost(rule=sum(parts.values(), Decimal(0)), parts=parts)


def granted_parts(item: pytest.Item) -> tuple[str, ...]:
    return item.stash.get(GRANTED, ())


def planned_cost(item: pytest.Item) -> Decimal:
    """What the plan allows this check to spend (its declaration, or its granted parts)."""
    return item.stash.get(PLANNED, Decimal(0))


def needs(*what: str) -> pytest.MarkDecorator:
    unknown = set(what) - set(NEEDS)
    if unknown:
        raise ValueError(f"unknown requirement(s): {sorted(unknown)}")
    return pytest.mark.contract_needs(*what)


def clauses(*ids: str) -> pytest.MarkDecorator:
    from seedream_contracts.clauses import CLAUSES

    unknown = [i for i in ids if i not in CLAUSES]
    if unknown:
        raise ValueError(f"unknown clause id(s): {unknown}")
    return pytest.mark.contract_clauses(*ids)


last = pytest.mark.contract_last


@dataclass
class PlannedCheck:
    nodeid: str
    declared: Decimal
    clauses: tuple[str, ...]
    skip_reason: str | None = None
    for_budget: bool = False
    partial: list[str] = field(default_factory=list)  # parts left out for budget


@dataclass
class Plan:
    budget: Decimal | None
    checks: list[PlannedCheck] = field(default_factory=list)

    @property
    def declared_total(self) -> Decimal:
        return sum((c.declared for c in self.checks), Decimal(0))

    @property
    def planned_total(self) -> Decimal:
        return sum((c.declared for c in self.checks if c.skip_reason is None), Decimal(0))

    def skipped_for_budget(self) -> list[PlannedCheck]:
        return [c for c in self.checks if c.for_budget]

    def as_dict(self) -> dict[str, Any]:
        return {
            "budget_usd": None if self.budget is None else str(self.budget),
            "declared_total_usd": str(self.declared_total),
            "planned_total_usd": str(self.planned_total),
            "skipped_for_budget": [
                {"check": c.nodeid, "declared_usd": str(c.declared)}
                for c in self.skipped_for_budget()
            ],
            "parts_skipped_for_budget": {c.nodeid: c.partial for c in self.checks if c.partial},
        }


def declared_cost(item: pytest.Item, options: Options) -> Decimal:
    total = Decimal(0)
    for marker in item.iter_markers("contract_cost"):
        rule = marker.kwargs["rule"]
        total += Decimal(rule(options) if callable(rule) else rule)
    return total


def item_clauses(item: pytest.Item) -> tuple[str, ...]:
    return tuple(c for m in item.iter_markers("contract_clauses") for c in m.args)


def _parts(item: pytest.Item) -> dict[str, Decimal]:
    marker = item.get_closest_marker("contract_cost")
    return dict(marker.kwargs.get("parts") or {}) if marker else {}


def _grant(item: pytest.Item, check: PlannedCheck, remaining: Decimal) -> bool:
    """Grant the cheapest parts that fit; False when not even one does."""
    parts = sorted(_parts(item).items(), key=lambda kv: kv[1])
    granted: list[str] = []
    total = Decimal(0)
    for name, price in parts:
        if total + price > remaining:
            break
        granted.append(name)
        total += price
    if not granted:
        return False
    item.stash[GRANTED] = tuple(granted)
    check.declared = total
    check.partial = [name for name, _ in parts if name not in granted]
    return True


def make_plan(
    items: list[pytest.Item], options: Options, budget: Decimal | None, have: set[str]
) -> Plan:
    """Order ``items`` in place (free, billable, last) and mark what cannot run."""

    def rank(item: pytest.Item) -> int:
        if item.get_closest_marker("contract_last"):
            return 2
        return 1 if declared_cost(item, options) > 0 else 0

    items.sort(key=rank)  # stable: file order within each group
    plan = Plan(budget)
    remaining = budget
    for item in items:
        check = PlannedCheck(item.nodeid, declared_cost(item, options), item_clauses(item))
        plan.checks.append(check)
        missing = [n for m in item.iter_markers("contract_needs") for n in m.args if n not in have]
        if missing:
            check.skip_reason = NEEDS[missing[0]]
        elif (
            remaining is not None and check.declared > remaining and _grant(item, check, remaining)
        ):
            remaining -= check.declared
        elif remaining is not None and check.declared > remaining:
            check.skip_reason = (
                f"budget: declares {usd(check.declared)}, {usd(remaining)} of the "
                f"{usd(budget)} budget left"
            )
            check.for_budget = True
        elif remaining is not None:
            remaining -= check.declared
        if check.skip_reason is None and GRANTED not in item.stash:
            item.stash[GRANTED] = tuple(_parts(item))
        item.stash[PLANNED] = check.declared
        if check.skip_reason:
            item.add_marker(pytest.mark.skip(reason=check.skip_reason))
    return plan
