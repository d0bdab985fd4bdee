"""Big bodies and heavy images are parsed and decoded off the event loop, a few at a time,
so a health probe (or any status poll) keeps answering while they arrive."""

from __future__ import annotations

import base64
import json
import struct
import time
import zlib
from functools import cache

import anyio
import pytest

from gateway_helpers import BP_EDIT, T2I
from mock_helpers import Running, running

pytestmark = pytest.mark.anyio

BROKE = {"Ocp-Apim-Subscription-Key": "broke-key", "Content-Type": "application/json"}
SENDERS = 4
PER_SENDER = 1


def _chunk(kind: bytes, data: bytes) -> bytes:
    crc = zlib.crc32(kind + data) & 0xFFFFFFFF
    return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", crc)


@cache
def heavy_png_data_url() -> str:
    """A 6000x6000 16-bit RGBA PNG: 36 megapixels (inside the documented limit), 280 KB,
    and over a second to decode. Written by hand: Pillow cannot save 16-bit RGBA."""
    width = height = 6000
    packer = zlib.compressobj(9)
    row = bytes(1 + width * 8)  # filter byte 0, then 8 bytes per pixel
    idat = b"".join(packer.compress(row) for _ in range(height)) + packer.flush()
    header = struct.pack(">IIBBBBB", width, height, 16, 6, 0, 0, 0)
    png = b"\x89PNG\r\n\x1a\n" + _chunk(b"IHDR", header) + _chunk(b"IDAT", idat)
    png += _chunk(b"IEND", b"")
    return "data:image/png;base64," + base64.b64encode(png).decode()


async def worst_health_latency(mock: Running, path: str, bodies: list[bytes]) -> float:
    """Send ``bodies`` from SENDERS concurrent clients while polling ``/_health``; the
    longest wait between two health answers, in seconds."""
    worst = 0.0
    done = anyio.Event()

    async def send(chunk: list[bytes]) -> None:
        for body in chunk:
            response = await mock.http.post(path, content=body, headers=BROKE)
            assert response.status_code in (400, 402), response.text

    async def probe() -> None:
        # The gap between two answers, not one request's duration: a loop blocked while the
        # probe sleeps delays the next answer just the same.
        nonlocal worst
        previous = time.perf_counter()
        while True:
            assert (await mock.http.get("/_health")).status_code == 200
            answered = time.perf_counter()
            worst = max(worst, answered - previous)
            previous = answered
            if done.is_set():
                return
            await anyio.sleep(0.01)

    with anyio.fail_after(120):
        async with anyio.create_task_group() as tasks:
            tasks.start_soon(probe)
            async with anyio.create_task_group() as senders:
                for number in range(SENDERS):
                    senders.start_soon(send, bodies[number::SENDERS])
            done.set()
    return worst


async def test_heavy_images_do_not_stall_the_health_probe() -> None:
    body = json.dumps({"prompt": "x", "image": heavy_png_data_url()}).encode()
    async with running() as mock:
        worst = await worst_health_latency(mock, BP_EDIT, [body] * (SENDERS * PER_SENDER))
    assert worst < 0.5, f"/_health took {worst:.2f} s while images were decoded"


async def test_huge_json_bodies_do_not_stall_the_health_probe() -> None:
    fields = {f"field{number}": [number, "x" * 10, 1.5] for number in range(30_000)}
    body = json.dumps({"prompt": "x", "padding": "x" * 12_000_000, **fields}).encode()
    async with running() as mock:
        worst = await worst_health_latency(mock, T2I, [body] * SENDERS)
        [entry, *_] = (await mock.control("GET", "/requests"))["requests"]
    assert worst < 0.5, f"/_health took {worst:.2f} s while bodies were parsed"
    assert entry["body_truncated"] is True and entry["body_bytes"] == len(body)


async def test_a_body_of_millions_of_values_is_refused_before_it_is_parsed() -> None:
    body = json.dumps({"prompt": "x", "values": list(range(1_000_000))}).encode()
    async with running() as mock:
        worst = await worst_health_latency(mock, T2I, [body] * SENDERS)
        response = await mock.http.post(T2I, content=body, headers=BROKE)
    assert response.status_code == 400
    assert "more than 100000 JSON values" in response.json()["message"]
    assert worst < 0.5, f"/_health took {worst:.2f} s while bodies were refused"
