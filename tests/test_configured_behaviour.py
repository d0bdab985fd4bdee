"""Assumed behaviours can be changed by a setting (docs/fidelity.md): the settings work."""

from __future__ import annotations

import asyncio
import threading
from pathlib import Path
from typing import Any

import httpx
import pytest

from gateway_helpers import BP_EDIT, BP_T2I, CAT, KEY, T0, T2I
from mock_gateway.config.settings import ConfigError, Settings
from mock_gateway.imaging.cache import ImageCache
from mock_gateway.imaging.render import RenderRequest, render
from mock_gateway.steering.clock import VirtualClock
from mock_gateway.web.app import create_app

pytestmark = pytest.mark.anyio


async def call(settings: Settings, *requests: tuple[str, str, Any, dict[str, str]]) -> list[Any]:
    app = create_app(settings, clock=VirtualClock(start=T0, rate=0.0))
    transport = httpx.ASGITransport(app=app)
    responses = []
    async with httpx.AsyncClient(transport=transport, base_url="http://m") as http:
        for method, path, body, headers in requests:
            responses.append(await http.request(method, path, json=body, headers=headers))
    return responses


def write(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "mock.toml"
    path.write_text(text)
    return path


async def test_configured_price_shows_in_402(tmp_path: Path) -> None:
    config = write(tmp_path, '[prices]\nbyteplusTextToImageSubmit = "0.04"\n')
    broke = {"Ocp-Apim-Subscription-Key": "broke-key"}
    [response] = await call(Settings.load(config), ("POST", BP_T2I, {"prompt": "x"}, broke))
    assert response.json()["message"].endswith("Required: $0.04")


async def test_price_per_request_instead_of_per_image(tmp_path: Path) -> None:
    config = write(tmp_path, "price_per_image = false\n")
    broke = {"Ocp-Apim-Subscription-Key": "broke-key"}
    body = {"prompt": "x", "num_images": 4}
    [response] = await call(Settings.load(config), ("POST", T2I, body, broke))
    assert response.json()["message"].endswith("Required: $0.035")


async def test_disabled_model_gets_model_not_found(tmp_path: Path) -> None:
    config = write(tmp_path, 'disabled_models = ["seedream-5-0-lite-text-to-image"]\n')
    [response] = await call(Settings.load(config), ("POST", T2I, {"prompt": "x"}, KEY))
    assert response.status_code == 400
    assert response.json() == {
        "error": "Model not found",
        "message": "Model 'seedream-5-0-lite-text-to-image' not found or is disabled",
    }


async def test_any_key_accepts_unknown_keys() -> None:
    headers = {"Ocp-Apim-Subscription-Key": "someone-elses"}
    [response] = await call(Settings.load(any_key=True), ("POST", T2I, {"prompt": "x"}, headers))
    assert response.status_code == 202


async def test_workers_setting_makes_jobs_wait() -> None:
    clock = VirtualClock(start=T0, rate=0.0)
    app = create_app(Settings.load(workers=1, timing="manual"), clock=clock)
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://m") as h:
        ids = [
            (await h.post(T2I, json={"prompt": p}, headers=KEY)).json()["request_id"] for p in "ab"
        ]

        async def statuses() -> list[str]:
            paths = [f"/v2/requests/status/{request_id}" for request_id in ids]
            return [(await h.get(path, headers=KEY)).json()["status"] for path in paths]

        clock.advance(1.5)
        assert await statuses() == ["PROCESSING", "QUEUED"]
        clock.advance(2.0)  # manual timing: 1 s queued + 2 s processing, one worker
        assert await statuses() == ["COMPLETED", "PROCESSING"]
        clock.advance(2.0)
        assert await statuses() == ["COMPLETED", "COMPLETED"]


async def test_retention_expires_finished_jobs(tmp_path: Path) -> None:
    config = write(tmp_path, "retention_seconds = 60\n")
    clock = VirtualClock(start=T0, rate=0.0)
    app = create_app(Settings.load(config), clock=clock)
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://m") as h:
        accepted = (await h.post(T2I, json={"prompt": "x"}, headers=KEY)).json()
        clock.advance(30)
        done = await h.get(accepted["polling_url"], headers=KEY)
        assert done.json()["status"] == "COMPLETED"
        media = done.json()["output"]["media_url"][0]
        clock.advance(60)
        assert (await h.get(accepted["polling_url"], headers=KEY)).status_code == 404
        assert (await h.get(media)).status_code == 404


async def test_same_inputs_give_byte_identical_images_and_random_seed_differs() -> None:
    clock = VirtualClock(start=T0, rate=0.0)
    app = create_app(Settings.load(), clock=clock)
    body = {"prompt": "Make the cat eye blue", "image": CAT, "size": "2K", "seed": 42}
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://m") as h:
        ids = []
        for payload in (body, body, {**body, "seed": -1}, {**body, "seed": -1}):
            ids.append((await h.post(BP_EDIT, json=payload, headers=KEY)).json()["polling_url"])
        clock.advance(60)
        images = []
        for polling_url in ids:
            status = (await h.get(polling_url, headers=KEY)).json()
            images.append((await h.get(status["output"]["media_url"][0])).content)
    assert images[0] == images[1]
    assert len({images[0], images[2], images[3]}) == 3


async def test_rendering_an_image_does_not_block_other_requests() -> None:
    """While a render is held inside its worker thread, a status poll is answered."""
    clock = VirtualClock(start=T0, rate=0.0)
    app = create_app(Settings.load(), clock=clock)
    started, release = threading.Event(), threading.Event()

    def held_render(request: RenderRequest) -> bytes:
        started.set()
        release.wait(30)  # bounded: a broken mock fails the test instead of hanging it
        return render(request)

    app.state.mock.images = ImageCache(renderer=held_render)
    order: list[str] = []
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://m") as h:
        body = {"prompt": "held", "seed": 3}
        accepted = (await h.post(BP_T2I, json=body, headers=KEY)).json()
        clock.advance(60)
        status = (await h.get(accepted["polling_url"], headers=KEY)).json()

        async def download() -> None:
            image = await h.get(status["output"]["media_url"][0])
            assert image.status_code == 200
            order.append("image")

        async def poll() -> None:
            assert await asyncio.to_thread(started.wait, 30)  # the render is in its thread
            assert (await h.get(accepted["polling_url"], headers=KEY)).status_code == 200
            order.append("status")
            release.set()

        await asyncio.gather(download(), poll())
    assert order == ["status", "image"]


def test_config_errors_name_the_key(tmp_path: Path) -> None:
    for text, fragment in [
        ("timing = 'slow'\n", "timing"),
        ("[[keys]]\nkey = 'k'\nbalance_usd = 'lots'\n", "keys.0.balance_usd"),
        ("[rate_limits]\nsubmit = 'many'\n", "rate_limits.submit"),
        ("[prices]\nliteEditSubmit = -1\n", "prices.liteEditSubmit"),
    ]:
        with pytest.raises(ConfigError, match=fragment):
            Settings.load(write(tmp_path, text))


def test_a_config_file_with_several_mistakes_reports_every_one(tmp_path: Path) -> None:
    path = write(tmp_path, "timing = 'slow'\nworkerz = 3\n[webhooks]\nmax_attempts = 'five'\n")
    with pytest.raises(ConfigError) as caught:
        Settings.load(path)
    message = str(caught.value)
    assert message.startswith(f"{path}: 3 problems: (1) line 1: timing: 'slow' is not one of")
    assert "(2) line 2: workerz: unknown setting" in message
    assert "(3) line 4: webhooks.max_attempts: 'five' is not of type 'integer'" in message
    faults = write(tmp_path, "[[faults]]\nstatus = 999\n[[faults]]\nstatus = 500\ntimes = 0\n")
    with pytest.raises(ConfigError, match=r"2 problems: \(1\) .*faults\.0\..*\(2\) .*faults\.1"):
        Settings.load(faults)
    with pytest.raises(ConfigError, match=r", line 1: timing: 'slow'"):  # one: as before
        Settings.load(write(tmp_path, "timing = 'slow'\n"))
