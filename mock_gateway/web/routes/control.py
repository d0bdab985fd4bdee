"""The control API under ``/_mock/`` (a mock extension, not part of the gateway's contract):
keys and balances, reset, and the virtual clock. Faults and the logs are in ``control_logs``,
snapshots in ``control_snapshot``.

Documented in ``mock_gateway/control-openapi.yaml`` (served at ``/_mock/openapi.json``).
"""

from __future__ import annotations

import json
import re
from decimal import Decimal
from pathlib import Path
from typing import Any

from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from mock_gateway.core import KeySettings, RateLimit, format_timestamp
from mock_gateway.core.gateway import Account
from mock_gateway.core.wallet import micros_to_usd
from mock_gateway.steering.bounded import page_bounds
from mock_gateway.web.parse import mock_state
from mock_gateway.web.responses import JSONBody
from mock_gateway.web.routes.control_input import (
    PAGE_PARAMS,
    BadInput,
    guarded,
    json_body,
    number,
    only,
    problem,
    query,
    query_page,
)
from mock_gateway.web.routes.control_logs import log_routes
from mock_gateway.web.routes.control_snapshot import snapshot_routes
from mock_gateway.web.state import MockState

OPENAPI_FILE = Path(__file__).resolve().parent.parent / "control-openapi.yaml"
KEY_FIELDS = ("balance_usd", "forbidden", "rate_limits", "note")
MAX_BALANCE = Decimal(1_000_000_000)
YEAR = 366 * 24 * 3600.0
SETTLE_SECONDS = 10.0  # how long an advance waits for due webhook attempts (real time)
NEW_KEY_BALANCE = KeySettings("").balance_usd  # what a key created without a balance gets


def usd_text(micros: int) -> str:
    """A balance as a decimal string without float noise: ``"99.965"``."""
    return format(micros_to_usd(micros), "f")


def key_document(state: MockState, account: Account) -> dict[str, Any]:
    return {
        "key": account.key,
        "balance_usd": usd_text(state.core.balance_micros(account.key)),
        "forbidden": account.forbidden,
        "rate_limits": {group: str(limit) for group, limit in account.rate_limits.items()},
        "default_rate_limits": {
            group: str(limit) for group, limit in state.settings.core.default_rate_limits.items()
        },
        "note": account.note,
    }


def clock_document(state: MockState) -> dict[str, Any]:
    now = state.clock.now()
    rate = state.clock.rate
    return {
        "time": now,
        "now": format_timestamp(now),
        "rate": rate,
        "frozen": rate == 0.0,
        # Lets a client that did not start the mock (the contract suite given a URL) know
        # which durations to expect.
        "timing": state.settings.core.timing.name,
    }


# The control API's document states the same: a string is digits with at most 6 decimals.
_AMOUNT = re.compile(r"(?:[0-9]{1,9}(?:\.[0-9]{1,6})?|1000000000(?:\.0{1,6})?)")


def _balance(value: Any) -> Decimal:
    """USD from ``"12.5"`` (exact: at most 6 decimals) or ``12.5`` (a JSON number, rounded to
    the micro-dollar, as floats are approximate anyway)."""
    if isinstance(value, bool) or not isinstance(value, str | int | float):
        raise BadInput('balance_usd: must be an amount in USD such as "12.5" or 12.5')
    if isinstance(value, str):
        if not _AMOUNT.fullmatch(value):
            raise BadInput(
                f"balance_usd: {value[:40]!r} is not an amount from 0 to {MAX_BALANCE} "
                'written like "12.5" (at most 6 decimal places)'
            )
        return Decimal(value)
    if not 0 <= value <= MAX_BALANCE:  # also false for NaN
        raise BadInput(f"balance_usd: must be between 0 and {MAX_BALANCE} (got {value})")
    return Decimal(str(value)).quantize(Decimal("0.000001"))


def _rate_limits(value: Any, current: dict[str, RateLimit]) -> dict[str, RateLimit]:
    if not isinstance(value, dict):
        raise BadInput('rate_limits: must be an object like {"submit": "10/m", "status": null}')
    limits = dict(current)
    for group, text in value.items():
        if group not in ("submit", "status"):
            raise BadInput(f"rate_limits.{group}: unknown group (use submit or status)")
        if text is None:
            limits.pop(group, None)  # back to the configured default for every key
            continue
        if not isinstance(text, str):
            raise BadInput(f'rate_limits.{group}: must be a string like "10/m" or null')
        try:
            limits[group] = RateLimit.parse(text)
        except ValueError as exc:
            raise BadInput(f"rate_limits.{group}: {exc}") from None
    return limits


@guarded
async def get_key(request: Request) -> Response:
    state = mock_state(request)
    account = state.core.account(request.path_params["key"])
    if account is None:
        return problem(404, "no such key (create it with PUT /_mock/keys/{key})")
    return JSONBody(key_document(state, account))


