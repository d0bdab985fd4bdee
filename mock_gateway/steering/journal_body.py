"""What the journal keeps of a request body, and how it shows it: bounded, and always JSON.

A body up to ``BODY_CAP`` bytes is kept as sent. A bigger one (a data URL, or a hostile 18 MB
document) is abbreviated *without parsing it*: its long string literals are shortened in the
raw text, scanning only as far as the abbreviation stays under ``BODY_CAP`` (a data URL body
becomes ``{"prompt": "...", "image": "data:image/png;base64,iVBO...(373851 characters)"}``);
a body that does not shrink that far is kept as its first ``BODY_CAP`` bytes of text. Either
way the entry says so (``body_truncated``) and gives the size that was sent (``body_bytes``).
Parsing the whole body again here would hold the event loop for seconds.
"""

from __future__ import annotations

import json
import math
from typing import Any

BODY_CAP = 8192  # bytes kept verbatim; larger bodies are abbreviated to at most this size
LONG_STRING = 256  # in an abbreviated body, strings longer than this are shortened
HEAD = 64  # characters kept of a shortened string
ESCAPE_BUDGET = 10_000  # escaped quotes looked at before the scan gives up

_QUOTE, _BACKSLASH = 0x22, 0x5C


def _string_end(raw: bytes, start: int, budget: list[int]) -> int:
    """The index of the quote closing the string literal opened at ``start``, or -1."""
    end = start + 1
    while True:
        end = raw.find(b'"', end)
        if end < 0:
            return -1
        slashes = 0
        while raw[end - 1 - slashes] == _BACKSLASH:
            slashes += 1
        if slashes % 2 == 0:
            return end
        budget[0] -= 1
        if budget[0] < 0:
            return -1
        end += 1


def _shortened(literal: bytes) -> bytes:
    """A long string literal as ``"<its first characters>...(N characters)"``; still a
    valid JSON string (no escape or UTF-8 sequence is cut in half)."""
    head = literal[1 : 1 + HEAD]
    cut = head.rfind(b"\\", max(0, len(head) - 6))
    if cut >= 0:
        head = head[:cut]  # an escape sequence may continue past the cut: drop it whole
    text = head.decode("utf-8", "ignore")
    return b'"' + text.encode() + f'...({len(literal) - 2} characters)"'.encode()


def abbreviate(raw: bytes, cap: int = BODY_CAP) -> str | None:
    """``raw`` with its long string literals shortened, if that fits in ``cap`` bytes."""
    parts: list[bytes] = []
    size = 0
    position = 0
    budget = [ESCAPE_BUDGET]
    while True:
        start = raw.find(b'"', position)
        between = raw[position:] if start < 0 else raw[position:start]
        size += len(between)
        if size > cap:
            return None
        parts.append(between)
        if start < 0:
            break
        end = _string_end(raw, start, budget)
        if end < 0:
            return None
        literal = raw[start : end + 1]
        kept = _shortened(literal) if len(literal) - 2 > LONG_STRING else literal
        size += len(kept)
        if size > cap:
            return None
        parts.append(kept)
        position = end + 1
    return b"".join(parts).decode("utf-8", "replace")


def keep_body(raw: bytes) -> bytes | str:
    """What the journal stores of ``raw``: itself when small, else an abbreviation of at
    most about ``BODY_CAP`` bytes (never ``raw`` itself, so ``is`` tells them apart)."""
    if len(raw) <= BODY_CAP:
        return raw
    shorter = abbreviate(raw)
    if shorter is not None:
        return shorter
    return raw[:BODY_CAP].decode("utf-8", "replace") + f"...({len(raw)} bytes)"


def _constant(text: str) -> str:
    return text  # a NaN the client sent is shown as the string "NaN": the answer stays JSON


def _number(text: str) -> float | str:
    value = float(text)
    return value if math.isfinite(value) else text  # 1e999: shown as written, not Infinity


def show_body(body: bytes | str | None) -> Any:
    """The body as the control API shows it: parsed JSON where it is JSON, else text."""
    if body is None or body == b"":
        return None
    try:
        return json.loads(body, parse_constant=_constant, parse_float=_number)
    except (ValueError, RecursionError):
        return body.decode("utf-8", "replace") if isinstance(body, bytes) else body
