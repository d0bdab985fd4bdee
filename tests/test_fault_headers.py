"""Fault rules cannot smuggle framing or broken headers into the answers they inject."""

from __future__ import annotations

import pytest

from gateway_helpers import KEY, T2I
from mock_helpers import running

pytestmark = pytest.mark.anyio


@pytest.mark.parametrize(
    ("headers", "reason"),
    [
        ({"X-Bad\r\nInjected": "1"}, "not a valid header name"),
        ({"X Space": "1"}, "not a valid header name"),
        ({"X-Ok": "a\r\nSet-Cookie: x=1"}, "control character"),
        ({"X-Ok": "nul\x00"}, "control character"),
        ({"Content-Length": "5"}, "set by the server"),
        ({"transfer-encoding": "chunked"}, "set by the server"),
        ({"Connection": "close"}, "set by the server"),
    ],
)
async def test_bad_fault_headers_are_refused_with_a_400(
    headers: dict[str, str], reason: str
) -> None:
    async with running() as mock:
        rule = {"status": 503, "headers": headers}
        response = await mock.http.post("/_mock/faults", json=rule)
        assert response.status_code == 400 and reason in response.json()["message"]
        assert (await mock.control("GET", "/faults"))["faults"] == []


async def test_ordinary_fault_headers_still_reach_the_client() -> None:
    async with running() as mock:
        rule = {"status": 503, "headers": {"X-Upstream": "busy", "Cache-Control": "no-store"}}
        await mock.control("POST", "/faults", rule)
        response = await mock.http.post(T2I, json={"prompt": "x"}, headers=KEY)
    assert response.status_code == 503 and response.headers["x-upstream"] == "busy"
