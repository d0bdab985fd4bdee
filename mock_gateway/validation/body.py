"""From raw request bytes to a JSON value, strictly: what a real JSON API would refuse, refused.

Python's ``json`` is lenient in three ways a gateway is not: it reads UTF-16 and UTF-32 bytes
(it guesses the encoding), it accepts ``NaN``, ``Infinity`` and ``-Infinity`` (and turns
``1e999`` into infinity), and it lets a lone UTF-16 surrogate through as ``"\\ud800"``. Each
would be accepted here and then break a later step (the journal would echo bare ``NaN``
tokens, which are not JSON), so each gets a 400 naming what is wrong.
"""

from __future__ import annotations

import json
import math
import re
from typing import Any

from mock_gateway.validation.messages import field_name
from mock_gateway.validation.rejection import Rejection, bad_request

# Python's JSON scanner holds the GIL from the first byte to the last, so even in a worker
# thread a body of millions of small values would freeze the event loop for seconds. A submit
# body has a few dozen values (its longest strings, the prompt and 14 URLs, are capped by the
# contract), so a body with more commas than this is refused before it is parsed.
MAX_SEPARATORS = 100_000
_SURROGATE_ESCAPE = re.compile(rb"\\u[dD][89abcdefABCDEF]")
_LONE_SURROGATE = re.compile("[\ud800-\udfff]")


class _NonFinite:
    """Stands in for a non-finite number while parsing, so its field can be named."""

    __slots__ = ("text",)

    def __init__(self, text: str) -> None:
        self.text = text


def _has_lone_surrogate(value: Any) -> bool:
    if isinstance(value, str):
        return bool(_LONE_SURROGATE.search(value))
    if isinstance(value, dict):
        return any(_has_lone_surrogate(k) or _has_lone_surrogate(v) for k, v in value.items())
    if isinstance(value, list):
        return any(_has_lone_surrogate(item) for item in value)
    return False


def _non_finite_path(value: Any, path: list[str | int]) -> tuple[list[str | int], str] | None:
    if isinstance(value, _NonFinite):
        return path, value.text
    items: Any = value.items() if isinstance(value, dict) else None
    if items is None and isinstance(value, list):
        items = enumerate(value)
    for name, item in items or ():
        found = _non_finite_path(item, [*path, name])
        if found is not None:
            return found
    return None


def _has_non_finite(value: Any) -> bool:
    """Whether a value Python's lenient reading gave holds NaN or an infinity anywhere."""
    pending = [value]
    while pending:
        item = pending.pop()
        if isinstance(item, float):
            if not math.isfinite(item):
                return True
        elif isinstance(item, dict):
            pending.extend(item.values())
        elif isinstance(item, list):
            pending.extend(item)
    return False


def parse_json(raw: bytes) -> Any | Rejection:
    """The JSON value of ``raw``, or the 400 that explains why it is not acceptable JSON."""
    # a body opening with "{" then a byte other than NUL is UTF-8 to detect_encoding (no
    # BOM starts with "{"): the usual body skips the look at its first bytes
    encoding = "utf-8" if raw[:1] == b"{" and raw[1:2] != b"\x00" else json.detect_encoding(raw)
    if encoding not in ("utf-8", "utf-8-sig"):
        return bad_request(f"body: must be UTF-8 encoded JSON (this looks like {encoding})")
    if raw.count(b",") > MAX_SEPARATORS:
        return bad_request(
            f"body: more than {MAX_SEPARATORS} JSON values; a submit body has a few dozen"
        )
    try:
        text = raw.decode(encoding)
        # Python's reading first (its decoder is built once; NaN and 1e999 become floats):
        # a body without a non-finite number, the usual one, is then read only once
        body = json.loads(text)
    except UnicodeDecodeError:
        return bad_request("body: must be UTF-8 encoded JSON")
    except json.JSONDecodeError as exc:
        return bad_request(
            f"body: malformed JSON: {exc.msg} at line {exc.lineno} column {exc.colno}"
        )
    except ValueError as exc:  # e.g. an integer of more than 4300 digits
        return bad_request(f"body: malformed JSON: {exc}")
    except RecursionError:
        return bad_request("body: malformed JSON: nested too deeply")
    if _has_non_finite(body):
        return _non_finite_rejection(text)
    # JSON may escape half of a surrogate pair on its own ("\ud800"): such a string is not
    # Unicode text, and it would break every later step that encodes it.
    if _SURROGATE_ESCAPE.search(raw) and _has_lone_surrogate(body):
        return bad_request("body: a string contains a lone UTF-16 surrogate (\\ud800-\\udfff)")
    return body


def _non_finite_rejection(text: str) -> Rejection:
    """The 400 naming the first non-finite number of ``text`` (valid JSON to Python) as it
    was written (``1e999``, ``-Infinity``), read again to see each number's text."""

    def number(written: str) -> float | _NonFinite:
        value = float(written)
        return value if math.isfinite(value) else _NonFinite(written)

    body = json.loads(text, parse_constant=_NonFinite, parse_float=number)
    found = _non_finite_path(body, [])
    where, shown = found if found is not None else ([], "NaN")
    return bad_request(
        f"{field_name(where)}: must be a finite number (got {shown[:40]}; "
        "JSON has no NaN or Infinity)"
    )
