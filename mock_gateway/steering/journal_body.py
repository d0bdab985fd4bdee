"""What the journal keeps of a request body, and how it shows it: bounded, and always JSON.

A body up to ``BODY_CAP`` bytes is kept as sent. A bigger one (a data URL, or a hostile 18 MB
document) is kept abbreviated: from the JSON the handler already parsed (off the event loop)
when there is one, its long strings shortened and at most ``NODE_BUDGET`` values walked; else
its first ``BODY_CAP`` bytes as text. Either way the entry says so (``body_truncated``) and
gives the size that was sent (``body_bytes``). Nothing here parses a big body again.
"""

from __future__ import annotations

import json
import math
from typing import Any

BODY_CAP = 8192  # bytes kept verbatim; larger bodies are abbreviated to about this size
LONG_STRING = 256  # in an abbreviated body, strings longer than this are shortened
NODE_BUDGET = 2000  # values walked when abbreviating; the rest is summarised

_MISSING = object()


class _Budget:
    __slots__ = ("left",)

    def __init__(self, left: int) -> None:
        self.left = left


def _shorten(value: Any, budget: _Budget) -> Any:
    budget.left -= 1
    if budget.left < 0:
        return "..."
    if isinstance(value, str) and len(value) > LONG_STRING:
        return f"{value[:64]}...({len(value)} characters)"
    if isinstance(value, float) and not math.isfinite(value):
        return str(value)
    if isinstance(value, list):
        shown = [_shorten(item, budget) for item in value[: max(0, budget.left) + 1]]
        if len(shown) < len(value):
            shown.append(f"...({len(value)} items)")
        return shown
    if isinstance(value, dict):
        out: dict[str, Any] = {}
        for name, item in value.items():
            if budget.left < 0:
                out["..."] = f"({len(value)} fields)"
                break
            out[str(name)[:LONG_STRING]] = _shorten(item, budget)
        return out
    return value


def keep_body(raw: bytes, parsed: Any = _MISSING) -> bytes | str:
    """What the journal stores of ``raw``: itself when small; else an abbreviation, built
    from ``parsed`` (the handler's parse of it) when given, never by parsing ``raw`` again."""
    if len(raw) <= BODY_CAP:
        return raw
    if parsed is not _MISSING:
        text = json.dumps(_shorten(parsed, _Budget(NODE_BUDGET)), ensure_ascii=False)
        if len(text) <= BODY_CAP:
            return text
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
