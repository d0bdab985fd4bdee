"""Gateway (sync) and AsyncGateway against the mock over real HTTP on 127.0.0.1 (uvicorn)."""

from __future__ import annotations

import io
import socket
import time
from collections.abc import Callable
from decimal import Decimal
from pathlib import Path
from typing import Any

import anyio
import pytest
from PIL import Image
from seedream_testing import TINY_POLL, mock_app

from mock_gateway.testing.server_thread import ServerThread
from seedream_client import (
    APIConnectionError,
    APITimeoutError,
    AsyncGateway,
    AuthenticationError,
    Gateway,
    InsufficientBalanceError,
    ModelNotFoundError,
    NotFoundError,
    PermissionDeniedError,
    RateLimitError,
    RetryPolicy,
    Status,
    WaitTimeoutError,
)

Serve = Callable[[Any], ServerThread]
ASGIApp = Callable[..., Any]


def recording_sleep(sleeps: list[float]) -> Callable[[float], None]:
    def sleep(seconds: float) -> None:
        sleeps.append(seconds)
        time.sleep(seconds)

    return sleep


def test_generate_wait_download(gateway: Gateway, tmp_path: Path) -> None:
    job = gateway.text_to_image("a harbour at night", model="seedream-4-5", size="2K", seed=3)
    changes: list[Status] = []
    status = job.wait(timeout=10, on_update=lambda s: changes.append(s.status))
    assert changes[-1] is Status.COMPLETED and status.media_type == "image/jpeg"
    [path] = job.download(tmp_path)
    image = Image.open(io.BytesIO(path.read_bytes()))
    assert (image.format, image.size, path.suffix) == ("JPEG", (2048, 2048), ".jpg")
    assert gateway.status(job.request_id).status is Status.COMPLETED
    assert [s.status for s in gateway.updates(job.request_id)] == [Status.COMPLETED]


def test_error_classes_over_http(live_mock: ServerThread, serve: Serve) -> None:
    for key, error, code in [
        ("broke-key", InsufficientBalanceError, 402),
        ("forbidden-key", PermissionDeniedError, 403),
        ("nobody", AuthenticationError, 401),
    ]:
        with Gateway(key, live_mock.base_url) as gw, pytest.raises(error) as info:
            gw.text_to_image("a cat")
        assert info.value.status_code == code
    assert info.value.body == {
        "statusCode": 401,
        "message": "Access denied due to invalid subscription key. "
        "Make sure to provide a valid key for an active subscription.",
    }
    with Gateway("test-key", live_mock.base_url) as gw, pytest.raises(NotFoundError):
        gw.status("byteplus_00000000-0000-7000-8000-000000000000")
    disabled = serve(mock_app(disabled_models=["byteplus"]))
    with Gateway("test-key", disabled.base_url) as gw, pytest.raises(ModelNotFoundError) as nf:
        gw.edit("x", "https://example.test/cat.jpg", model="seedream-4-5")
    assert nf.value.error == "Model not found"


def test_retry_after_is_honoured_for_real(serve: Serve) -> None:
    server = serve(mock_app())
    sleeps: list[float] = []
    with Gateway("quick-limited-key", server.base_url, sleep=recording_sleep(sleeps)) as gw:
        first = gw.text_to_image("one")
        second = gw.text_to_image("two")  # 429 Retry-After: 1, then accepted
    assert sleeps == [1.0] and first.request_id != second.request_id
    with (
        Gateway("quick-limited-key", server.base_url, max_retries=0) as gw,
        pytest.raises(RateLimitError) as info,
    ):
        gw.text_to_image("three")
    assert info.value.retry_after == 1


class FailFirst:
    """Test-side fault injection (the mock's fault API comes with issue 7): answer the first
    ``times`` submits with ``status`` in the APIM shape, before the mock sees them."""

    def __init__(self, app: ASGIApp, status: int, times: int) -> None:
        self.app, self.status, self.left, self.forwarded = app, status, times, 0

    async def __call__(self, scope: dict[str, Any], receive: Any, send: Any) -> None:
        if scope["type"] == "http" and scope["method"] == "POST":
            if self.left > 0:
                self.left -= 1
                body = b'{"statusCode": %d, "message": "injected"}' % self.status
                headers = [(b"content-type", b"application/json")]
                await send(
                    {"type": "http.response.start", "status": self.status, "headers": headers}
                )
                await send({"type": "http.response.body", "body": body})
                return
            self.forwarded += 1
        await self.app(scope, receive, send)


