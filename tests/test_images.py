"""The image renderer, the input probe, the bundled samples and the render cache."""

from __future__ import annotations

import io
import os
import struct
import threading
import time
import zlib
from pathlib import Path

import anyio
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from PIL import Image, ImageChops, ImageStat

from mock_gateway.imaging import (
    ImageCache,
    ImageInfo,
    InvalidImage,
    RenderRequest,
    SampleImages,
    probe_image,
    render,
)

SAMPLES_DIR = Path(__file__).resolve().parents[1] / "fixtures" / "images"
CAT_URL = (
    "https://pub-582b7213209642b9b995c96c95a30381.r2.dev/byteplus/1757499948018-hntkjsg9kj.jpg"
)
MODEL_URL = "https://pub-582b7213209642b9b995c96c95a30381.r2.dev/model.png"
PROMPT = "A fluffy orange cat sitting on a windowsill at sunset, cinematic lighting"


def request(**overrides: object) -> RenderRequest:
    fields: dict[str, object] = {
        "model": "seedream-5-0-lite-text-to-image",
        "prompt": PROMPT,
        "seed": 42,
        "width": 256,
        "height": 192,
        "media_type": "image/png",
    }
    fields.update(overrides)
    return RenderRequest(**fields)  # type: ignore[arg-type]


def decode(data: bytes) -> Image.Image:
    image = Image.open(io.BytesIO(data))
    image.load()
    return image


def encode(image: Image.Image, fmt: str, **options: object) -> bytes:
    out = io.BytesIO()
    image.save(out, fmt, **options)
    return out.getvalue()


def solid(colour: tuple[int, int, int], size: tuple[int, int] = (64, 48)) -> bytes:
    return encode(Image.new("RGB", size, colour), "PNG")


def mean_difference(a: bytes, b: bytes) -> float:
    """Mean absolute per-channel difference (0..255) of two same-sized images."""
    diff = ImageChops.difference(decode(a).convert("RGB"), decode(b).convert("RGB"))
    return sum(ImageStat.Stat(diff).mean) / 3


def png_claiming(width: int, height: int) -> bytes:
    """A structurally valid PNG whose header claims ``width`` x ``height`` (tiny IDAT)."""

    def chunk(kind: bytes, body: bytes) -> bytes:
        crc = struct.pack(">I", zlib.crc32(kind + body))
        return struct.pack(">I", len(body)) + kind + body + crc

    ihdr = struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0)
    idat = zlib.compress(b"\x00" * 64)
    return b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", ihdr) + chunk(b"IDAT", idat) + chunk(b"IEND", b"")


def jpeg_claiming(width: int, height: int) -> bytes:
    """A real small JPEG with its SOF0 frame header patched to claim ``width`` x ``height``."""
    data = bytearray(encode(Image.new("RGB", (32, 32), (200, 10, 10)), "JPEG"))
    sof = data.index(b"\xff\xc0")
    data[sof + 5 : sof + 9] = struct.pack(">HH", height, width)
    return bytes(data)


# --- render -----------------------------------------------------------------------------------


@pytest.mark.parametrize("media_type", ["image/png", "image/jpeg"])
def test_render_is_deterministic(media_type: str) -> None:
    req = request(media_type=media_type, watermark=True, inputs=(solid((200, 30, 30)),))
    assert render(req) == render(request(media_type=media_type, watermark=True, inputs=req.inputs))


@pytest.mark.parametrize(
    ("width", "height", "media_type"),
    [
        (1, 1, "image/png"),
        (1, 1, "image/jpeg"),
        (7, 4096, "image/png"),
        (4096, 7, "image/jpeg"),
        (33, 577, "image/jpeg"),
        (1024, 1024, "image/png"),
        (4096, 4096, "image/jpeg"),
    ],
)
def test_render_has_the_exact_size_and_format(width: int, height: int, media_type: str) -> None:
    started = time.perf_counter()
    data = render(request(width=width, height=height, media_type=media_type, watermark=True))
    elapsed = time.perf_counter() - started
    image = decode(data)
    assert image.size == (width, height)
    assert image.format == ("PNG" if media_type == "image/png" else "JPEG")
    assert image.mode == "RGB"
    assert elapsed < 5.0  # typically ~0.4 s for 4096x4096; generous for slow CI machines


def test_png_1024_is_small() -> None:
    assert len(render(request(width=1024, height=1024))) < 1_000_000


@pytest.mark.parametrize(
    "change",
    [{"seed": 43}, {"index": 2}, {"prompt": "A lighthouse in a storm"}, {"model": "seedream-4-5"}],
)
def test_any_change_of_the_scene_gives_a_clearly_different_image(change: dict[str, object]) -> None:
    assert mean_difference(render(request()), render(request(**change))) > 12


