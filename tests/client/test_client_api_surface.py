"""The public surface: an honest ``__all__``, sync/async parity, and a key that stays secret."""

from __future__ import annotations

import inspect
import logging
from pathlib import Path

import httpx
import pytest

import seedream_client
from seedream_client import AsyncGateway, AsyncJob, Gateway, Job

PACKAGE = Path(seedream_client.__file__).parent
ASYNC_NAMES = {"__aenter__": "__enter__", "__aexit__": "__exit__"}


def test_all_is_honest() -> None:
    assert sorted(seedream_client.__all__) == sorted(set(seedream_client.__all__)), (
        "duplicates in __all__"
    )
    for name in seedream_client.__all__:
        assert hasattr(seedream_client, name), f"__all__ names missing {name}"
    public = {
        name
        for name, value in vars(seedream_client).items()
        if not name.startswith("_") and not inspect.ismodule(value) and name != "annotations"
    }
    assert public <= set(seedream_client.__all__), (
        f"exported but not in __all__: {public - set(seedream_client.__all__)}"
    )
    assert seedream_client.webhooks.__all__  # the public submodule names its API too


def test_private_modules_and_sizes() -> None:
    for path in PACKAGE.glob("*.py"):
        public = path.stem in {"__init__", "__main__", "cli", "webhooks"}
        assert public or path.stem.startswith("_"), f"{path.name} should be a private _module"
        lines = len(path.read_text().splitlines())
        assert lines <= 300, f"{path.name} has {lines} lines"


def _public(cls: type) -> dict[str, inspect.Signature]:
    found = {}
    for name, member in inspect.getmembers(cls):
        if name.startswith("_") and name not in {
            "__enter__",
            "__exit__",
            "__aenter__",
            "__aexit__",
        }:
            continue
        if callable(member):
            found[ASYNC_NAMES.get(name, name)] = inspect.signature(member)
    return found


def _shape(sig: inspect.Signature) -> list[tuple[str, object, object]]:
    return [(p.name, p.kind, p.default) for p in sig.parameters.values()]


@pytest.mark.parametrize(("sync", "async_"), [(Gateway, AsyncGateway), (Job, AsyncJob)])
def test_sync_async_parity(sync: type, async_: type) -> None:
    sync_api, async_api = _public(sync), _public(async_)
    assert sorted(sync_api) == sorted(async_api)
    for name, sig in sync_api.items():
        assert _shape(sig) == _shape(async_api[name]), f"{sync.__name__}.{name} differs"
        # the async twin of a blocking method is a coroutine (or an async iterator)
        member = getattr(async_, {v: k for k, v in ASYNC_NAMES.items()}.get(name, name))
        blocking = name not in {"job", "estimate_cost"}
        if blocking:
            assert inspect.iscoroutinefunction(member) or inspect.isasyncgenfunction(member), name


def test_method_annotations_match() -> None:
    for name in ("text_to_image", "edit", "multi_edit", "status", "wait", "run"):
        sync = inspect.signature(getattr(Gateway, name)).parameters
        async_ = inspect.signature(getattr(AsyncGateway, name)).parameters
        assert [p.annotation for p in sync.values()] == [p.annotation for p in async_.values()]


def test_key_never_in_repr_errors_or_logs(caplog: pytest.LogCaptureFixture) -> None:
    secret = "sk-very-secret-key-123"
    seen: list[httpx.Request] = []

    def handler(request: httpx.Request) -> httpx.Response:
        seen.append(request)
        return httpx.Response(503, json={"statusCode": 503, "message": "busy"})

    http = httpx.Client(transport=httpx.MockTransport(handler))
    gw = Gateway(secret, "http://gw.test", http_client=http, sleep=lambda s: None)
    caplog.set_level(logging.DEBUG)
    with pytest.raises(seedream_client.InternalServerError) as info:
        gw.status("byteplus_x")
    assert seen[0].headers["Ocp-Apim-Subscription-Key"] == secret
    texts = [repr(gw), str(info.value), repr(info.value), caplog.text, repr(vars(gw))]
    assert all(secret not in text for text in texts)
    assert "retrying status byteplus_x" in caplog.text


def test_api_key_and_base_url_from_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("PIXAZO_API_KEY", "env-key")
    monkeypatch.setenv("PIXAZO_BASE_URL", "http://env.test/")
    seen: list[httpx.Request] = []

    def handler(request: httpx.Request) -> httpx.Response:
        seen.append(request)
        return httpx.Response(404, json={"error": "Request not found", "message": "no"})

    http = httpx.Client(transport=httpx.MockTransport(handler))
    with Gateway(http_client=http) as gw, pytest.raises(seedream_client.NotFoundError):
        gw.status("abc")
    assert seen[0].headers["Ocp-Apim-Subscription-Key"] == "env-key"
    assert str(seen[0].url) == "http://env.test/v2/requests/status/abc"
    monkeypatch.delenv("PIXAZO_BASE_URL")
    assert Gateway().base_url == seedream_client.DEFAULT_BASE_URL
    monkeypatch.delenv("PIXAZO_API_KEY")
    with pytest.raises(seedream_client.GatewayError, match="PIXAZO_API_KEY"):
        Gateway()


def test_key_not_sent_to_media_hosts(tmp_path: Path) -> None:
    seen: list[httpx.Request] = []

    def handler(request: httpx.Request) -> httpx.Response:
        seen.append(request)
        if request.url.path == "/a.png":  # CDNs redirect; the download follows
            return httpx.Response(302, headers={"location": "https://cdn2.test/b.png"})
        return httpx.Response(
            200, content=b"\x89PNG\r\n\x1a\nxx", headers={"content-type": "image/png"}
        )

    status = seedream_client.JobStatus.from_body(
        {"request_id": "r_1", "status": "COMPLETED", "model_id": "m", "error": None,
         "output": {"media_url": ["https://cdn.test/a.png"], "media_type": "image/png"}}
    )  # fmt: skip
    http = httpx.Client(transport=httpx.MockTransport(handler))
    with Gateway("secret", "http://gw.test", http_client=http) as gw:
        [saved] = gw.download(status, tmp_path)
    assert saved.name == "r_1.png" and saved.read_bytes().startswith(b"\x89PNG")
    assert [r.url.host for r in seen] == ["cdn.test", "cdn2.test"]
    assert all("Ocp-Apim-Subscription-Key" not in r.headers for r in seen)


def test_timeouts_and_retries_configuration() -> None:
    mine = httpx.Client(timeout=3.0)
    assert Gateway("k", http_client=mine).timeout == httpx.Timeout(3.0)
    assert Gateway("k", http_client=mine, timeout=7).timeout == httpx.Timeout(7)
    assert Gateway("k").timeout.connect == 10.0
    policy = seedream_client.RetryPolicy(max_delay=1.0)
    gw = Gateway("k", retry=policy, max_retries=5)
    assert (gw.retry.max_retries, gw.retry.max_delay) == (5, 1.0)
    mine.close()
