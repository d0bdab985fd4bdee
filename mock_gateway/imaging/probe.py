"""Validating input images against the upstream limits (docs/gateway-facts.md#b8).

Only the header is parsed before the size checks, so a small file that claims a huge canvas
(a decompression bomb) is refused without allocating it; only then is the image decoded, which
catches truncated and corrupt files. Whatever the bytes, the only exception is ``InvalidImage``.
"""

from __future__ import annotations

import io
from collections.abc import Mapping
from dataclasses import dataclass

ACCEPTED = {"JPEG": "image/jpeg", "PNG": "image/png", "WEBP": "image/webp"}
# The byteplus models also take what BytePlus's own documentation lists (docs/fidelity.md).
BYTEPLUS_ACCEPTED = {**ACCEPTED, "BMP": "image/bmp", "TIFF": "image/tiff", "GIF": "image/gif"}
# Formats recognised by their magic bytes, to say what they are when refusing them.
_KNOWN_OTHERS = (
    (b"GIF87a", "GIF"),
    (b"GIF89a", "GIF"),
    (b"BM", "BMP"),
    (b"II*\x00", "TIFF"),
    (b"MM\x00*", "TIFF"),
    (b"\x00\x00\x01\x00", "ICO"),
    (b"8BPS", "PSD"),
    (b"%PDF", "PDF"),
    (b"<svg", "SVG"),
    (b"<?xml", "SVG/XML"),
)
_HEIF_BRANDS = (b"heic", b"heix", b"mif1", b"msf1", b"avif", b"avis")


class InvalidImage(ValueError):
    """An input image the gateway would refuse; the message suits a 400 response."""


@dataclass(frozen=True, slots=True)
class ImageInfo:
    format: str  # Pillow's name: "JPEG", "PNG", "WEBP" (byteplus also "BMP", "TIFF", "GIF")
    width: int
    height: int
    media_type: str


def probe_image(
    data: bytes,
    *,
    max_bytes: int = 10 * 1024 * 1024,
    max_pixels: int = 36_000_000,
    min_side: int = 15,
    max_aspect: float = 16.0,
    accepted: Mapping[str, str] = ACCEPTED,
) -> ImageInfo:
    """Check ``data`` is an image of an ``accepted`` format (Pillow's name -> media type;
    default JPEG, PNG, WEBP) within the limits; describe it."""
    if len(data) == 0:
        raise InvalidImage("image is empty")
    if len(data) > max_bytes:
        raise InvalidImage(f"image is {_mb(len(data))}, over the {_mb(max_bytes)} limit")
    from PIL import Image  # late: the mock starts without Pillow (the first answer comes sooner)

    try:
        with Image.open(io.BytesIO(data), formats=list(accepted)) as image:
            fmt = "JPEG" if image.format == "MPO" else str(image.format)
            width, height = image.size
            _check_size(width, height, max_pixels, min_side, max_aspect)
            # Decode at reduced scale where the format allows (JPEG): the whole stream is still
            # read, so truncation shows, at a fraction of the memory.
            image.draft(image.mode, (max(1, width // 8), max(1, height // 8)))
            image.load()
    except InvalidImage:
        raise
    except (Image.DecompressionBombError, Image.DecompressionBombWarning):
        # Pillow's own guard fired on the header (far beyond any sane limit, or warnings are
        # errors): the canvas is far over ours.
        raise InvalidImage(f"image is over the {_megapixels(max_pixels)} limit") from None
    except Exception as exc:  # Pillow signals bad data with many types; all mean "not an image"
        raise InvalidImage(_undecodable(data, exc, accepted)) from None
    if fmt not in accepted:  # a plugin outside the list cannot answer, but be explicit
        raise InvalidImage(f"unsupported image format {fmt}; use {_names(accepted)}")
    return ImageInfo(format=fmt, width=width, height=height, media_type=accepted[fmt])


def sniff_format(data: bytes) -> str | None:
    """The format named by the leading bytes (accepted or not), or None if unrecognised."""
    if data.startswith(b"\xff\xd8\xff"):
        return "JPEG"
    if data.startswith(b"\x89PNG\r\n\x1a\n"):
        return "PNG"
    if data[:4] == b"RIFF" and data[8:12] == b"WEBP":
        return "WEBP"
    if data[4:8] == b"ftyp" and data[8:12] in _HEIF_BRANDS:
        return "AVIF" if data[8:12] in (b"avif", b"avis") else "HEIC"
    head = data[:64].lstrip()
    return next((name for magic, name in _KNOWN_OTHERS if head.startswith(magic)), None)


def _check_size(width: int, height: int, max_pixels: int, min_side: int, max_aspect: float) -> None:
    if min(width, height) < max(1, min_side):
        raise InvalidImage(
            f"image is {width}x{height}; both sides must be at least {min_side} pixels"
        )
    if width * height > max_pixels:
        raise InvalidImage(
            f"image is {width}x{height} ({_megapixels(width * height)}), "
            f"over the {_megapixels(max_pixels)} limit"
        )
    if max(width / height, height / width) > max_aspect:
        raise InvalidImage(
            f"image is {width}x{height}; the aspect ratio must be between "
            f"1:{max_aspect:g} and {max_aspect:g}:1"
        )


def _names(accepted: Mapping[str, str]) -> str:
    names = list(accepted)
    return ", ".join(names[:-1]) + " or " + names[-1] if len(names) > 1 else names[0]


def _undecodable(data: bytes, exc: Exception, accepted: Mapping[str, str]) -> str:
    sniffed = sniff_format(data)
    if sniffed is not None and sniffed not in accepted:
        return f"unsupported image format {sniffed}; use {_names(accepted)}"
    if sniffed is None:
        return f"not a supported image (expected {_names(accepted)} data)"
    if isinstance(exc, OSError) and "truncated" in str(exc):
        return f"{sniffed} image is truncated"
    return f"{sniffed} image is corrupt or cannot be decoded"


def _mb(size: int) -> str:
    return f"{size / (1024 * 1024):.1f} MB".replace(".0 MB", " MB")


def _megapixels(pixels: int) -> str:
    return f"{pixels / 1_000_000:g} megapixels"
