"""One rule for loopback webhook hosts, decided on the literal and never by a lookup, and
the connection made to the address that was checked."""

from __future__ import annotations

import socket
from typing import Any

import pytest

from gateway_helpers import KEY, T2I
from mock_gateway.steering.webhook_policy import HostPolicy
from mock_helpers import running
from seedream_contracts.loopback import LoopbackReceiver as WebhookReceiver

pytestmark = pytest.mark.anyio

# (spelling, the receiver's bind address, delivered?)
SPELLINGS = [
    ("localhost", "127.0.0.1", True),
    ("LocalHost", "127.0.0.1", True),
    ("127.0.0.1", "127.0.0.1", True),
    ("127.0.0.2", "127.0.0.2", True),
    ("localhost.", "127.0.0.1", False),
    ("localhost...", "127.0.0.1", False),
    ("127.0.0.1.", "127.0.0.1", False),
    ("127.1", "127.0.0.1", False),
    ("0x7f000001", "127.0.0.1", False),
    ("2130706433", "127.0.0.1", False),
    ("0177.0.0.1", "127.0.0.1", False),
    ("[::ffff:127.0.0.1]", "127.0.0.1", False),
]


@pytest.fixture
def no_lookups(monkeypatch: pytest.MonkeyPatch) -> list[Any]:
    """Fails the test if anything resolves a name (the asyncio and anyio paths both end in
    ``socket.getaddrinfo``)."""
    calls: list[Any] = []

    def refuse(*args: Any, **kwargs: Any) -> Any:
        calls.append(args)
        raise AssertionError(f"a name was resolved: {args!r}")

    monkeypatch.setattr(socket, "getaddrinfo", refuse)
    monkeypatch.setattr(socket, "gethostbyname", refuse)
    return calls


@pytest.mark.parametrize(("host", "bind", "delivered"), SPELLINGS)
async def test_each_spelling_follows_the_one_rule_without_a_lookup(
    host: str, bind: str, delivered: bool, no_lookups: list[Any]
) -> None:
    with WebhookReceiver(host=bind) as receiver:
        port = receiver.url.rsplit(":", 1)[1].split("/")[0]
        url = f"http://{host}:{port}/webhook"
        async with running() as mock:
            headers = {**KEY, "X-Webhook-URL": url}
            assert (await mock.http.post(T2I, json={"prompt": "x"}, headers=headers)).is_success
            await mock.control("POST", "/clock/advance", {"seconds": 5})
            [delivery] = (await mock.control("GET", "/webhooks", params={"wait": 5}))["webhooks"]
        if delivered:
            [callback] = receiver.wait_for(1, timeout=5)
            assert delivery["state"] == "delivered"
            assert callback.headers["host"].lower() == f"{host}:{port}".lower()
        else:
            assert delivery["state"] == "blocked" and delivery["attempts"] == []
            assert "written in full" in delivery["reason"]
            assert receiver.delivered == []
    assert no_lookups == []


def test_refusals_name_the_spelling_to_use() -> None:
    policy = HostPolicy.from_allowed(())
    assert "write it as 127.0.0.1" in str(policy.refusal("http://127.1/"))
    assert "write it as 127.0.0.1" in str(policy.refusal("http://[::ffff:127.0.0.1]/"))
    assert "write localhost without the dot" in str(policy.refusal("http://localhost./"))


def test_a_listed_name_with_a_trailing_dot_is_still_refused() -> None:
    policy = HostPolicy.from_allowed(["hooks.example.test"])
    assert policy.refusal("http://hooks.example.test/") is None
    assert policy.refusal("http://hooks.example.test./") is not None
