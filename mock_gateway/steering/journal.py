"""The request journal: what clients sent and what they got, newest N entries only.

Recording must cost next to nothing on the hot status path (a bounded ``deque`` append of
one small slotted object); turning entries into JSON happens only when a test asks for them.
A load test of a million requests therefore leaves memory flat.
"""

from __future__ import annotations

import json
from collections import deque
from dataclasses import dataclass
from typing import Any

from mock_gateway.core import format_timestamp

BODY_CAP = 8192  # bytes kept verbatim; larger bodies (data URLs) are abbreviated
LONG_STRING = 256  # in an abbreviated body, strings longer than this are shortened


def redact_key(key: str | None) -> str | None:
    """A key as logs show it: its last 4 characters only."""
    if key is None:
        return None
    return "****" + key[-4:] if len(key) > 4 else "****"


# A hygiene warning is kept as (kind, template, arguments) and worded only when read: an
# eager client triggers one on every call, and formatting is the costly part.
Flag = tuple[str, str, tuple[Any, ...]]


def flag_json(flag: Flag) -> dict[str, str]:
    kind, template, args = flag
    return {"kind": kind, "message": template.format(*args)}


@dataclass(frozen=True, slots=True)
class JournalNote:
    """What the gateway pipeline learned about one call, for its journal entry."""

    key: str | None  # the key as sent (shown redacted)
    body: bytes | None = None  # the submit body, once the call got past API Management
    request_id: str | None = None
    warnings: tuple[Flag, ...] = ()
    faults: tuple[str, ...] = ()  # ids of the fault rules that fired


# One journal entry, as a plain tuple (the cheapest thing to build on the hot path):
# (seq, time, method, path, key, status, body, request_id, warnings, faults). ``key`` is the
# full key, for filtering; it is shown redacted. ``status`` None: the connection was dropped.
Entry = tuple[
    int, float, str, str, str | None, int | None, bytes | str | None, str | None,
    tuple[Flag, ...], tuple[str, ...],
]  # fmt: skip


def entry_json(entry: Entry) -> dict[str, Any]:
    seq, time, method, path, key, status, body, request_id, warnings, faults = entry
    return {
        "seq": seq,
        "time": time,
        "at": format_timestamp(time),
        "method": method,
        "path": path,
        "key": redact_key(key),
        "status": status,
        "request_id": request_id,
        "body": _show_body(body),
        "warnings": [flag_json(flag) for flag in warnings],
        "faults": list(faults),
    }


def _shorten(value: Any) -> Any:
    if isinstance(value, str) and len(value) > LONG_STRING:
        return f"{value[:64]}...({len(value)} characters)"
    if isinstance(value, list):
        return [_shorten(item) for item in value]
    if isinstance(value, dict):
        return {name: _shorten(item) for name, item in value.items()}
    return value


def keep_body(raw: bytes) -> bytes | str:
    """What the journal stores of a body: small ones as sent, big ones abbreviated."""
    if len(raw) <= BODY_CAP:
        return raw
    try:
        return json.dumps(_shorten(json.loads(raw)), ensure_ascii=False)
    except (ValueError, RecursionError):
        return raw[:BODY_CAP].decode("utf-8", "replace") + f"...({len(raw)} bytes)"


def _show_body(body: bytes | str | None) -> Any:
    if body is None or body == b"":
        return None
    try:
        return json.loads(body)
    except (ValueError, RecursionError):
        return body.decode("utf-8", "replace") if isinstance(body, bytes) else body


@dataclass(frozen=True, slots=True)
class JournalFilter:
    key: str | None = None
    path: str | None = None  # a prefix: "/v2/requests/status" selects every status poll
    method: str | None = None
    status: int | None = None
    since: float | None = None  # mock time, inclusive
    request_id: str | None = None
    warned: bool = False  # only entries with hygiene warnings
    limit: int | None = None  # the newest N of the matches

    def accepts(self, entry: Entry) -> bool:
        _, time, method, path, key, status, _, request_id, warnings, _ = entry
        return (
            (self.key is None or key == self.key)
            and (self.path is None or path.startswith(self.path))
            and (self.method is None or method == self.method)
            and (self.status is None or status == self.status)
            and (self.since is None or time >= self.since)
            and (self.request_id is None or request_id == self.request_id)
            and (not self.warned or bool(warnings))
        )


class Journal:
    """Every gateway call, oldest first, bounded to the newest ``capacity`` entries."""

    def __init__(self, capacity: int) -> None:
        if capacity < 1:
            raise ValueError("the journal needs room for at least one entry")
        self._entries: deque[Entry] = deque(maxlen=capacity)
        self._seq = 0

    @property
    def capacity(self) -> int:
        return self._entries.maxlen or 0

    @property
    def recorded(self) -> int:
        """How many calls were recorded since the start or the last reset."""
        return self._seq

    def __len__(self) -> int:
        return len(self._entries)

    def record(
        self,
        time: float,
        method: str,
        path: str,
        key: str | None,
        status: int | None,
        note: JournalNote | None = None,
    ) -> None:
        """Append one call; ``note`` carries what the gateway pipeline learned about it."""
        self._seq += 1
        entry: Entry
        if note is None:
            entry = (self._seq, time, method, path, key, status, None, None, (), ())
        else:
            raw = note.body
            body = None if raw is None else keep_body(raw)
            entry = (
                self._seq, time, method, path, key, status, body, note.request_id,
                note.warnings, note.faults,
            )  # fmt: skip
        self._entries.append(entry)

    def select(self, where: JournalFilter) -> list[dict[str, Any]]:
        found = [entry for entry in self._entries if where.accepts(entry)]
        if where.limit is not None:
            found = found[-where.limit :] if where.limit else []
        return [entry_json(entry) for entry in found]

    def clear(self) -> None:
        self._entries.clear()
        self._seq = 0
