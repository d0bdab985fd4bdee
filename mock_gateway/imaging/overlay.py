"""What is written on an image: the caption panel and the "AI-generated" watermark.

Text is drawn at full resolution (so it stays crisp) with Pillow's bundled scalable font, sized
from the image; panels are translucent and composited only where they are, not over the image.
"""

from __future__ import annotations

import math
import string
import unicodedata
from dataclasses import dataclass

from PIL import Image, ImageDraw, ImageFont

Color = tuple[int, int, int]
Font = ImageFont.FreeTypeFont | ImageFont.ImageFont

WATERMARK_TEXT = "AI-generated"
_HEADER = "SEEDREAM MOCK"
_MAX_PROMPT_LINES = 6
_MAX_CAPTION_CHARS = 1500
# The bundled font (Aileron, a subset) has printable ASCII and these; see ``_printable``.
_GLYPHS = frozenset(string.printable[:95] + "©«°±´·»‘’“”…‹›⁄™")
_LOOKALIKES = {"—": "-", "–": "-", "−": "-", "×": "x", "•": "·", "ß": "ss", "æ": "ae", "ø": "o"}
_MIN_FONT = 8  # below this a caption would be unreadable, so there is none
_PANEL = (12, 14, 24, 158)
_TEXT = (255, 255, 255, 255)
_META = (214, 218, 232, 255)
UNFETCHED_STRIPES = ((255, 196, 0), (20, 20, 20))  # amber and near-black


@dataclass(frozen=True, slots=True)
class Caption:
    prompt: str
    model: str
    seed: int
    index: int
    edited_inputs: int
    unfetched_inputs: int = 0  # input URLs the mock never fetched (offline by default)


