"""The mock never becomes a source of traffic to other people's servers."""

from __future__ import annotations

import logging
import socket
from typing import Any

import httpx
import pytest

from gateway_helpers import KEY, T2I
from mock_gateway.config.settings import Settings
from mock_gateway.steering.webhook_policy import HostPolicy
from mock_helpers import running

LOOPBACK = [
    "http://127.0.0.1:9/hook",
    "http://127.200.3.4/hook",
    "http://[::1]:8080/hook",
    "http://localhost:1/x",
    "https://LOCALHOST/x",
    "http://127.0.0.2:9/hook",  # all of 127.0.0.0/8 is loopback
    "http://user@evil.test:80@127.0.0.1/hook",  # userinfo; both parsers connect to 127.0.0.1
]
ELSEWHERE = [
    "http://example.com/hook",
    "http://10.0.0.1/hook",
    "http://0.0.0.0:80/hook",
    "http://[::ffff:127.0.0.1]/hook",  # v4-mapped: not decided without a lookup, so refused
    "http://127.1/hook",  # an inet_aton shorthand: only a resolver would call it loopback
    "http://0x7f000001/hook",
    "http://2130706433/hook",
    "http://localhost./hook",  # a fully qualified name: it goes to DNS
    "http://localhost.../hook",
    "http://127.0.0.1./hook",
    "http://localhost.example.com/hook",
    "http://127.0.0.1.nip.io/hook",
    "http://127.0.0.1\\@evil.test/hook",
    "http://127.0.0.1%2f@evil.test/hook",
]


@pytest.mark.parametrize("url", LOOPBACK)
def test_loopback_hosts_are_allowed(url: str) -> None:
    assert HostPolicy.from_allowed(()).refusal(url) is None


@pytest.mark.parametrize("url", ELSEWHERE)
def test_other_hosts_are_refused_with_the_option_that_allows_them(url: str) -> None:
    refusal = HostPolicy.from_allowed(()).refusal(url)
    # A backslash makes the host unreadable (parsers disagree on it): refused, no option helps.
    expected = "has no host" if "\\" in url else "--webhook-allow-host"
    assert refusal is not None and expected in refusal


def test_allow_list_takes_names_addresses_and_networks() -> None:
    policy = HostPolicy.from_allowed(["Hooks.Example.com", "10.0.0.0/8", "[2001:db8::1]"])
    for url in ("http://hooks.example.com/a", "http://10.9.8.7/", "http://[2001:db8::1]/"):
        assert policy.refusal(url) is None
    assert policy.refusal("http://other.example.com/") is not None
    assert policy.refusal("http://11.0.0.1/") is not None


@pytest.mark.anyio
async def test_a_callback_to_another_host_opens_no_socket_and_looks_up_no_name(
    monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    """The mock's own httpx client (as in production, made by the lifespan) is used; every
    way to reach the network is watched."""
    touched: list[Any] = []

    def refuse(*args: Any, **kwargs: Any) -> Any:
        touched.append(args)
        raise AssertionError(f"the mock tried to reach the network: {args!r}")

    monkeypatch.setattr(socket.socket, "connect", refuse)
    monkeypatch.setattr(socket.socket, "connect_ex", refuse)
    monkeypatch.setattr(socket, "getaddrinfo", refuse)
    monkeypatch.setattr(socket, "gethostbyname", refuse)
    caplog.set_level(logging.WARNING, logger="mock_gateway.steering.webhooks")
    # A backslash is no URL character (contract and mock answer 400 at submit).
    urls = [url for url in ELSEWHERE if "\\" not in url]
    async with running() as mock:
        for url in [*urls, "http://example.com/again"]:
            headers = {**KEY, "X-Webhook-URL": url}
            response = await mock.http.post(T2I, json={"prompt": url}, headers=headers)
            assert response.status_code == 202  # accepted at submit, as the gateway would
        await mock.control("POST", "/clock/advance", {"seconds": 60})
        found = (await mock.control("GET", "/webhooks", params={"wait": 2}))["webhooks"]
    assert touched == []
    assert len(found) == len(urls) + 1
    assert {delivery["state"] for delivery in found} == {"blocked"}
    assert all(delivery["attempts"] == [] for delivery in found)
    [example] = [delivery for delivery in found if delivery["url"] == ELSEWHERE[0]]
    assert "--webhook-allow-host example.com" in example["reason"]
    logged = [record.getMessage() for record in caplog.records]
    assert sum("'example.com'" in line for line in logged) == 1  # once per host


@pytest.mark.anyio
async def test_an_allowed_host_is_called() -> None:
    seen: list[httpx.Request] = []

    def answer(request: httpx.Request) -> httpx.Response:
        seen.append(request)
        return httpx.Response(204)

    client = httpx.AsyncClient(transport=httpx.MockTransport(answer))
    settings = Settings.load(seed=1, webhooks={"allow_hosts": ["hooks.example.test"]})
    async with running(settings, http=client) as mock:
        headers = {**KEY, "X-Webhook-URL": "https://hooks.example.test/cb"}
        await mock.http.post(T2I, json={"prompt": "x"}, headers=headers)
        await mock.control("POST", "/clock/advance", {"seconds": 5})
        [delivery] = (await mock.control("GET", "/webhooks", params={"wait": 2}))["webhooks"]
    await client.aclose()
    assert delivery["state"] == "delivered"
    assert [request.url.host for request in seen] == ["hooks.example.test"]
