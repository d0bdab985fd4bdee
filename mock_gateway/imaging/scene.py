"""The picture under the caption: a palette, a generated background, and the edit layers.

Everything is drawn on a canvas of at most ``_CANVAS`` pixels a side and upscaled once, so a
4096x4096 output costs about as much as a 512x512 one; soft shapes survive upscaling well.
"""

from __future__ import annotations

import colorsys
import math
import random
from dataclasses import dataclass

from PIL import Image, ImageDraw, ImageFilter, ImageOps

Color = tuple[int, int, int]

_CANVAS = 512  # longest side of the working canvas
_GRID = 24  # longest side of the grid the colour field is computed on
_SCHEMES = (  # hue offsets of the anchor colours: analogous, split, triadic-ish; no muddy 180s
    (0.0, 30.0, 60.0, -30.0),
    (0.0, 40.0, -40.0, 80.0),
    (0.0, 120.0, 60.0, -20.0),
    (0.0, -60.0, -120.0, 20.0),
    (0.0, 25.0, 150.0, -25.0),
)
# A prompt naming a colour or a mood gets a matching base hue (the seed still varies the rest).
_KEYWORD_HUES = {
    "red": 0.0, "fire": 10.0, "sunset": 20.0, "orange": 30.0, "autumn": 35.0, "gold": 45.0,
    "yellow": 55.0, "desert": 40.0, "green": 120.0, "forest": 130.0, "jungle": 140.0,
    "teal": 175.0, "ocean": 195.0, "sea": 195.0, "blue": 215.0, "sky": 205.0, "night": 235.0,
    "purple": 275.0, "violet": 270.0, "lavender": 265.0, "pink": 330.0, "rose": 340.0,
}  # fmt: skip


@dataclass(frozen=True, slots=True)
class Palette:
    anchors: tuple[Color, ...]  # the background's colour field
    accent: Color  # bright: caption header, rings
    shade: Color  # dark: waves, depth


def make_palette(rng: random.Random, prompt: str) -> Palette:
    words = "".join(ch if ch.isalnum() else " " for ch in prompt.lower()).split()
    hue = next((_KEYWORD_HUES[w] for w in words if w in _KEYWORD_HUES), rng.uniform(0.0, 360.0))
    hue += rng.uniform(-18.0, 18.0)
    scheme = rng.choice(_SCHEMES)
    anchors = [_hls(hue + off, rng.uniform(0.42, 0.68), rng.uniform(0.55, 0.9)) for off in scheme]
    # One deep tone gives the field depth; it stays near the base hue so blends do not go grey.
    anchors[rng.randrange(1, len(anchors))] = _hls(hue + rng.uniform(-50, 50), 0.2, 0.75)
    return Palette(
        anchors=tuple(anchors),
        accent=_hls(hue + rng.choice(scheme), 0.78, 0.95),
        shade=_hls(hue + rng.uniform(-40.0, 40.0), 0.14, 0.6),
    )