@guarded
async def put_key(request: Request) -> Response:
    """Create or update a key; fields not sent keep their value (new keys: $100)."""
    state = mock_state(request)
    key: str = request.path_params["key"]
    if len(key) > 256:
        raise BadInput("key: at most 256 characters")
    body = await json_body(request)
    only(body, KEY_FIELDS)
    current = state.core.account(key)
    balance = (
        _balance(body["balance_usd"])
        if "balance_usd" in body
        else (micros_to_usd(state.core.balance_micros(key)) if current else NEW_KEY_BALANCE)
    )
    forbidden = body.get("forbidden", current.forbidden if current else False)
    if not isinstance(forbidden, bool):
        raise BadInput("forbidden: must be true or false")
    note = body.get("note", current.note if current else "")
    if not isinstance(note, str):
        raise BadInput("note: must be a string")
    limits = current.rate_limits if current else {}
    if "rate_limits" in body:
        limits = _rate_limits(body["rate_limits"], limits)
        state.core.refill_limits(key)  # new limits start with a full bucket
    settings = KeySettings(key, balance, forbidden, limits, note)
    if "balance_usd" in body:  # a set balance includes any refund still due (docs/fidelity.md)
        state.core.waive_refunds(key)
    account = state.core.put_account(settings)
    return JSONBody(key_document(state, account), status_code=200 if current else 201)


@guarded
async def delete_key(request: Request) -> Response:
    """Remove a key with its jobs (the plugin does this after each test)."""
    state = mock_state(request)
    key: str = request.path_params["key"]
    if state.core.account(key) is None:
        return problem(404, "no such key")
    state.core.remove_account(key)
    return Response(status_code=204)


@guarded
async def list_keys(request: Request) -> Response:
    state = mock_state(request)
    limit, offset = query_page(query(request, PAGE_PARAMS))
    accounts = state.core.all_accounts()
    start, stop, next_offset = page_bounds(len(accounts), limit, offset or 0)
    keys = [key_document(state, account) for account in accounts[start:stop]]
    return JSONBody({"keys": keys, "total": len(accounts), "next_offset": next_offset})


@guarded
async def reset(request: Request) -> Response:
    """Back to the configured start state: keys, balances, faults; journal and webhooks
    emptied; the clock's rate as configured (time itself never runs backwards)."""
    state = mock_state(request)
    state.reset()
    return JSONBody({"reset": True, "clock": clock_document(state)})


async def _clock_changed(state: MockState, settle: float = 0.0) -> Response:
    state.advance()
    state.waker.wake()  # due jobs and webhook retries run now, not at the next tick
    if settle:
        await state.settle(settle)
    return JSONBody(clock_document(state))


@guarded
async def get_clock(request: Request) -> Response:
    return JSONBody(clock_document(mock_state(request)))


@guarded
async def advance(request: Request) -> Response:
    """Step mock time; answers once the jobs and webhook attempts due by then have run
    (at most ``settle_seconds`` of real time, default 10; 0 answers at once)."""
    state = mock_state(request)
    body = await json_body(request)
    only(body, ["seconds", "settle_seconds"])
    if "seconds" not in body:
        raise BadInput('seconds: is required, e.g. {"seconds": 5}')
    seconds = number(body["seconds"], "seconds", 0, YEAR)
    settle = number(body.get("settle_seconds", SETTLE_SECONDS), "settle_seconds", 0, 60)
    state.clock.advance(seconds)
    return await _clock_changed(state, settle)


@guarded
async def freeze(request: Request) -> Response:
    state = mock_state(request)
    only(await json_body(request), [])
    state.clock.freeze()
    return await _clock_changed(state)


@guarded
async def resume(request: Request) -> Response:
    state = mock_state(request)
    body = await json_body(request)
    only(body, ["rate"])
    state.clock.resume(number(body.get("rate", 1.0), "rate", 1e-6, 1e6))
    return await _clock_changed(state)


@guarded
async def set_rate(request: Request) -> Response:
    """The time scale: 0 freezes, 1 is real time, 10 runs ten times faster."""
    state = mock_state(request)
    body = await json_body(request)
    only(body, ["rate"])
    if "rate" not in body:
        raise BadInput('rate: is required, e.g. {"rate": 10}')
    state.clock.set_rate(number(body["rate"], "rate", 0, 1e6))
    return await _clock_changed(state)


def control_openapi() -> dict[str, Any]:
    """The control API's OpenAPI document (read on demand: it is small and rarely asked for;
    PyYAML is imported here so start-up does not pay for it)."""
    import yaml

    document: dict[str, Any] = yaml.safe_load(OPENAPI_FILE.read_text(encoding="utf-8"))
    return document


@guarded
async def openapi(request: Request) -> Response:
    """This API's own OpenAPI document (``mock_gateway/control-openapi.yaml``)."""
    return Response(json.dumps(control_openapi()), media_type="application/json")


def control_routes() -> list[Route]:
    return [
        Route("/_mock/keys", list_keys, methods=["GET"]),
        Route("/_mock/keys/{key:path}", get_key, methods=["GET"]),
        Route("/_mock/keys/{key:path}", put_key, methods=["PUT"]),
        Route("/_mock/keys/{key:path}", delete_key, methods=["DELETE"]),
        Route("/_mock/reset", reset, methods=["POST"]),
        Route("/_mock/clock", get_clock, methods=["GET"]),
        Route("/_mock/clock/advance", advance, methods=["POST"]),
        Route("/_mock/clock/freeze", freeze, methods=["POST"]),
        Route("/_mock/clock/resume", resume, methods=["POST"]),
        Route("/_mock/clock/rate", set_rate, methods=["POST"]),
        Route("/_mock/openapi.json", openapi, methods=["GET"]),
        *log_routes(),
        *snapshot_routes(),
    ]
