"""Rendering a mock result image: the request type, the pipeline and the encoders.

``render`` is synchronous and CPU-bound (the app runs it in a worker thread) and
deterministic: every random choice comes from a ``random.Random`` seeded with a SHA-256 of
the request, so the same request always gives byte-identical output.
"""

from __future__ import annotations

import hashlib
import io
import random
from dataclasses import dataclass, field

from PIL import Image, ImageOps

from mock_gateway.imaging.overlay import Caption, decorate
from mock_gateway.imaging.scene import edit_base, fit_within, generated_background, make_palette

MAX_SIDE = 4096
MAX_SEED = 2**31 - 1
FORMATS = {"image/png": "PNG", "image/jpeg": "JPEG"}

# Inputs are validated by ``probe_image`` before they get here; this is a second, looser guard
# so a bomb that slipped through cannot take the worker down.
_MAX_INPUT_PIXELS = 64_000_000
_EDIT_CANVAS = 1024
_JPEG_QUALITY = 90
_PNG_COMPRESS_LEVEL = 6


@dataclass(frozen=True, slots=True)
class RenderRequest:
    """Everything that determines one output image."""

    model: str
    prompt: str
    seed: int
    width: int
    height: int
    media_type: str
    watermark: bool = False
    # Decoded input images of an edit; kept out of repr so a log line never holds 10 MB.
    inputs: tuple[bytes, ...] = field(default=(), repr=False)
    index: int = 1
    unfetched_inputs: int = 0  # input URLs whose pixels the mock never had: marked on the image

    def __post_init__(self) -> None:
        for name, value in (("width", self.width), ("height", self.height)):
            if not 1 <= value <= MAX_SIDE:
                raise ValueError(f"{name} must be between 1 and {MAX_SIDE}, got {value}")
        if not 0 <= self.seed <= MAX_SEED:
            raise ValueError(f"seed must be between 0 and {MAX_SEED}, got {self.seed}")
        if self.media_type not in FORMATS:
            raise ValueError(
                f"media_type must be one of {sorted(FORMATS)}, got {self.media_type!r}"
            )
        if self.index < 1:
            raise ValueError(f"index is 1-based, got {self.index}")

    def fingerprint(self) -> str:
        """A hex SHA-256 over every field (inputs included): equal requests, equal fingerprints."""
        digest = hashlib.sha256()
        for part in (self.model, self.prompt, self.seed, self.width, self.height):
            digest.update(f"{part}\x00".encode())
        digest.update(f"{self.media_type}\x00{self.watermark}\x00{self.index}\x00".encode())
        if self.unfetched_inputs:  # (absent otherwise, so earlier fingerprints still hold)
            digest.update(f"unfetched {self.unfetched_inputs}\x00".encode())
        for data in self.inputs:
            digest.update(hashlib.sha256(data).digest())
        return digest.hexdigest()


def render(req: RenderRequest) -> bytes:
    """The encoded image (PNG or JPEG per ``req.media_type``) of exactly width x height."""
    size = (req.width, req.height)
    rng = _rng(req)
    palette = make_palette(rng, req.prompt)
    sources = [src for src in (_open_input(data, size) for data in req.inputs) if src is not None]
    if sources:
        # Compose no larger than the main input (upscaling first would add nothing but cost;
        # at least _EDIT_CANVAS for the thumbnails' sake), then scale once to the output size.
        work = fit_within(size, max(_EDIT_CANVAS, *sources[0].size))
        edited = edit_base(sources, generated_background(rng, palette, work), palette)
        image = edited if edited.size == size else edited.resize(size, Image.Resampling.BICUBIC)
    else:
        image = generated_background(rng, palette, size)
    caption = Caption(
        prompt=req.prompt,
        model=req.model,
        seed=req.seed,
        index=req.index,
        edited_inputs=len(sources),
        unfetched_inputs=req.unfetched_inputs,
    )
    decorate(image, caption, accent=palette.accent, watermark=req.watermark)
    return _encode(image, FORMATS[req.media_type])


def _rng(req: RenderRequest) -> random.Random:
    """The request's random source; the inputs and the output format do not change the scene."""
    material = f"{req.model}\x00{req.prompt}\x00{req.seed}\x00{req.index}".encode()
    return random.Random(int.from_bytes(hashlib.sha256(material).digest()[:16], "big"))


def _open_input(data: bytes, target: tuple[int, int]) -> Image.Image | None:
    """Decode one input for use as a layer, or None when it is not a usable image."""
    try:
        with Image.open(io.BytesIO(data)) as opened:
            width, height = opened.size
            if width < 1 or height < 1 or width * height > _MAX_INPUT_PIXELS:
                return None
            # JPEG can decode at 1/2, 1/4 or 1/8 scale: far quicker for a big photo.
            opened.draft("RGB", target)
            image = ImageOps.exif_transpose(opened)
            if image.has_transparency_data:
                return image.convert("RGBA")
            return image.convert("RGB")
    except Exception:  # a broken input renders as if absent; probe_image reports such inputs
        return None


def _encode(image: Image.Image, fmt: str) -> bytes:
    out = io.BytesIO()
    if fmt == "JPEG":
        image.save(out, "JPEG", quality=_JPEG_QUALITY)
    else:
        image.save(out, "PNG", compress_level=_PNG_COMPRESS_LEVEL)
    return out.getvalue()