def generated_background(
    rng: random.Random, palette: Palette, size: tuple[int, int]
) -> Image.Image:
    """A smooth colour field with blurred blobs, rings and waves, as RGB of exactly ``size``."""
    canvas_size = fit_within(size, _CANVAS)
    canvas = _colour_field(rng, palette, canvas_size).convert("RGBA")
    cw, ch = canvas_size
    unit = max(1.0, min(cw, ch) / 100.0)  # 1 % of the short side

    blobs = Image.new("RGBA", canvas_size, (0, 0, 0, 0))
    draw = ImageDraw.Draw(blobs)
    for _ in range(rng.randint(5, 8)):
        colour = _lighten(rng.choice(palette.anchors), rng.uniform(0.0, 0.45))
        x, y = rng.uniform(-0.1, 1.1) * cw, rng.uniform(-0.1, 1.1) * ch
        rx, ry = unit * rng.uniform(10, 34), unit * rng.uniform(10, 34)
        draw.ellipse((x - rx, y - ry, x + rx, y + ry), fill=(*colour, rng.randint(70, 150)))
    canvas.alpha_composite(blobs.filter(ImageFilter.GaussianBlur(unit * 6)))

    waves = Image.new("RGBA", canvas_size, (0, 0, 0, 0))
    draw = ImageDraw.Draw(waves)
    for level in range(rng.randint(2, 3)):
        base = ch * (0.62 + 0.12 * level + rng.uniform(-0.04, 0.04))
        amp, freq, phase = ch * rng.uniform(0.03, 0.08), rng.uniform(0.8, 2.2), rng.uniform(0, 6.3)
        points = [
            (x, base + amp * math.sin(phase + freq * math.tau * x / max(cw, 1)))
            for x in range(-2, cw + 3, max(1, cw // 48))
        ]
        tone = palette.anchors[(level + 1) % len(palette.anchors)]
        colour = _mix(tone, palette.shade, 0.35 + 0.25 * level)
        draw.polygon([*points, (cw + 2, ch + 2), (-2, ch + 2)], fill=(*colour, 90 + 30 * level))
    canvas.alpha_composite(waves.filter(ImageFilter.GaussianBlur(unit * 0.6)))

    rings = Image.new("RGBA", canvas_size, (0, 0, 0, 0))
    draw = ImageDraw.Draw(rings)
    for _ in range(rng.randint(6, 14)):
        x, y, r = rng.uniform(0, cw), rng.uniform(0, ch * 0.8), unit * rng.uniform(1.0, 7.0)
        box = (x - r, y - r, x + r, y + r)
        if rng.random() < 0.5:
            draw.ellipse(box, fill=(*palette.accent, rng.randint(35, 90)))
        else:
            width = max(1, round(unit * 0.5))
            draw.ellipse(box, outline=(*palette.accent, rng.randint(60, 120)), width=width)
    canvas.alpha_composite(rings.filter(ImageFilter.GaussianBlur(unit * 0.3)))

    return _resize(canvas.convert("RGB"), size)


def edit_base(sources: list[Image.Image], background: Image.Image, palette: Palette) -> Image.Image:
    """The first source fitted to the output and colour-graded; later sources as thumbnails."""
    size = background.size
    # Crop a little above centre: portraits keep their faces.
    first = ImageOps.fit(sources[0], size, Image.Resampling.BICUBIC, centering=(0.5, 0.4))
    if first.mode == "RGBA":
        image = background.copy()
        image.paste(first, (0, 0), first)
    else:
        image = first
    # Grade: a gentle contrast curve pulled towards the prompt's palette, then a 20 % wash of the
    # generated background, so the edit is visibly "new" but the input still dominates.
    tint = palette.anchors[0]
    luts: list[int] = []
    for channel in range(3):
        for v in range(256):
            curved = 255.0 * (0.5 - 0.5 * math.cos(math.pi * v / 255.0))
            luts.append(round(0.55 * v + 0.3 * curved + 0.15 * tint[channel]))
    image = Image.blend(image.point(luts), background, 0.2)

    short, extra = min(size), len(sources) - 1
    gap, border = max(1, short // 40), max(1, short // 200)
    fitting = (size[0] - gap) // max(1, extra) - gap - 2 * border  # all in one row if possible
    thumb_side = max(1, short // 12, min(short // 5, fitting))
    x = y = gap
    step = thumb_side + 2 * border + gap
    for source in sources[1:]:
        if x + step > size[0]:  # next row, while the rows stay in the top half
            x, y = gap, y + step
        if x + step > size[0] or y + step > size[1] // 2:
            break
        thumb = ImageOps.fit(source.convert("RGB"), (thumb_side, thumb_side))
        framed = ImageOps.expand(thumb, border=border, fill=(255, 255, 255))
        image.paste(framed, (x, y))
        x += framed.width + gap
    return image


def _colour_field(rng: random.Random, palette: Palette, size: tuple[int, int]) -> Image.Image:
    """Inverse-distance blend of the anchor colours on a tiny grid, with a vignette."""
    gw, gh = fit_within(size, _GRID)
    aspect = size[0] / size[1]
    anchors = [(rng.uniform(-0.2, 1.2), rng.uniform(-0.2, 1.2), c) for c in palette.anchors]
    data = bytearray()
    for j in range(gh):
        v = (j + 0.5) / gh
        for i in range(gw):
            u = (i + 0.5) / gw
            weights = [
                1.0 / (((u - ax) * aspect) ** 2 + (v - ay) ** 2 + 0.02) ** 1.6
                for ax, ay, _ in anchors
            ]
            total = sum(weights)
            dim = 1.0 - 0.35 * min(1.0, ((u - 0.5) ** 2 + (v - 0.5) ** 2) * 2.0)
            for k in range(3):
                mixed = sum(w * c[2][k] for w, c in zip(weights, anchors, strict=True)) / total
                data.append(max(0, min(255, round(mixed * dim))))
    return _resize(Image.frombytes("RGB", (gw, gh), bytes(data)), size)


def _resize(image: Image.Image, size: tuple[int, int]) -> Image.Image:
    if image.size == size:
        return image
    return image.resize(size, Image.Resampling.BICUBIC)


def fit_within(size: tuple[int, int], longest: int) -> tuple[int, int]:
    """``size`` scaled down (never up) so its longest side is at most ``longest``."""
    w, h = size
    scale = min(1.0, longest / max(w, h))
    return max(1, round(w * scale)), max(1, round(h * scale))


def _hls(hue_degrees: float, lightness: float, saturation: float) -> Color:
    r, g, b = colorsys.hls_to_rgb((hue_degrees % 360.0) / 360.0, lightness, saturation)
    return round(r * 255), round(g * 255), round(b * 255)


def _mix(a: Color, b: Color, amount: float) -> Color:
    """``a`` moved ``amount`` (0..1) of the way towards ``b``."""
    r, g, bl = (round(x + (y - x) * amount) for x, y in zip(a, b, strict=True))
    return r, g, bl


def _lighten(colour: Color, amount: float) -> Color:
    r, g, b = (round(c + (255 - c) * amount) for c in colour)
    return r, g, b
