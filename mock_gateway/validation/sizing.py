"""Output pixel sizes (docs/gateway-facts.md#b9): presets, 2K/4K, custom sizes, the input's."""

from __future__ import annotations

from typing import Any

PRESETS: dict[str, tuple[int, int]] = {
    "square_hd": (1024, 1024),
    "square": (512, 512),
    "portrait_4_3": (768, 1024),
    "portrait_16_9": (576, 1024),
    "landscape_4_3": (1024, 768),
    "landscape_16_9": (1024, 576),
}
NAMED_SIZES: dict[str, tuple[int, int]] = {"2K": (2048, 2048), "4K": (4096, 4096)}
FALLBACK = (2048, 2048)  # when the size follows an input the mock cannot see
MAX_SIDE = 4096


def _fit(width: int, height: int) -> tuple[int, int]:
    """Scale an input's size down (keeping its aspect) so no side exceeds MAX_SIDE."""
    scale = min(1.0, MAX_SIDE / max(width, height))
    return max(1, round(width * scale)), max(1, round(height * scale))


def output_size(fields: dict[str, Any], first_input: tuple[int, int] | None) -> tuple[int, int]:
    """The size of every output image of one request."""
    image_size = fields.get("image_size")
    if isinstance(image_size, dict):
        return int(image_size["width"]), int(image_size["height"])
    if isinstance(image_size, str):
        return PRESETS[image_size]
    size = fields.get("size")
    if isinstance(size, str) and size in NAMED_SIZES:
        return NAMED_SIZES[size]
    # "adaptive", or no size on an edit: match the (first) input when it is known.
    return _fit(*first_input) if first_input else FALLBACK
