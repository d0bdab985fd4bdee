"""The documented endpoints: five submits and the universal status endpoint."""

from __future__ import annotations

from collections.abc import Awaitable, Callable

from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from mock_gateway.core import InsufficientBalance
from mock_gateway.core.gateway import ModelDisabled
from mock_gateway.steering.faults import Call
from mock_gateway.validation.contract import Operation
from mock_gateway.validation.request import Rejection, check_webhook_url
from mock_gateway.web.answers import (
    insufficient_balance,
    model_disabled,
    one_image_price,
    request_not_found,
    status_call_price,
)
from mock_gateway.web.inputs import unfetched_flag
from mock_gateway.web.responses import JSONBody
from mock_gateway.web.routes.common import apim_gate, mock_state, read_json_body, rejection_response
from mock_gateway.web.routes.injected import apply_faults, note_warning
from mock_gateway.web.state import MockState

Endpoint = Callable[[Request], Awaitable[Response]]


def base_url(request: Request) -> str:
    """The URL the client used to reach the mock, so returned URLs lead back to it.

    Built from the scope directly: ``request.base_url`` parses a whole URL object per call,
    which showed up as the largest cost of a status poll.
    """
    scope = request.scope
    host = request.headers.get("host")
    if not host:
        server = scope.get("server") or ("127.0.0.1", 80)
        host = f"{server[0]}:{server[1]}"
    return f"{scope['scheme']}://{host}{scope.get('root_path', '')}".rstrip("/")


def submit_endpoint(operation: Operation) -> Endpoint:
    async def submit(request: Request) -> Response:
        state = mock_state(request)
        now = state.now()
        account = apim_gate(request, state, "submit", now)
        if isinstance(account, Response):
            return account
        webhook_url = request.headers.get("x-webhook-url")
        raw = await read_json_body(request, state.settings.max_body_bytes)
        if isinstance(raw, Rejection):
            return rejection_response(raw)
        parsed = await state.submit_parser.parse(operation, raw)
        if isinstance(parsed, Rejection):
            return rejection_response(parsed)
        problem = check_webhook_url(webhook_url)
        if problem is not None:
            return rejection_response(problem)
        fields = parsed.fields
        call = Call(
            "submit",
            operation.operation_id,
            frozenset({operation.slug, parsed.model}),
            account.key,
            fields.get("prompt"),
        )
        faulted = await apply_faults(request, state, call, operation_price(state, operation))
        if isinstance(faulted, Response):
            return faulted
        own_base = base_url(request)
        inputs = await state.inputs.resolve(parsed, own_base)
        spec = parsed.job_spec(inputs, webhook_url=webhook_url, base_url=own_base)
        now = state.now()
        outcome = faulted.outcome if faulted is not None else None
        result = state.core.submit(account, spec, now, outcome=outcome)
        state.pump(now)
        if isinstance(result, ModelDisabled):
            return model_disabled(result.model)
        if isinstance(result, InsufficientBalance):
            return insufficient_balance(result.required_micros)
        request_id = result.job.request_id
        request.scope["mock.request_id"] = request_id
        note_warning(request, state.hygiene.submitted(account.key, request.scope["path"], raw, now))
        fetch_remote = state.inputs.fetch_remote
        note_warning(request, unfetched_flag(parsed.image_refs, inputs, fetch_remote=fetch_remote))
        return JSONBody(
            {
                "request_id": request_id,
                "status": "QUEUED",
                "polling_url": f"{own_base}/v2/requests/status/{request_id}",
            },
            status_code=202,
        )

    submit.__name__ = operation.operation_id
    return submit


async def status(request: Request) -> Response:
    state = mock_state(request)
    now = state.now()
    account = apim_gate(request, state, "status", now)
    if isinstance(account, Response):
        return account
    request_id: str = request.path_params["request_id"]
    request.scope["mock.request_id"] = request_id
    if state.faults.armed:
        price = status_call_price(
            state.core, state.contract.submit_operations(), account.key, request_id
        )
        faulted = await apply_faults(
            request, state, status_call(state, account.key, request_id), price
        )
        if isinstance(faulted, Response):
            return faulted
    job = state.core.find_job(account.key, request_id, now)
    state.pump(now)
    seen = job.status.value if job is not None else None
    note_warning(request, state.hygiene.poll(account.key, request_id, now, seen))
    if job is None:
        return request_not_found(request_id)
    return JSONBody(job.status_body(f"{base_url(request)}/media"))


def operation_price(state: MockState, operation: Operation) -> int:
    """One image's price, for the 402 body of an injected fault."""
    return one_image_price(state.core, operation.operation_id)


def status_call(state: MockState, key: str, request_id: str) -> Call:
    """How a status poll looks to the fault rules (the model from the id or the job)."""
    models = {request_id.split("_", 1)[0]}
    job = state.core.queue.get(request_id)
    if job is not None and job.owner == key:
        models.add(job.spec.model)
    return Call("status", None, frozenset(models), key)


def gateway_routes(operations: list[Operation]) -> list[Route]:
    routes = [
        Route(operation.path, submit_endpoint(operation), methods=["POST"])
        for operation in operations
    ]
    routes.append(Route("/v2/requests/status/{request_id}", status, methods=["GET"]))
    return routes
