"""What an output image must look like: its type (documented) and its size (requested)."""

from __future__ import annotations

import io
from dataclasses import dataclass
from typing import Any

from PIL import Image, UnidentifiedImageError

from seedream_contracts.spec import SubmitOperation

PIL_FORMATS = {"image/png": "PNG", "image/jpeg": "JPEG"}
# Preset names say their aspect ratio (width / height); pixel sizes are the mock's choice
# (docs/gateway-facts.md#b9), so only the ratio is a documented expectation.
PRESET_RATIOS = {
    "square_hd": 1.0,
    "square": 1.0,
    "portrait_4_3": 3 / 4,
    "portrait_16_9": 9 / 16,
    "landscape_4_3": 4 / 3,
    "landscape_16_9": 16 / 9,
}
LONG_SIDES = {"2K": 2048, "4K": 4096}
RATIO_TOLERANCE = 0.03
LONG_SIDE_TOLERANCE = 0.25


@dataclass(frozen=True)
class SizeRule:
    label: str  # for the drift profile: "square_hd", "custom", "2K" ...
    exact: tuple[int, int] | None = None
    ratio: float | None = None
    long_side: int | None = None

    def problem(self, width: int, height: int) -> str | None:
        got = f"{width}x{height}"
        if self.exact is not None and (width, height) != self.exact:
            return f"requested {self.exact[0]}x{self.exact[1]}, got {got}"
        if (
            self.ratio is not None
            and abs(width / height - self.ratio) > RATIO_TOLERANCE * self.ratio
        ):
            return f"{self.label} means aspect ratio {self.ratio:.3f}, got {got}"
        if self.long_side is not None:
            long = max(width, height)
            if abs(long - self.long_side) > LONG_SIDE_TOLERANCE * self.long_side:
                return f"{self.label} means a long side near {self.long_side} px, got {got}"
        return None


def size_rule(op: SubmitOperation, body: dict[str, Any]) -> SizeRule:
    """What the request says about the output size (an empty rule when it says nothing)."""
    if "image_size" in op.properties:
        value = body.get("image_size", "square_hd" if op.input_field is None else None)
        if isinstance(value, dict):
            return SizeRule("custom", exact=(int(value["width"]), int(value["height"])))
        if isinstance(value, str) and value in PRESET_RATIOS:
            return SizeRule(value, ratio=PRESET_RATIOS[value])
        return SizeRule("match-input")
    size = body.get("size", "2K" if op.input_field is None else None)
    if isinstance(size, str) and size in LONG_SIDES:
        return SizeRule(size, long_side=LONG_SIDES[size])
    return SizeRule(str(size or "default"))


@dataclass
class ImageFacts:
    format: str | None
    width: int = 0
    height: int = 0
    error: str | None = None


def inspect_image(data: bytes) -> ImageFacts:
    try:
        with Image.open(io.BytesIO(data)) as image:
            image.load()  # decode fully: a truncated file fails here
            return ImageFacts(image.format, image.width, image.height)
    except (UnidentifiedImageError, OSError, ValueError) as exc:
        return ImageFacts(None, error=f"not a decodable image: {exc}")
