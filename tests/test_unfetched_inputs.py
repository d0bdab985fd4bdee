"""An edit of an input URL the mock never fetched (offline by design) says so: a striped
'INPUT NOT FETCHED' band on the image, and a note in the submit's journal entry."""

from __future__ import annotations

import io
from typing import Any

import pytest
from PIL import Image

from gateway_helpers import CAT, EDIT, KEY
from mock_gateway.imaging.overlay import UNFETCHED_STRIPES
from mock_helpers import Running, running

pytestmark = pytest.mark.anyio
ELSEWHERE = "https://images.example.com/my-own-photo.png"


async def edit_of(mock: Running, url: str) -> tuple[Image.Image, dict[str, Any]]:
    body = {"prompt": "add a hat", "image_urls": [url], "image_size": "square"}
    accepted = (await mock.http.post(EDIT, json=body, headers=KEY)).json()
    mock.clock.advance(10)
    status = (await mock.http.get(accepted["polling_url"], headers=KEY)).json()
    assert status["status"] == "COMPLETED", status
    image = Image.open(io.BytesIO((await mock.http.get(status["output"]["media_url"][0])).content))
    [entry] = (await mock.control("GET", "/requests", params={"method": "POST"}))["requests"]
    return image.convert("RGB"), entry


def amber_share_of_top_rows(image: Image.Image) -> float:
    width, height = image.size
    band = image.crop((0, 0, width, max(1, round(height * 0.05))))
    amber = UNFETCHED_STRIPES[0]
    raw = band.tobytes()
    pixels = [tuple(raw[i : i + 3]) for i in range(0, len(raw), 3)]
    near = [p for p in pixels if sum(abs(a - b) for a, b in zip(p, amber, strict=True)) < 60]
    return len(near) / len(pixels)


async def test_an_unfetched_input_is_marked_on_the_image_and_in_the_journal() -> None:
    async with running(timing="fast") as mock:
        image, entry = await edit_of(mock, ELSEWHERE)
    assert amber_share_of_top_rows(image) > 0.25  # the hazard stripes across the top
    [warning] = entry["warnings"]
    assert warning["kind"] == "input-not-fetched"
    assert ELSEWHERE in warning["message"] and "fetch_remote_inputs = true" in warning["message"]


async def test_an_edit_of_a_sample_carries_no_such_mark() -> None:
    async with running(timing="fast") as mock:
        image, entry = await edit_of(mock, CAT)
    assert amber_share_of_top_rows(image) < 0.05 and entry["warnings"] == []