def test_submit_retried_after_a_503_and_charged_once(serve: Serve) -> None:
    app = FailFirst(mock_app(), 503, times=1)
    server = serve(app)
    sleeps: list[float] = []
    with Gateway("test-key", server.base_url, sleep=sleeps.append, poll=TINY_POLL) as gw:
        job = gw.text_to_image("retry me")
        assert len(sleeps) == 1 and 0.3 < sleeps[0] <= 0.5  # one backoff, no Retry-After
        assert job.wait(timeout=10).status is Status.COMPLETED
    assert (app.left, app.forwarded) == (0, 1)


class StallAfterQueueing:
    """Let the mock queue (and charge) each submit, then hold the answer back: to the client
    this is a read timeout after the request went out, the ambiguous case."""

    def __init__(self, app: ASGIApp, stall: float) -> None:
        self.app, self.stall = app, stall
        self.submits: list[str] = []

    async def __call__(self, scope: dict[str, Any], receive: Any, send: Any) -> None:
        if scope["type"] != "http" or scope["method"] != "POST":
            await self.app(scope, receive, send)
            return
        self.submits.append(scope["path"])
        messages: list[dict[str, Any]] = []

        async def capture(message: dict[str, Any]) -> None:
            messages.append(message)

        await self.app(scope, receive, capture)
        await anyio.sleep(self.stall)
        for message in messages:
            await send(message)


def test_ambiguous_submit_is_not_resent(serve: Serve) -> None:
    app = StallAfterQueueing(mock_app(), stall=0.5)
    server = serve(app)
    sleeps: list[float] = []
    with (
        Gateway("test-key", server.base_url, timeout=0.2, sleep=sleeps.append) as gw,
        pytest.raises(APITimeoutError, match="may have been queued"),
    ):
        gw.text_to_image("pay once", model="seedream-4-5")
    assert app.submits == ["/byteplus/v1/getTextToImage"] and sleeps == []


def test_connection_refused_is_retried_then_raised() -> None:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]  # closed again when the block ends: nothing listens
    sleeps: list[float] = []
    with (
        Gateway("test-key", f"http://127.0.0.1:{port}", sleep=sleeps.append) as gw,
        pytest.raises(APIConnectionError) as info,
    ):
        gw.text_to_image("nobody home")
    assert len(sleeps) == 2 and not isinstance(info.value, APITimeoutError)
    assert "test-key" not in str(info.value)


def test_wait_timeout_then_resume(serve: Serve) -> None:
    server = serve(mock_app(queue_seconds=0.4))
    with Gateway("test-key", server.base_url, poll=TINY_POLL) as gw:
        job = gw.text_to_image("patience")
        with pytest.raises(WaitTimeoutError) as info:
            job.wait(timeout=0.05)
        assert info.value.last_status and info.value.last_status.status is Status.QUEUED
        assert info.value.request_id == job.request_id
        resumed = gw.wait(job.request_id, timeout=10)
    assert resumed.status is Status.COMPLETED and resumed.request_id == job.request_id


@pytest.mark.anyio
async def test_async_client_over_real_http(live_mock: ServerThread, tmp_path: Path) -> None:
    retry = RetryPolicy(initial_delay=0.01)
    async with AsyncGateway("test-key", live_mock.base_url, poll=TINY_POLL, retry=retry) as gw:
        result = await gw.run("two foxes", num_images=2, download_to=tmp_path)
        with pytest.raises(InsufficientBalanceError):
            async with AsyncGateway("broke-key", live_mock.base_url) as broke:
                await broke.text_to_image("no money")
    assert result.estimated_cost == Decimal("0.070") and len(result.files) == 2
    assert all(Image.open(f).format == "PNG" for f in result.files)
