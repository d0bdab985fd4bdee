"""The run's spending limit: every forwarded submit reserves its price before it is sent.

Prices come from the contract (``x-price-usd`` x images, the same table the mock and the
client use), and the bookkeeping is the contract suite's spend guard: a reservation is kept
when the answer may have been billed (2xx, 5xx, no answer) and released on a 4xx.
"""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from mock_gateway.validation.contract import Operation
from seedream_contracts.guard import BudgetExceeded, Reservation, SpendGuard, charged_by, usd

_CHECK = "proxy"


@dataclass(frozen=True)
class SpendRefusal:
    price: Decimal
    message: str


class SpendCap:
    def __init__(self, limit: Decimal | None) -> None:
        self.limit = limit
        self.guard = SpendGuard(budget=limit)
        self.guard.begin_check(_CHECK, limit if limit is not None else Decimal(0))

    def reserve(self, operation: Operation, num_images: Any) -> Reservation | SpendRefusal:
        price = operation.cost(num_images)
        try:
            return self.guard.reserve(price, operation.operation_id)
        except BudgetExceeded:
            committed = self.guard.spent + self.guard.outstanding
            return SpendRefusal(
                price,
                f"The proxy's spend limit was reached: this submit would cost {usd(price)}, "
                f"{usd(committed)} of the {usd(self.limit)} limit (--max-spend) is already "
                "committed. Nothing was sent to the gateway.",
            )

    def settle(self, reservation: Reservation, status: int | None) -> None:
        """``status`` None: no answer came, so the submit may have been queued (kept)."""
        self.guard.settle(reservation, charged=charged_by(status))

    def summary(self) -> dict[str, Any]:
        guard = self.guard
        return {
            "max_spend_usd": None if self.limit is None else str(self.limit),
            "spent_usd": str(guard.spent),
            "outstanding_usd": str(guard.outstanding),
            "released_usd": str(guard.released),
            "billable_submits": guard.checks[_CHECK].billable_requests,
        }
