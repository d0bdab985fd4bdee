"""Wallet balances, kept in integer micro-dollars so no float rounding ever shows in a 402."""

from __future__ import annotations

from decimal import Decimal

MICROS_PER_USD = 1_000_000


def usd_to_micros(amount: Decimal | str | float | int) -> int:
    value = Decimal(str(amount)) * MICROS_PER_USD
    return int(value.to_integral_value())


def micros_to_usd(micros: int) -> Decimal:
    return (Decimal(micros) / MICROS_PER_USD).normalize()


def format_usd(micros: int) -> str:
    """``$0.035``, ``$0.2``, ``$1``, ``$10``: the 402 message's style, with no trailing zeros
    (``micros_to_usd`` normalizes them away; ``f`` keeps ``10`` from showing as ``1E+1``)."""
    return f"${micros_to_usd(micros):f}"


class Wallet:
    """Balances per key. The core is single-threaded, so check-and-charge is atomic."""

    def __init__(self) -> None:
        self._balances: dict[str, int] = {}

    def set_balance(self, key: str, micros: int) -> None:
        if micros < 0:
            raise ValueError("a balance cannot be negative")
        self._balances[key] = micros

    def balance(self, key: str) -> int:
        return self._balances.get(key, 0)

    def try_charge(self, key: str, micros: int) -> bool:
        """Charge ``micros`` if the balance covers it; never lets a balance go negative."""
        current = self._balances.get(key, 0)
        if micros > current:
            return False
        self._balances[key] = current - micros
        return True

    def refund(self, key: str, micros: int) -> None:
        self._balances[key] = self._balances.get(key, 0) + micros

    def forget(self, key: str) -> None:
        self._balances.pop(key, None)
