"""Small previews of rendered results, for the inspector page's job list."""

from __future__ import annotations

import io

from PIL import Image

THUMBNAIL_SIDE = 256  # the page shows them at up to 128 CSS pixels: sharp on a 2x screen
THUMBNAIL_QUALITY = 82


def thumbnail(data: bytes, side: int = THUMBNAIL_SIDE) -> bytes:
    """A JPEG of at most ``side`` pixels on its longer edge (never enlarged)."""
    with Image.open(io.BytesIO(data)) as image:
        image.draft("RGB", (side, side))  # JPEG: decode at a reduced scale, much faster
        preview = image.convert("RGB")
    preview.thumbnail((side, side))
    out = io.BytesIO()
    preview.save(out, "JPEG", quality=THUMBNAIL_QUALITY, optimize=True)
    return out.getvalue()
