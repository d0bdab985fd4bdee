"""429 and rate limits: configuration per key and group, Retry-After, and no charge."""

from __future__ import annotations

from pathlib import Path

import pytest

from gateway_helpers import KEY, T2I
from mock_gateway.config.settings import Settings
from mock_helpers import running

pytestmark = pytest.mark.anyio


async def test_retry_after_is_exact_at_every_moment() -> None:
    async with running() as mock:
        await mock.control("PUT", "/keys/test-key", {"rate_limits": {"submit": "2/m"}})
        for prompt in "ab":
            await mock.http.post(T2I, json={"prompt": prompt}, headers=KEY)
        for waited in range(30):
            refused = await mock.http.post(T2I, json={"prompt": "x"}, headers=KEY)
            assert refused.status_code == 429
            retry_after = int(refused.headers["retry-after"])
            assert retry_after == 30 - waited
            assert refused.json()["message"] == (
                f"Rate limit is exceeded. Try again in {retry_after} seconds."
            )
            mock.clock.advance(1)
        assert (await mock.http.post(T2I, json={"prompt": "x"}, headers=KEY)).status_code == 202


async def test_groups_are_limited_separately(tmp_path: Path) -> None:
    config = tmp_path / "limits.toml"
    config.write_text('[rate_limits]\nstatus = "3/m"\n\n[[keys]]\nkey = "k"\n'
                      'rate_limits = { submit = "1/m" }\n')  # fmt: skip
    async with running(Settings.load(config)) as mock:
        own = {"Ocp-Apim-Subscription-Key": "k"}
        submits = [(await mock.http.post(T2I, json={"prompt": "x"}, headers=own)).status_code]
        submits.append((await mock.http.post(T2I, json={"prompt": "x"}, headers=own)).status_code)
        polls = [
            (await mock.http.get("/v2/requests/status/x", headers=own)).status_code
            for _ in range(4)
        ]
        others = (await mock.http.post(T2I, json={"prompt": "x"}, headers=KEY)).status_code
    assert submits == [202, 429] and polls == [404, 404, 404, 429] and others == 202


async def test_the_rate_limited_scenario_limits_every_key() -> None:
    async with running(Settings.load(scenario="rate-limited", seed=1)) as mock:
        codes = [
            (await mock.http.post(T2I, json={"prompt": f"p{i}"}, headers=KEY)).status_code
            for i in range(6)
        ]
    assert codes == [202] * 5 + [429]


@pytest.mark.parametrize(
    ("headers", "body", "status"),
    [
        ({"Ocp-Apim-Subscription-Key": "nobody"}, {"prompt": "x"}, 401),
        ({}, {"prompt": "x"}, 401),
        (KEY, {"prompt": ""}, 400),
        (KEY, {"prompt": "x", "num_images": 9}, 400),
        ({**KEY, "X-Webhook-URL": "ftp://x"}, {"prompt": "x"}, 400),
        (KEY, {"prompt": "x", "num_images": 4}, 402),
    ],
)
async def test_rejected_requests_are_never_charged(
    headers: dict[str, str], body: dict[str, object], status: int
) -> None:
    async with running() as mock:
        await mock.control("PUT", "/keys/test-key", {"balance_usd": "0.1"})
        response = await mock.http.post(T2I, json=body, headers=headers)
        assert response.status_code == status
        assert await mock.balance() == "0.1"


async def test_rate_limited_forbidden_and_faulted_submits_are_never_charged() -> None:
    async with running() as mock:
        limited = {"Ocp-Apim-Subscription-Key": "limited-key"}
        codes = [
            (await mock.http.post(T2I, json={"prompt": "x"}, headers=limited)).status_code
            for _ in range(5)
        ]
        assert codes == [202, 202, 429, 429, 429]
        assert await mock.balance("limited-key") == "99.93"  # two jobs only
        await mock.control("PUT", "/keys/test-key", {"forbidden": True})
        assert (await mock.http.post(T2I, json={"prompt": "x"}, headers=KEY)).status_code == 403
        await mock.control("PUT", "/keys/test-key", {"forbidden": False})
        for rule in ({"status": 500}, {"status": 429}, {"status": 503}):
            await mock.control("POST", "/faults", {**rule, "times": 1})
            response = await mock.http.post(T2I, json={"prompt": "x"}, headers=KEY)
            assert response.status_code == rule["status"]
        assert await mock.balance() == "100"
