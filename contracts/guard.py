"""The spend guard: every billable request reserves its price before it is sent.

It sits at the lowest layer every request passes through (``GuardedSession.send``, used by
schemathesis and by the suite's own checks alike), so retries, resends and probes are all
counted. A reservation is released when the gateway rejects the request (4xx, documented as
not billed) and kept otherwise (2xx, 5xx, or no answer: the outcome is unknown, so assume
charged). Running out raises :class:`BudgetExceeded`, a ``unittest.SkipTest``: Hypothesis
re-raises skips at once instead of replaying them into a ``Flaky`` error, and pytest reports
the check as skipped with the reason.
"""

from __future__ import annotations

import threading
import unittest
from dataclasses import dataclass, field
from decimal import Decimal


class BudgetExceeded(unittest.SkipTest):
    """Sending this request could exceed the budget; the check stops here (skipped)."""


def usd(amount: Decimal | None) -> str:
    if amount is None:
        return "unlimited"
    text = f"{amount:.4f}".rstrip("0").rstrip(".")
    return f"${text if '.' in text else text + '.00'}"


@dataclass
class Reservation:
    amount: Decimal
    check: str
    what: str
    settled: bool = False


@dataclass
class CheckSpend:
    declared: Decimal = Decimal(0)
    reserved: Decimal = Decimal(0)  # outstanding
    spent: Decimal = Decimal(0)  # kept (charged or unknown)
    released: Decimal = Decimal(0)  # rejected by the gateway: not billed
    billable_requests: int = 0


@dataclass
class SpendGuard:
    """``budget`` None means unlimited (the self-started mock): spend is still counted."""

    budget: Decimal | None
    checks: dict[str, CheckSpend] = field(default_factory=dict)
    current: str = "(outside any check)"
    _lock: threading.Lock = field(default_factory=threading.Lock)

    @property
    def spent(self) -> Decimal:
        return sum((c.spent for c in self.checks.values()), Decimal(0))

    @property
    def released(self) -> Decimal:
        return sum((c.released for c in self.checks.values()), Decimal(0))

    @property
    def outstanding(self) -> Decimal:
        return sum((c.reserved for c in self.checks.values()), Decimal(0))

    def begin_check(self, check: str, declared: Decimal) -> None:
        self.current = check
        self.checks.setdefault(check, CheckSpend()).declared = declared

    def end_check(self) -> None:
        self.current = "(outside any check)"

    def reserve(self, amount: Decimal, what: str) -> Reservation:
        with self._lock:
            spend = self.checks.setdefault(self.current, CheckSpend())
            committed = self.spent + self.outstanding
            if self.budget is not None and committed + amount > self.budget:
                raise BudgetExceeded(
                    f"budget: {what} would cost {usd(amount)}; {usd(committed)} of the "
                    f"{usd(self.budget)} budget is already committed"
                )
            if self.budget is not None and spend.spent + spend.reserved + amount > spend.declared:
                raise BudgetExceeded(
                    f"budget: {what} would cost {usd(amount)}, beyond the {usd(spend.declared)} "
                    f"this check declared ({usd(spend.spent)} spent)"
                )
            spend.reserved += amount
            spend.billable_requests += 1
            return Reservation(amount, self.current, what)

    def settle(self, reservation: Reservation, charged: bool) -> None:
        with self._lock:
            if reservation.settled:
                return
            reservation.settled = True
            spend = self.checks[reservation.check]
            spend.reserved -= reservation.amount
            if charged:
                spend.spent += reservation.amount
            else:
                spend.released += reservation.amount


def charged_by(status: int | None) -> bool:
    """Whether an answer may have been billed: only a 4xx is a documented rejection."""
    return status is None or not 400 <= status < 500
