"""Smaller hostile-client fixes: idle --any-key accounts, trailing slashes, request ids,
balance PUTs with refunds pending, and renders of expired jobs."""

from __future__ import annotations

import pytest

from gateway_helpers import KEY, T2I
from mock_gateway.core.ids import POOL_BYTES, IdSource, uuid7
from mock_helpers import running

pytestmark = pytest.mark.anyio


async def test_idle_any_key_accounts_expire() -> None:
    async with running(any_key=True, any_key_idle_seconds=600, timing="manual") as mock:
        configured = len(mock.state.core.accounts)
        for number in range(200):
            key = {"Ocp-Apim-Subscription-Key": f"fuzz-{number}"}
            await mock.http.get("/v2/requests/status/nope", headers=key)
        assert len(mock.state.core.accounts) == configured + 200
        mock.clock.advance(300)
        await mock.http.get(
            "/v2/requests/status/nope", headers={"Ocp-Apim-Subscription-Key": "fuzz-7"}
        )
        mock.clock.advance(400)  # 700 s after most keys were last used, 400 after fuzz-7
        await mock.http.get("/v2/requests/status/nope", headers=KEY)
        keys = await mock.control("GET", "/keys")
        assert keys["total"] == configured + 1
        assert "fuzz-7" in mock.state.core.accounts and "fuzz-8" not in mock.state.core.accounts
        # A configured key and one made with PUT never expire.
        await mock.control("PUT", "/keys/made-by-put", {"balance_usd": "1"})
        mock.clock.advance(10_000)
        await mock.http.get("/v2/requests/status/nope", headers=KEY)
        assert "made-by-put" in mock.state.core.accounts and "test-key" in mock.state.core.accounts
        assert "fuzz-7" not in mock.state.core.accounts


async def test_an_any_key_account_with_jobs_is_kept_until_they_are_gone() -> None:
    async with running(
        timing="manual", any_key=True, any_key_idle_seconds=60, retention_seconds=600
    ) as mock:
        key = {"Ocp-Apim-Subscription-Key": "fuzz-with-job"}
        assert (await mock.http.post(T2I, json={"prompt": "x"}, headers=key)).status_code == 202
        mock.clock.advance(120)
        await mock.http.get("/v2/requests/status/nope", headers=KEY)
        assert "fuzz-with-job" in mock.state.core.accounts  # its finished job is retained
        mock.clock.advance(1000)
        await mock.http.get("/v2/requests/status/nope", headers=KEY)
        assert "fuzz-with-job" not in mock.state.core.accounts


async def test_an_overlong_any_key_is_refused() -> None:
    async with running(any_key=True) as mock:
        key = {"Ocp-Apim-Subscription-Key": "k" * 300}
        response = await mock.http.get("/v2/requests/status/nope", headers=key)
    assert response.status_code == 401


@pytest.mark.parametrize("path", [T2I + "/", "/v2/requests/status/abc/"])
async def test_a_trailing_slash_is_apims_404_not_a_redirect(path: str) -> None:
    async with running() as mock:
        method = "POST" if path.startswith(T2I) else "GET"
        response = await mock.http.request(
            method, path, json={"prompt": "x"}, headers={**KEY, "Host": "evil.example"}
        )
    assert response.status_code == 404 and "location" not in response.headers
    assert response.json() == {"statusCode": 404, "message": "Resource not found"}


def test_unseeded_ids_come_from_the_os(monkeypatch: pytest.MonkeyPatch) -> None:
    import os

    calls: list[int] = []
    real = os.urandom

    def counted(size: int) -> bytes:
        calls.append(size)
        return real(size)

    monkeypatch.setattr(os, "urandom", counted)
    source = IdSource(None)
    values = [uuid7(0.0, source) for _ in range(POOL_BYTES // 10)]
    assert calls == [POOL_BYTES]  # 74 random bits an id, 409 ids a system call
    assert len({value.int for value in values}) == len(values)
    assert all(value.version == 7 for value in values)


async def test_seeded_ids_repeat_across_runs_and_differ_in_their_random_part() -> None:
    async def ids(reset_between: bool) -> list[str]:
        async with running(seed=5) as mock:
            found = []
            for _ in range(3):
                response = await mock.http.post(T2I, json={"prompt": "x"}, headers=KEY)
                found.append(response.json()["request_id"])
                if reset_between:
                    await mock.control("POST", "/reset")
            return found

    first, second, with_resets = await ids(False), await ids(False), await ids(True)
    assert first == second  # seeded: repeatable
    for run in (first, with_resets):
        random_parts = {request_id.split("-", 3)[-1] for request_id in run}
        assert len(random_parts) == 3  # same millisecond (frozen clock), different ids


async def test_a_balance_put_is_the_balance_even_with_error_refunds_pending() -> None:
    async with running(timing="manual") as mock:
        await mock.control("POST", "/faults", {"outcome": "ERROR", "times": 2})
        for _ in range(2):
            response = await mock.http.post(T2I, json={"prompt": "x"}, headers=KEY)
            assert response.status_code == 202
        await mock.control("PUT", "/keys/test-key", {"balance_usd": "0.35"})
        await mock.control("POST", "/clock/advance", {"seconds": 60})
        assert await mock.balance() == "0.35"
        # A job charged after the PUT is still refunded when it ends in ERROR.
        await mock.control("POST", "/faults", {"outcome": "ERROR", "times": 1})
        await mock.http.post(T2I, json={"prompt": "y"}, headers=KEY)
        assert await mock.balance() == "0.315"
        await mock.control("POST", "/clock/advance", {"seconds": 60})
        assert await mock.balance() == "0.35"


async def test_renders_of_expired_jobs_leave_the_cache() -> None:
    async with running(timing="manual", retention_seconds=100) as mock:
        response = await mock.http.post(T2I, json={"prompt": "x"}, headers=KEY)
        await mock.control("POST", "/clock/advance", {"seconds": 10})
        status = (await mock.http.get(response.json()["polling_url"], headers=KEY)).json()
        media = status["output"]["media_url"][0].replace("http://mock.test", "")
        assert (await mock.http.get(media)).status_code == 200
        assert len(mock.state.images) == 1
        await mock.control("POST", "/clock/advance", {"seconds": 200})
        await mock.http.get("/_health")
        await mock.http.get("/v2/requests/status/nope", headers=KEY)
        assert len(mock.state.images) == 0
