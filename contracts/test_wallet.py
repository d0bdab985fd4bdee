"""BALANCE-402 with the zero-balance key (``--broke-key``): the documented 402 body, with
the price of the request in its message.

Submits with the broke key are declared free: a key with no balance cannot be charged (a
202 here is itself a violation). Pass only a key whose wallet really is empty.
"""

from __future__ import annotations

import re
from decimal import Decimal, InvalidOperation
from typing import Any

import pytest

from seedream_contracts.jobs import json_or_none
from seedream_contracts.plan import clauses, needs
from seedream_contracts.run import Run
from seedream_contracts.spec import load_contract

SCHEMA = "#/components/schemas/InsufficientBalanceError"
_REQUIRED = re.compile(r"Required: \$(\S+)$")


def _cases() -> list[Any]:
    params = []
    for op in load_contract().submits.values():
        params.append(
            pytest.param(op.operation_id, dict(op.example), "submit.broke-key", id=op.operation_id)
        )
        if op.has_num_images:
            body = dict(op.example, num_images=3)
            params.append(
                pytest.param(
                    op.operation_id,
                    body,
                    "submit.broke-key-3-images",
                    id=f"{op.operation_id}-3-images",
                )
            )
    return params


@pytest.mark.parametrize(("operation_id", "body", "scenario"), _cases())
@needs("broke_key")
@clauses("BALANCE-402", "CONTENT-TYPE")
def test_insufficient_balance_gets_documented_402(
    run: Run, operation_id: str, body: dict[str, Any], scenario: str
) -> None:
    op = load_contract().submits[operation_id]
    with run.session.labelled(scenario):
        response = run.session.post(
            run.target.url(op.path), json=body, headers=run.headers(run.broke_key), timeout=30
        )
    data = json_or_none(response.content)
    expected = op.cost(body.get("num_images"))
    with run.book.verify(run.evidence()) as v:
        v.expect(
            "BALANCE-402",
            response.status_code == 402,
            f"zero-balance submit answered {response.status_code}, not 402",
        )
        errors = run.contract.schema_errors(SCHEMA, data)
        v.expect("BALANCE-402", not errors, f"402 body: {'; '.join(errors[:2])}")
        message = str(data.get("message", "")) if isinstance(data, dict) else ""
        match = _REQUIRED.search(message)
        try:
            amount = Decimal(match.group(1)) if match else None
        except InvalidOperation:
            amount = None
        v.expect(
            "BALANCE-402",
            amount == expected,
            f"message {message!r} should require ${expected.normalize()} "
            f"(x-price-usd {op.price_usd} x {body.get('num_images', 1)} image(s))",
        )
        content_type = response.headers.get("content-type", "")
        v.expect(
            "CONTENT-TYPE",
            content_type.startswith("application/json"),
            f"Content-Type {content_type!r}",
        )
