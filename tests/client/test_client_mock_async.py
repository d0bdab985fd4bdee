"""AsyncGateway against the mock in-process (httpx.ASGITransport, the app's lifespan running)."""

from __future__ import annotations

import builtins
import io
import threading
from decimal import Decimal
from pathlib import Path
from typing import Any

import httpx
import pytest
from PIL import Image
from seedream_testing import SAMPLE_URL, SAMPLE_URL_2, InProcess, png_bytes

from seedream_client import (
    AuthenticationError,
    BadRequestError,
    CostLimitError,
    GatewayError,
    InsufficientBalanceError,
    JobFailedError,
    JobStatus,
    ModelNotFoundError,
    NotFoundError,
    PermissionDeniedError,
    RateLimitError,
    Status,
    WaitTimeoutError,
)

pytestmark = pytest.mark.anyio


def open_image(path: Path) -> Image.Image:
    image = Image.open(io.BytesIO(path.read_bytes()))
    image.load()
    return image


async def test_text_to_image_wait_and_download(mock: InProcess, tmp_path: Path) -> None:
    async with mock.gateway() as gw:
        job = await gw.text_to_image("a red fox in snow", num_images=2, image_size=(320, 200))
        assert job.request_id.startswith("seedream-5-0-lite-text-to-image_")
        assert job.estimated_cost == Decimal("0.070") and job.model == "seedream-5-0-lite"
        assert job.polling_url and job.polling_url.endswith(job.request_id)
        seen = [s.status async for s in job.updates()]
        assert seen[-1] is Status.COMPLETED and seen == sorted(set(seen), key=list(Status).index)
        files = await job.download(tmp_path)
    assert [f.suffix for f in files] == [".png", ".png"]
    for path in files:
        image = open_image(path)
        assert (image.format, image.size) == ("PNG", (320, 200))


async def test_byteplus_edit_from_local_file_is_jpeg(mock: InProcess, tmp_path: Path) -> None:
    source = tmp_path / "input.png"
    source.write_bytes(png_bytes((300, 200)))
    async with mock.gateway() as gw:
        job = await gw.edit("make it blue", source, model="seedream-4-5", size="2K", seed=7)
        assert job.request_id.startswith("byteplus_") and job.estimated_cost == Decimal("0.2")
        status = await job.wait(timeout=10)
        assert status.media_type == "image/jpeg" and status.model_id == "byteplus"
        [path] = await gw.download(status, tmp_path / "out")
    image = open_image(path)
    assert (image.format, image.size) == ("JPEG", (2048, 2048))


async def test_lite_edit_multi_edit_and_seededit(mock: InProcess, tmp_path: Path) -> None:
    async with mock.gateway() as gw:
        lite = await gw.edit("add sunglasses", [SAMPLE_URL], image_size="square")
        multi = await gw.multi_edit("girl holding the cat", [SAMPLE_URL, SAMPLE_URL_2], size="2K")
        seededit = await gw.edit("blue eyes", SAMPLE_URL, model="seededit-3-0", size="adaptive")
        for job in (lite, multi, seededit):
            assert (await job.wait(timeout=10)).status is Status.COMPLETED
        [png] = await lite.download(tmp_path)
    assert open_image(png).size == (512, 512)


async def test_run_submits_waits_and_downloads(mock: InProcess, tmp_path: Path) -> None:
    updates: list[JobStatus] = []
    async with mock.gateway() as gw:
        result = await gw.run("a lighthouse", download_to=tmp_path, on_update=updates.append)
    assert result.status.status is Status.COMPLETED
    assert result.estimated_cost == Decimal("0.035") and len(result.files) == 1
    assert updates[-1] == result.status
    assert open_image(result.files[0]).format == "PNG"


async def test_status_of_another_keys_job_is_not_found(mock: InProcess) -> None:
    async with mock.gateway() as gw, mock.gateway("limited-key") as other:
        job = await gw.text_to_image("mine")
        with pytest.raises(NotFoundError) as info:
            await other.status(job.request_id)
    assert info.value.status_code == 404 and info.value.request_id == job.request_id
    assert info.value.body and "error" in info.value.body  # the gateway's shape