def test_watermark_is_added_bottom_right() -> None:
    plain = decode(render(request(width=512, height=512))).convert("RGB")
    marked = decode(render(request(width=512, height=512, watermark=True))).convert("RGB")

    def changed(box: tuple[int, int, int, int]) -> bool:
        return ImageChops.difference(plain.crop(box), marked.crop(box)).getbbox() is not None

    # The mark sits in the bottom-right corner; the caption above it may move up, no more.
    assert changed((384, 448, 512, 512))
    assert not changed((0, 0, 512, 256))


def test_edit_output_derives_from_the_input() -> None:
    def mean(colour: tuple[int, int, int]) -> list[float]:
        data = render(request(inputs=(solid(colour),), prompt="make it pop"))
        return list(ImageStat.Stat(decode(data).convert("RGB")).mean)

    red, blue = mean((220, 20, 20)), mean((20, 20, 220))
    assert red[0] > red[2] + 60
    assert blue[2] > blue[0] + 60


def test_edit_with_several_inputs_and_sample_photos() -> None:
    samples = SampleImages(SAMPLES_DIR)
    inputs = (samples.lookup(MODEL_URL) or b"", samples.lookup(CAT_URL) or b"")
    req = request(width=640, height=640, inputs=inputs, model="seedream-4-0-multi-image-edit")
    image = decode(render(req))
    assert image.size == (640, 640)
    assert mean_difference(render(req), render(request(width=640, height=640))) > 12


def test_undecodable_inputs_render_as_if_absent() -> None:
    assert render(request(inputs=(b"not an image",))) == render(request())


def test_transparent_and_odd_mode_inputs_render() -> None:
    rgba = encode(Image.new("RGBA", (40, 40), (0, 200, 0, 0)), "PNG")
    grey = encode(Image.new("L", (40, 90), 128), "JPEG")
    cmyk = encode(Image.new("CMYK", (50, 40), (0, 255, 255, 0)), "JPEG")
    for inputs in ((rgba,), (grey, rgba), (cmyk,)):
        assert decode(render(request(inputs=inputs))).size == (256, 192)


@pytest.mark.parametrize(
    "prompt",
    ["", "   \n\t ", "x" * 5000, "Crème brûlée — “straße” 猫 🐈\x00\x1b[31m", "word " * 2000],
    ids=["empty", "blank", "one-long-word", "unicode-and-controls", "many-words"],
)
def test_any_prompt_renders(prompt: str) -> None:
    for width, height in ((300, 200), (64, 64), (4096, 20)):
        assert decode(render(request(prompt=prompt, width=width, height=height))).size == (
            width,
            height,
        )


@pytest.mark.parametrize(
    "bad",
    [
        {"width": 0},
        {"height": 4097},
        {"seed": -1},
        {"seed": 2**31},
        {"media_type": "image/webp"},
        {"index": 0},
    ],
)
def test_render_request_rejects_out_of_range_fields(bad: dict[str, object]) -> None:
    with pytest.raises(ValueError):
        request(**bad)


def test_render_request_repr_leaves_out_input_bytes() -> None:
    req = request(inputs=(b"\x89PNG" + b"A" * 10_000,))
    assert "AAAA" not in repr(req)
    assert req.fingerprint() == request(inputs=req.inputs).fingerprint()
    assert req.fingerprint() != request(inputs=(b"other",)).fingerprint()


# --- probe_image ------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("fmt", "media_type"), [("JPEG", "image/jpeg"), ("PNG", "image/png"), ("WEBP", "image/webp")]
)
def test_probe_accepts_supported_formats(fmt: str, media_type: str) -> None:
    data = encode(Image.new("RGB", (64, 48), (10, 120, 200)), fmt)
    assert probe_image(data) == ImageInfo(format=fmt, width=64, height=48, media_type=media_type)


@pytest.mark.parametrize(
    ("size", "ok"),
    [
        ((15, 15), True),
        ((14, 100), False),
        ((100, 14), False),
        ((320, 20), True),
        ((340, 20), False),
    ],
)
def test_probe_side_and_aspect_limits(size: tuple[int, int], ok: bool) -> None:
    data = encode(Image.new("RGB", size), "PNG")
    if ok:
        assert probe_image(data).width == size[0]
    else:
        with pytest.raises(InvalidImage, match=r"at least 15 pixels|aspect ratio"):
            probe_image(data)


def test_probe_rejects_too_many_bytes() -> None:
    data = encode(Image.new("RGB", (64, 64)), "PNG")
    with pytest.raises(InvalidImage, match="over the"):
        probe_image(data, max_bytes=len(data) - 1)
    with pytest.raises(InvalidImage, match="10 MB"):
        probe_image(b"\x89PNG\r\n\x1a\n" + bytes(10 * 1024 * 1024))
    with pytest.raises(InvalidImage, match="empty"):
        probe_image(b"")


