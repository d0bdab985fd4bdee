"""The wallet: integer micro-dollars, no overdraft, refunds, and the 402's amount format."""

from __future__ import annotations

from decimal import Decimal

import pytest

from mock_gateway.core.wallet import Wallet, format_usd, micros_to_usd, usd_to_micros


@pytest.mark.parametrize(
    ("amount", "micros"),
    [
        (Decimal("0.035"), 35_000),
        ("0.2", 200_000),
        (1, 1_000_000),
        (0.1, 100_000),  # a float goes through its shortest repr, not its binary expansion
        ("0.0000005", 0),  # half a micro-dollar rounds to even
        ("0.0000015", 2),
    ],
)
def test_usd_to_micros_is_exact(amount: Decimal | str | float | int, micros: int) -> None:
    assert usd_to_micros(amount) == micros


@pytest.mark.parametrize(
    ("micros", "usd"), [(35_000, Decimal("0.035")), (10_000_000, Decimal(10)), (1, Decimal("1e-6"))]
)
def test_micros_to_usd_round_trips(micros: int, usd: Decimal) -> None:
    assert micros_to_usd(micros) == usd
    assert usd_to_micros(micros_to_usd(micros)) == micros


@pytest.mark.parametrize(
    ("micros", "text"),
    [(0, "$0"), (1, "$0.000001"), (10_000_000, "$10"), (120_000_000, "$120"), (1_500_000, "$1.5")],
)
def test_402_amounts_are_plain_decimals(micros: int, text: str) -> None:
    """No exponent (``1E+1``) and no trailing zeros, whatever the amount."""
    assert format_usd(micros) == text


def test_a_charge_of_exactly_the_balance_succeeds_and_empties_it() -> None:
    wallet = Wallet()
    wallet.set_balance("k", 35_000)
    assert wallet.try_charge("k", 35_000)
    assert wallet.balance("k") == 0
    assert not wallet.try_charge("k", 1)
    assert wallet.try_charge("k", 0)  # a free operation needs no balance
    assert wallet.balance("k") == 0


def test_a_refused_charge_takes_nothing() -> None:
    wallet = Wallet()
    wallet.set_balance("k", 34_999)
    assert not wallet.try_charge("k", 35_000)
    assert wallet.balance("k") == 34_999


def test_a_key_without_a_wallet_has_nothing_to_spend() -> None:
    wallet = Wallet()
    assert wallet.balance("nobody") == 0
    assert not wallet.try_charge("nobody", 1)
    assert wallet.balance("nobody") == 0


def test_refunds_add_up_even_for_a_key_with_no_balance_yet() -> None:
    wallet = Wallet()
    wallet.refund("new", 35_000)
    assert wallet.balance("new") == 35_000
    wallet.set_balance("k", 1_000)
    wallet.refund("k", 35_000)
    wallet.refund("k", 35_000)
    assert wallet.balance("k") == 71_000


def test_forget_drops_only_that_key() -> None:
    wallet = Wallet()
    wallet.set_balance("gone", 5)
    wallet.set_balance("kept", 7)
    wallet.forget("gone")
    wallet.forget("never-there")  # forgetting twice or an unknown key is no error
    assert wallet.balance("gone") == 0
    assert not wallet.try_charge("gone", 1)
    assert wallet.balance("kept") == 7


def test_a_negative_balance_is_refused_with_a_reason() -> None:
    wallet = Wallet()
    wallet.set_balance("k", 0)  # zero is a valid balance
    with pytest.raises(ValueError, match=r"^a balance cannot be negative$"):
        wallet.set_balance("k", -1)
    assert wallet.balance("k") == 0
