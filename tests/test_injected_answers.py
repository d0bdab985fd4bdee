"""An injected fault answers exactly like the real thing: same status, body and headers.

Each test provokes the real answer first (a bad key, an empty wallet, an unknown id, a rate
limit), then injects the same status with a fault rule on a healthy call and compares.
"""

from __future__ import annotations

from typing import Any

import httpx
import pytest

from gateway_helpers import BP_T2I, EDIT, KEY, T2I
from mock_helpers import Running, running

pytestmark = pytest.mark.anyio
BROKE = {"Ocp-Apim-Subscription-Key": "broke-key"}
PROMPT = {"prompt": "a lion"}
EDIT_BODY = {"prompt": "a lion", "image_urls": ["https://example.com/cat.png"]}


def answer(response: httpx.Response) -> tuple[int, Any, dict[str, str]]:
    headers = {k: v for k, v in response.headers.items() if k != "content-length"}
    return response.status_code, response.json(), headers


async def injected(mock: Running, rule: dict[str, Any], method: str, path: str, **kw: Any) -> Any:
    await mock.control("POST", "/faults", {"times": 1, **rule})
    return answer(await mock.http.request(method, path, headers=KEY, **kw))


async def test_injected_401_is_the_invalid_key_answer() -> None:
    async with running() as mock:
        real = answer(
            await mock.http.post(
                T2I, json=PROMPT, headers={"Ocp-Apim-Subscription-Key": "no-such-key"}
            )
        )
        fake = await injected(mock, {"status": 401}, "POST", T2I, json=PROMPT)
        # A call without a key never reaches the fault rules: it keeps the real answer.
        await mock.control("POST", "/faults", {"status": 401})
        keyless = await mock.http.post(T2I, json=PROMPT)
    assert real[0] == 401 and fake == real
    assert keyless.json()["message"].startswith("Access denied due to missing subscription key")


async def test_injected_403_is_the_forbidden_key_answer() -> None:
    async with running() as mock:
        forbidden = {"Ocp-Apim-Subscription-Key": "forbidden-key"}
        real = answer(await mock.http.get("/v2/requests/status/x_1", headers=forbidden))
        fake = await injected(
            mock, {"status": 403, "endpoint": "status"}, "GET", "/v2/requests/status/x_1"
        )
    assert real[0] == 403 and fake == real


@pytest.mark.parametrize(("path", "body"), [(T2I, PROMPT), (EDIT, EDIT_BODY), (BP_T2I, PROMPT)])
async def test_injected_402_on_a_submit_names_that_operations_price(
    path: str, body: dict[str, Any]
) -> None:
    async with running() as mock:
        real = answer(await mock.http.post(path, json=body, headers=BROKE))
        fake = await injected(mock, {"status": 402, "endpoint": "submit"}, "POST", path, json=body)
    assert real[0] == 402 and fake == real


async def test_injected_402_on_a_status_call_names_the_jobs_operation() -> None:
    """A byteplus job's poll names byteplus's price, and a configured price wins."""
    async with running(prices={"byteplusTextToImageSubmit": "0.5"}) as mock:
        accepted = (await mock.http.post(BP_T2I, json=PROMPT, headers=KEY)).json()
        real = answer(await mock.http.post(BP_T2I, json=PROMPT, headers=BROKE))
        status = f"/v2/requests/status/{accepted['request_id']}"
        fake = await injected(mock, {"status": 402, "endpoint": "status"}, "GET", status)
    assert real[1]["message"].endswith("Required: $0.5")
    assert fake == real


async def test_injected_402_on_an_unknown_id_names_the_model_of_its_prefix() -> None:
    async with running(prices={"liteEditSubmit": "0.05"}) as mock:
        real = answer(await mock.http.post(EDIT, json=EDIT_BODY, headers=BROKE))
        rule = {"status": 402, "endpoint": "status"}
        unknown = "/v2/requests/status/seedream-5-0-lite-edit_0000"
        fake = await injected(mock, rule, "GET", unknown)
        nonsense = await injected(mock, rule, "GET", "/v2/requests/status/nonsense")
    assert real[1]["message"].endswith("Required: $0.05")
    assert fake == real
    # An id naming no model gets the cheapest documented price, never a made-up one.
    assert nonsense[1]["message"].endswith("Required: $0.035")


async def test_injected_404_on_the_status_endpoint_names_the_id() -> None:
    async with running() as mock:
        accepted = (await mock.http.post(T2I, json=PROMPT, headers=KEY)).json()
        missing = "/v2/requests/status/seedream-5-0-lite-text-to-image_nope"
        real = answer(await mock.http.get(missing, headers=KEY))
        existing = f"/v2/requests/status/{accepted['request_id']}"
        fake = await injected(mock, {"status": 404, "endpoint": "status"}, "GET", existing)
    assert real[0] == 404 and real[1]["message"].endswith("_nope' not found")
    assert fake[1] == {
        "error": "Request not found",
        "message": f"Request '{accepted['request_id']}' not found",
    }
    assert fake[2] == real[2]


async def test_injected_404_on_a_submit_is_the_unknown_route_answer() -> None:
    async with running() as mock:
        real = answer(await mock.http.post("/no/such/route", json=PROMPT, headers=KEY))
        fake = await injected(mock, {"status": 404, "endpoint": "submit"}, "POST", T2I, json=PROMPT)
    assert real[0] == 404 and fake == real


@pytest.mark.parametrize("kind", ["submit", "status"])
async def test_injected_429_is_the_rate_limit_answer_with_retry_after(kind: str) -> None:
    path = T2I if kind == "submit" else "/v2/requests/status/x_1"
    method = "POST" if kind == "submit" else "GET"
    async with running() as mock:
        await mock.control("PUT", "/keys/limited", {"rate_limits": {kind: "1/m"}})
        limited = {"Ocp-Apim-Subscription-Key": "limited"}
        await mock.http.request(method, path, json=PROMPT, headers=limited)
        real = answer(await mock.http.request(method, path, json=PROMPT, headers=limited))
        rule = {"status": 429, "retry_after": 60, "endpoint": kind}
        fake = await injected(mock, rule, method, path, json=PROMPT)
    assert real[0] == 429 and real[2]["retry-after"] == "60"
    assert fake == real


async def test_injected_400_has_the_real_400s_shape() -> None:
    async with running() as mock:
        real = answer(await mock.http.post(T2I, json={}, headers=KEY))
        fake = await injected(mock, {"status": 400, "endpoint": "submit"}, "POST", T2I, json=PROMPT)
    assert (real[0], fake[0]) == (400, 400)
    assert real[1].keys() == fake[1].keys() == {"error", "message"}
    assert real[1]["error"] == fake[1]["error"] == "Bad Request"
    assert fake[2] == real[2]