async def test_every_error_class_from_a_real_answer(make_mock: Any) -> None:
    mock: InProcess = await make_mock(disabled_models=["seedream-5-0-lite-text-to-image"])
    cases: list[tuple[str, type[GatewayError], dict[str, Any]]] = [
        ("broke-key", InsufficientBalanceError, {"model": "seedream-4-5"}),
        ("forbidden-key", PermissionDeniedError, {}),
        ("no-such-key", AuthenticationError, {}),
        ("test-key", ModelNotFoundError, {}),
    ]
    for key, error, kw in cases:
        async with mock.gateway(key) as gw:
            with pytest.raises(error) as info:
                await gw.text_to_image("a cat", **kw)
        assert info.value.status_code == {"broke-key": 402, "forbidden-key": 403,
                                          "no-such-key": 401, "test-key": 400}[key]  # fmt: skip
        assert isinstance(info.value.body, dict) and info.value.body.get("message")
        if key == "broke-key":
            assert info.value.required_usd == Decimal("0.2")  # type: ignore[attr-defined]
        if key in {"forbidden-key", "no-such-key"}:
            assert "statusCode" in info.value.body  # API Management's shape
    async with mock.gateway() as gw:
        with pytest.raises(BadRequestError) as bad:  # passes local checks; the mock decodes it
            await gw.edit("x", "data:image/png;base64,AAAA", model="seedream-4-5")
        assert type(bad.value) is BadRequestError and "image" in str(bad.value)


async def test_rate_limit_error_carries_retry_after(mock: InProcess) -> None:
    async with mock.gateway("limited-key", max_retries=0) as gw:
        with pytest.raises(RateLimitError) as info:
            for _ in range(5):
                await gw.text_to_image("again")
    assert info.value.status_code == 429 and info.value.retry_after and info.value.retry_after > 0


async def test_safety_checker_failure_raises_job_failed(mock: InProcess) -> None:
    async with mock.gateway() as gw:
        job = await gw.text_to_image("something unsafe")
        with pytest.raises(JobFailedError) as info:
            await job.wait(timeout=10)
        unchecked = await gw.text_to_image("something unsafe", enable_safety_checker=False)
        assert (await unchecked.wait(timeout=10)).status is Status.COMPLETED
    assert info.value.error_text and info.value.request_id == job.request_id
    assert info.value.status.status is Status.FAILED


async def test_wait_timeout_keeps_the_id_and_can_resume(make_mock: Any) -> None:
    mock: InProcess = await make_mock(timing="manual")  # frozen clock: jobs stay QUEUED
    async with mock.gateway() as gw:
        job = await gw.text_to_image("a slow one")
        with pytest.raises(WaitTimeoutError) as info:
            await job.wait(timeout=0.2)
        assert info.value.request_id == job.request_id
        assert info.value.last_status and info.value.last_status.status is Status.QUEUED
        resumed = gw.job(info.value.request_id)
        assert (await resumed.status()).status is Status.QUEUED


async def test_max_cost_refuses_before_sending(mock: InProcess) -> None:
    sent: list[httpx.Request] = []

    class Spy(httpx.AsyncBaseTransport):
        async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
            sent.append(request)
            return await mock.transport().handle_async_request(request)

    async with mock.gateway(transport=Spy()) as gw:
        with pytest.raises(CostLimitError):
            await gw.text_to_image("four please", num_images=4, max_cost="0.1")
        job = await gw.text_to_image("one please", max_cost="0.1")
    assert len(sent) == 1 and job.estimated_cost == Decimal("0.035")


async def test_file_io_stays_off_the_event_loop(
    mock: InProcess, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Reading a local image and writing downloads happen in worker threads."""
    loop_thread = threading.get_ident()
    opened: list[tuple[str, bool]] = []
    real_open = builtins.open

    def spy_open(file: Any, *args: Any, **kwargs: Any) -> Any:
        if str(file).startswith(str(tmp_path)):
            opened.append((Path(file).name, threading.get_ident() == loop_thread))
        return real_open(file, *args, **kwargs)

    source = tmp_path / "input.png"
    source.write_bytes(png_bytes())
    monkeypatch.setattr(builtins, "open", spy_open)
    monkeypatch.setattr(io, "open", spy_open)
    async with mock.gateway() as gw:
        job = await gw.edit("brighter", source, model="seedream-4-5", size="2K")
        [saved] = await job.download(tmp_path / "out")
    names = [name for name, _ in opened]
    assert "input.png" in names and f"{saved.name}.part" in names
    assert not [name for name, on_loop in opened if on_loop]
