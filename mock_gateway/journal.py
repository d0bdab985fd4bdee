"""The request journal: what clients sent and what they got, newest N entries only.

Recording must cost next to nothing on the hot status path (a bounded ``deque`` append of
one small slotted object); turning entries into JSON happens only when a test asks for them.
A load test of a million requests therefore leaves memory flat.
"""

from __future__ import annotations

import json
from collections import deque
from collections.abc import MutableMapping
from dataclasses import dataclass
from typing import Any

from .core import format_timestamp

BODY_CAP = 8192  # bytes kept verbatim; larger bodies (data URLs) are abbreviated
LONG_STRING = 256  # in an abbreviated body, strings longer than this are shortened


def redact_key(key: str | None) -> str | None:
    """A key as logs show it: its last 4 characters only."""
    if key is None:
        return None
    return "****" + key[-4:] if len(key) > 4 else "****"


@dataclass(slots=True)
class Entry:
    seq: int
    time: float
    method: str
    path: str
    key: str | None  # the full key, for filtering; shown redacted
    status: int | None  # None: the connection was dropped
    body: bytes | str | None
    request_id: str | None
    warnings: list[dict[str, str]] | None
    faults: list[str] | None

    def to_json(self) -> dict[str, Any]:
        return {
            "seq": self.seq,
            "time": self.time,
            "at": format_timestamp(self.time),
            "method": self.method,
            "path": self.path,
            "key": redact_key(self.key),
            "status": self.status,
            "request_id": self.request_id,
            "body": _show_body(self.body),
            "warnings": self.warnings or [],
            "faults": self.faults or [],
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
        return (
            (self.key is None or entry.key == self.key)
            and (self.path is None or entry.path.startswith(self.path))
            and (self.method is None or entry.method == self.method)
            and (self.status is None or entry.status == self.status)
            and (self.since is None or entry.time >= self.since)
            and (self.request_id is None or entry.request_id == self.request_id)
            and (not self.warned or bool(entry.warnings))
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
        scope: MutableMapping[str, Any],
    ) -> None:
        """Append one call; ``scope`` carries what the handler learned (``mock.*`` keys)."""
        self._seq += 1
        raw = scope.get("mock.body")
        self._entries.append(
            Entry(
                seq=self._seq,
                time=time,
                method=method,
                path=path,
                key=key,
                status=status,
                body=None if raw is None else keep_body(raw),
                request_id=scope.get("mock.request_id"),
                warnings=scope.get("mock.warnings"),
                faults=scope.get("mock.faults"),
            )
        )

    def select(self, where: JournalFilter) -> list[dict[str, Any]]:
        found = [entry for entry in self._entries if where.accepts(entry)]
        if where.limit is not None:
            found = found[-where.limit :] if where.limit else []
        return [entry.to_json() for entry in found]

    def clear(self) -> None:
        self._entries.clear()
        self._seq = 0