def test_probe_rejects_too_many_pixels() -> None:
    with pytest.raises(InvalidImage, match="megapixels"):
        probe_image(encode(Image.new("RGB", (100, 100)), "PNG"), max_pixels=9_999)


@pytest.mark.parametrize(
    "data",
    [png_claiming(7000, 7000), png_claiming(100_000, 100_000), jpeg_claiming(60_000, 60_000)],
    ids=["png-49mp", "png-10gp", "jpeg-3.6gp"],
)
def test_probe_rejects_huge_headers_without_decoding(data: bytes) -> None:
    started = time.perf_counter()
    with pytest.raises(InvalidImage, match="megapixels"):
        probe_image(data)
    assert time.perf_counter() - started < 0.5


@pytest.mark.parametrize(
    ("fmt", "name"), [("GIF", "GIF"), ("BMP", "BMP"), ("TIFF", "TIFF"), ("ICO", "ICO")]
)
def test_probe_names_unsupported_formats(fmt: str, name: str) -> None:
    with pytest.raises(InvalidImage, match=f"unsupported image format {name}"):
        probe_image(encode(Image.new("RGB", (64, 64)), fmt))


@pytest.mark.parametrize("fmt", ["JPEG", "PNG", "WEBP"])
def test_probe_rejects_truncated_files(fmt: str) -> None:
    noisy = Image.frombytes("RGB", (128, 128), os.urandom(128 * 128 * 3))
    data = encode(noisy, fmt)
    with pytest.raises(InvalidImage, match=f"{fmt} image is (truncated|corrupt)"):
        probe_image(data[: len(data) // 2])


def test_probe_rejects_garbage() -> None:
    for data in (b"hello world", os.urandom(4096), b"\xff\xd8\xff" + os.urandom(500), b"RIFF"):
        with pytest.raises(InvalidImage):
            probe_image(data)


_VALID = [encode(Image.new("RGB", (40, 30), (9, 99, 199)), fmt) for fmt in ("JPEG", "PNG", "WEBP")]


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    base=st.sampled_from(_VALID),
    edits=st.lists(st.tuples(st.integers(0, 10_000), st.integers(0, 255)), max_size=8),
    cut=st.integers(0, 10_000),
    noise=st.binary(max_size=64),
)
def test_probe_raises_only_invalid_image(
    base: bytes, edits: list[tuple[int, int]], cut: int, noise: bytes
) -> None:
    data = bytearray(base)
    for position, value in edits:
        data[position % len(data)] = value
    fuzzed = bytes(data[: max(1, cut % (len(data) + 1))]) + noise
    for candidate in (fuzzed, noise):
        try:
            info = probe_image(candidate)
        except InvalidImage as exc:
            assert str(exc)
        else:
            assert info.format in ("JPEG", "PNG", "WEBP")


# --- SampleImages -----------------------------------------------------------------------------


def test_documented_sample_urls_map_to_bundled_images() -> None:
    samples = SampleImages(SAMPLES_DIR)
    assert set(samples.urls()) == {CAT_URL, MODEL_URL}
    cat, model = samples.lookup(CAT_URL), samples.lookup(MODEL_URL)
    assert cat is not None and model is not None
    assert probe_image(cat).format == "JPEG"
    assert probe_image(model).format == "PNG"
    for data in (cat, model):
        info = probe_image(data)
        assert 768 <= max(info.width, info.height) <= 1024
        assert len(data) < 300 * 1024


def test_sample_lookup_is_exact() -> None:
    samples = SampleImages(SAMPLES_DIR)
    for url in (CAT_URL + "?v=1", MODEL_URL + "/", MODEL_URL.upper(), "model.png", ""):
        assert samples.lookup(url) is None


def test_samples_by_name() -> None:
    samples = SampleImages(SAMPLES_DIR)
    assert sorted(samples.names()) == ["cat.jpg", "model.png"]
    assert samples.get("cat.jpg") == samples.lookup(CAT_URL)
    assert samples.media_type("model.png") == "image/png"
    for name in ("missing.png", "../images/cat.jpg", "samples.toml", "make_samples.py"):
        assert samples.get(name) is None


@pytest.mark.parametrize(
    "mapping",
    [
        'samples = "nope"',
        '[[samples]]\nname = "a.png"\nurl = "https://x/a.png"',
        '[[samples]]\nname = "../a.png"\nurl = "https://x/a.png"\nmedia_type = "image/png"',
        '[[samples]]\nname = "gone.png"\nurl = "https://x/a.png"\nmedia_type = "image/png"',
        "not toml [",
    ],
)
def test_broken_sample_mappings_fail_loudly(tmp_path: Path, mapping: str) -> None:
    (tmp_path / "a.png").write_bytes(solid((1, 2, 3)))
    (tmp_path / "samples.toml").write_text(mapping)
    with pytest.raises(ValueError):
        SampleImages(tmp_path)


def test_missing_sample_mapping(tmp_path: Path) -> None:
    with pytest.raises(FileNotFoundError):
        SampleImages(tmp_path)


# --- ImageCache -------------------------------------------------------------------------------


class CountingRenderer:
    def __init__(self, delay: float = 0.0, fail: bool = False) -> None:
        self.calls: list[RenderRequest] = []
        self.delay, self.fail = delay, fail
        self.lock = threading.Lock()

    def __call__(self, req: RenderRequest) -> bytes:
        with self.lock:
            self.calls.append(req)
        time.sleep(self.delay)
        if self.fail:
            raise RuntimeError("renderer broke")
        return f"{req.seed}:".encode().ljust(10, b".")


def test_concurrent_callers_share_one_render() -> None:
    renderer = CountingRenderer(delay=0.05)
    cache = ImageCache(renderer=renderer)
    results: list[bytes] = []

    async def fetch() -> None:
        results.append(await cache.get_or_render("job/1.png", request(seed=7)))

    async def main() -> None:
        async with anyio.create_task_group() as group:
            for _ in range(20):
                group.start_soon(fetch)
        results.append(await cache.get_or_render("job/1.png", request(seed=7)))

    anyio.run(main)
    assert len(renderer.calls) == 1
    assert results == [b"7:........"] * 21
    assert cache.renders == 1 and cache.hits == 20


def test_cache_evicts_least_recently_used_over_budget() -> None:
    renderer = CountingRenderer()
    cache = ImageCache(max_bytes=25, renderer=renderer)  # room for two 10-byte images

    async def main() -> None:
        await cache.get_or_render("a", request(seed=1))
        await cache.get_or_render("b", request(seed=2))
        await cache.get_or_render("a", request(seed=1))  # a is now the most recently used
        await cache.get_or_render("c", request(seed=3))  # evicts b
        assert "a" in cache and "c" in cache and "b" not in cache
        assert cache.total_bytes == 20 and len(cache) == 2
        await cache.get_or_render("b", request(seed=2))  # rendered again, evicts a

    anyio.run(main)
    assert [req.seed for req in renderer.calls] == [1, 2, 3, 2]
    assert "a" not in cache


def test_cache_keeps_nothing_larger_than_its_budget_and_discards_by_prefix() -> None:
    renderer = CountingRenderer()
    cache = ImageCache(max_bytes=100, renderer=renderer)

    async def main() -> None:
        for key in ("job1/1.png", "job1/2.png", "job2/1.png"):
            await cache.get_or_render(key, request(seed=1))
        cache.discard_prefix("job1/")
        assert len(cache) == 1 and "job2/1.png" in cache and cache.total_bytes == 10
        tiny = ImageCache(max_bytes=5, renderer=renderer)
        await tiny.get_or_render("x", request())
        assert len(tiny) == 0 and tiny.total_bytes == 0

    anyio.run(main)


def test_cache_does_not_keep_images_of_a_job_discarded_while_rendering() -> None:
    cache = ImageCache(renderer=CountingRenderer(delay=0.05))

    async def main() -> None:
        async with anyio.create_task_group() as group:
            group.start_soon(cache.get_or_render, "job/1.png", request())
            await anyio.sleep(0.01)
            cache.discard_prefix("job/")
        assert len(cache) == 0

    anyio.run(main)


def test_render_errors_reach_every_waiter_and_are_not_cached() -> None:
    renderer = CountingRenderer(delay=0.02, fail=True)
    cache = ImageCache(renderer=renderer)
    errors: list[str] = []

    async def fetch() -> None:
        try:
            await cache.get_or_render("k", request())
        except RuntimeError as exc:
            errors.append(str(exc))

    async def main() -> None:
        async with anyio.create_task_group() as group:
            for _ in range(5):
                group.start_soon(fetch)
        await fetch()

    anyio.run(main)
    assert errors == ["renderer broke"] * 6
    assert len(renderer.calls) == 2  # one shared failure, then a fresh attempt


def test_cache_renders_real_images_off_the_event_loop() -> None:
    cache = ImageCache()
    req = request(width=320, height=240, media_type="image/jpeg")

    async def main() -> bytes:
        return await cache.get_or_render("r", req)

    assert anyio.run(main) == render(req)