def decorate(image: Image.Image, caption: Caption, *, accent: Color, watermark: bool) -> None:
    """Draw the caption (and the watermark, bottom-right) onto ``image`` in place."""
    w, h = image.size
    margin = max(2, round(min(w, h) * 0.035))
    bottom = h - margin
    if watermark:
        top = _draw_watermark(image, margin)
        if top is not None:
            bottom = top - max(1, margin // 2)
    _draw_caption(image, caption, accent, (margin, margin, w - margin, bottom))
    if caption.unfetched_inputs:
        _draw_unfetched_band(image, caption.unfetched_inputs)


def _draw_caption(
    image: Image.Image, caption: Caption, accent: Color, region: tuple[int, int, int, int]
) -> None:
    left, top, right, bottom = region
    w, h = image.size
    size = _text_size(w, h)
    if size < _MIN_FONT or right - left < size * 6 or bottom - top < size * 3:
        return
    pad = round(size * 0.7)
    inner = right - left - 2 * pad
    prompt_font, small_font = _font(size), _font(round(size * 0.62))
    line, small_line = round(size * 1.25), round(size * 0.62 * 1.4)

    meta = _pack(_meta_items(caption, image.size), small_font, inner)
    header = [_HEADER]
    budget = round((bottom - top) * 0.5) - 2 * pad - small_line * (len(meta) + len(header))
    if budget < line:  # no room for the prompt next to the header: drop the header
        budget, header = budget + small_line, []
    max_lines = min(_MAX_PROMPT_LINES, budget // line)
    if max_lines < 1:
        return
    prompt = _wrap(_clean(caption.prompt) or "(empty prompt)", prompt_font, inner, max_lines)

    rows: list[tuple[str, Font, tuple[int, int, int, int], int]] = []
    rows += [(text, small_font, (*accent, 255), small_line) for text in header]
    rows += [(text, prompt_font, _TEXT, line) for text in prompt]
    rows += [(text, small_font, _META, small_line) for text in meta]
    text_width = max(round(font.getlength(text)) for text, font, _, _ in rows)
    panel_w = min(right - left, max(text_width + 2 * pad, (right - left) * 2 // 5))
    panel_h = sum(step for *_, step in rows) + 2 * pad - (line - size) // 2

    panel = Image.new("RGBA", (panel_w, panel_h), (0, 0, 0, 0))
    draw = ImageDraw.Draw(panel)
    draw.rounded_rectangle((0, 0, panel_w - 1, panel_h - 1), radius=round(size * 0.6), fill=_PANEL)
    y = pad
    for text, font, fill, step in rows:
        draw.text((pad, y), text, font=font, fill=fill)
        y += step
    image.paste(panel, (left, bottom - panel_h), panel)


def _draw_watermark(image: Image.Image, margin: int) -> int | None:
    """Draw the mark bottom-right; return its top edge, or None when the image is too small."""
    w, h = image.size
    size = max(_MIN_FONT, round(_text_size(w, h) * 0.8))
    while size >= 6:
        font = _font(size)
        pad_x, pad_y = round(size * 0.7), round(size * 0.45)
        mark_w = round(font.getlength(WATERMARK_TEXT)) + 2 * pad_x
        mark_h = size + 2 * pad_y
        if mark_w + 2 * margin <= w and mark_h + 2 * margin <= h:
            break
        size -= max(1, size // 8)
    else:
        return None
    mark = Image.new("RGBA", (mark_w, mark_h), (0, 0, 0, 0))
    draw = ImageDraw.Draw(mark)
    draw.rounded_rectangle((0, 0, mark_w - 1, mark_h - 1), radius=mark_h // 2, fill=(0, 0, 0, 150))
    draw.text((mark_w // 2, mark_h // 2), WATERMARK_TEXT, font=font, fill=_TEXT, anchor="mm")
    x, y = w - margin - mark_w, h - margin - mark_h
    image.paste(mark, (x, y), mark)
    return y


def _draw_unfetched_band(image: Image.Image, count: int) -> None:
    """A hazard-striped band across the top: the output was drawn without an input image
    that the mock never fetched, so it cannot be mistaken for an edit of that image."""
    w, h = image.size
    band = max(3, round(h * 0.07))
    draw = ImageDraw.Draw(image)
    stripe = max(2, band // 2)
    for x in range(-band, w + band, 2 * stripe):
        draw.polygon([(x, 0), (x + stripe, 0), (x + stripe - band, band), (x - band, band)],
                     fill=UNFETCHED_STRIPES[0])  # fmt: skip
        draw.polygon([(x + stripe, 0), (x + 2 * stripe, 0), (x + 2 * stripe - band, band),
                      (x + stripe - band, band)], fill=UNFETCHED_STRIPES[1])  # fmt: skip
    size = round(band * 0.55)
    if size < _MIN_FONT:
        return
    text = f"{count} INPUT IMAGE{'S' if count > 1 else ''} NOT FETCHED: DRAWN WITHOUT IT"
    font = _font(size)
    if font.getlength(text) + size * 2 > w:
        text, font = "INPUT NOT FETCHED", _font(size)
    if font.getlength(text) + size * 2 > w:
        return
    pad = round(size * 0.5)
    text_w = round(font.getlength(text))
    x0 = (w - text_w) // 2 - pad
    draw.rectangle((x0, 0, x0 + text_w + 2 * pad, band), fill=UNFETCHED_STRIPES[1])
    draw.text((w // 2, band // 2), text, font=font, fill=UNFETCHED_STRIPES[0], anchor="mm")


def _text_size(width: int, height: int) -> int:
    """The prompt's font size: grows slower than the image, so small images stay readable."""
    return round(math.pow(min(width * 0.9, height * 1.6), 0.8) / 7.8)


def _meta_items(caption: Caption, size: tuple[int, int]) -> list[str]:
    items = [caption.model, f"seed {caption.seed}", f"{size[0]}x{size[1]}"]
    if caption.index > 1:
        items.append(f"image {caption.index}")
    if caption.edited_inputs:
        plural = "s" if caption.edited_inputs > 1 else ""
        items.append(f"edit of {caption.edited_inputs} input{plural}")
    if caption.unfetched_inputs:
        items.append(f"{caption.unfetched_inputs} input(s) not fetched")
    return items


def _pack(items: list[str], font: Font, width: int) -> list[str]:
    """Join ``items`` with separators into as few lines as fit ``width`` (long items wrap)."""
    lines: list[str] = []
    for item in items:
        joined = f"{lines[-1]}  ·  {item}" if lines else item
        if lines and font.getlength(joined) <= width:
            lines[-1] = joined
        else:
            lines += _wrap(item, font, width, 2)
    return lines


def _wrap(text: str, font: Font, width: int, max_lines: int) -> list[str]:
    """Greedy word wrap; overlong words break anywhere; the last line ends in "…" if cut."""
    lines: list[str] = []
    current = ""
    for word in text.split():
        candidate = f"{current} {word}" if current else word
        if font.getlength(candidate) <= width:
            current = candidate
            continue
        if current:
            lines.append(current)
        current = word
        while len(current) > 1 and font.getlength(current) > width:
            cut = _longest_fitting_prefix(current, font, width)
            lines.append(current[:cut])
            current = current[cut:]
        if len(lines) > max_lines:
            break
    if current:
        lines.append(current)
    if len(lines) <= max_lines:
        return lines
    last = lines[max_lines - 1]
    while last and font.getlength(last + "…") > width:
        last = last[:-1]
    return [*lines[: max_lines - 1], last.rstrip() + "…"]


def _longest_fitting_prefix(word: str, font: Font, width: int) -> int:
    """The length (at least 1) of the longest prefix of ``word`` that fits ``width``."""
    low, high = 1, len(word)
    while low < high:
        middle = (low + high + 1) // 2
        if font.getlength(word[:middle]) <= width:
            low = middle
        else:
            high = middle - 1
    return low


def _clean(text: str) -> str:
    """Whitespace collapsed and control characters dropped, so the font never sees them.

    Only the start of a long prompt can show in six lines, so the rest is not even looked at.
    """
    head = text[:_MAX_CAPTION_CHARS]
    return " ".join("".join(_printable(ch) for ch in head).split())


def _printable(ch: str) -> str:
    """``ch`` as the bundled font can draw it: accents dropped (é -> e), a few look-alikes
    swapped (— -> -); anything else it lacks stays as is and shows as a box."""
    if ch in _GLYPHS:
        return ch
    if not ch.isprintable():
        return " "
    if ch in _LOOKALIKES:
        return _LOOKALIKES[ch]
    base = "".join(c for c in unicodedata.normalize("NFKD", ch) if c in _GLYPHS)
    return base or ch


def _font(size: int) -> Font:
    # Loading the embedded font costs ~0.1 ms, so each render gets its own objects and no
    # FreeType face is ever shared between worker threads.
    return ImageFont.load_default(size=size)
