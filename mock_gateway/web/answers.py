"""The gateway's own error answers, built in one place for the real path and for faults.

A fault injected into the mock must read exactly like the answer the gateway gives when the
same thing happens for real (``tests/test_injected_answers.py`` compares them), so both the
routes and ``routes/injected.py`` call these functions instead of spelling bodies out.
"""

from __future__ import annotations

from collections.abc import Iterable

from mock_gateway.core import GatewayCore
from mock_gateway.core.wallet import format_usd, usd_to_micros
from mock_gateway.validation.contract import Operation
from mock_gateway.web.responses import JSONBody, gateway_error

MAX_SHOWN_ID = 200  # a request id echoed in a 404 is cut here, so a huge path stays small


def insufficient_balance(required_micros: int) -> JSONBody:
    message = f"Your wallet does not have enough balance. Required: {format_usd(required_micros)}"
    return gateway_error(402, "Insufficient Balance", message)


def request_not_found(request_id: str) -> JSONBody:
    return gateway_error(
        404, "Request not found", f"Request '{request_id[:MAX_SHOWN_ID]}' not found"
    )


def model_disabled(model: str) -> JSONBody:
    return gateway_error(400, "Model not found", f"Model '{model}' not found or is disabled")


def one_image_price(core: GatewayCore, operation_id: str) -> int:
    """The configured price of one image of an operation (the contract's unless overridden)."""
    return usd_to_micros(core.settings.prices_usd.get(operation_id, 0))


def status_call_price(
    core: GatewayCore, operations: Iterable[Operation], key: str, request_id: str
) -> int:
    """What a 402 on a status call names: the price of the job's operation when the id is a
    job of this key, else of the model its prefix names (the cheapest of that model's
    operations), else the cheapest operation of all."""
    job = core.queue.get(request_id)
    if job is not None and job.owner == key:
        return one_image_price(core, job.spec.operation_id)
    known = list(operations)
    slug = request_id.split("_", 1)[0]
    candidates = [op for op in known if op.slug == slug] or known
    return min((one_image_price(core, op.operation_id) for op in candidates), default=0)
