"""The request journal: what clients sent and what they got, newest N entries only.

Recording must cost next to nothing on the hot status path (a bounded ``deque`` append of
one small tuple); turning entries into JSON happens only when a test asks for them, one page
at a time. The journal is bounded by entries and by bytes: every text it keeps is clipped
(path, key, request id, body: see ``bounded`` and ``journal_body``) and the entries' total
weight stays under ``max_bytes``, so a million requests, or a thousand hostile ones with
megabyte paths, leave memory flat.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, NamedTuple

from mock_gateway.core import format_timestamp
from mock_gateway.steering.bounded import (
    PATH_CAP,
    TEXT_CAP,
    ByteBoundedLog,
    clip,
    clip_optional,
    page_bounds,
)
from mock_gateway.steering.journal_body import BODY_CAP, keep_body, show_body

__all__ = [
    "BODY_CAP",
    "Entry",
    "Flag",
    "Journal",
    "JournalFilter",
    "JournalNote",
    "flag_json",
    "redact_key",
]

ENTRY_OVERHEAD = 400  # bytes an entry weighs besides its texts (tuple, floats, ints)
DEFAULT_MAX_BYTES = 32 * 1024 * 1024


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


class JournalNote(NamedTuple):
    """What the gateway pipeline learned about one call, for its journal entry (a
    NamedTuple: immutable, and built on every call at a fraction of a frozen dataclass's
    cost)."""

    key: str | None  # the key as sent (shown redacted)
    body: bytes | None = None  # the submit body, once the call got past API Management
    request_id: str | None = None
    warnings: tuple[Flag, ...] = ()
    faults: tuple[str, ...] = ()  # ids of the fault rules that fired


# One journal entry, as a plain tuple (the cheapest thing to build on the hot path):
# (seq, time, method, path, key, status, body, request_id, warnings, faults, body_bytes,
# truncated, error). ``key`` is the (clipped) full key, for filtering; it is shown redacted.
# ``status`` None: no answer was sent (``error`` says why). ``truncated`` names the fields
# that were clipped; ``body_bytes`` is the size of the body as sent.
Entry = tuple[
    int, float, str, str, str | None, int | None, bytes | str | None, str | None,
    tuple[Flag, ...], tuple[str, ...], int | None, tuple[str, ...], str | None,
]  # fmt: skip


def entry_json(entry: Entry) -> dict[str, Any]:
    (seq, time, method, path, key, status, body, request_id, warnings, faults, body_bytes,
     truncated, error) = entry  # fmt: skip
    return {
        "seq": seq,
        "time": time,
        "at": format_timestamp(time),
        "method": method,
        "path": path,
        "key": redact_key(key),
        "status": status,
        "error": error,
        "request_id": request_id,
        "body": show_body(body),
        "body_bytes": body_bytes,
        "body_truncated": "body" in truncated,
        "truncated": list(truncated),
        "warnings": [flag_json(flag) for flag in warnings],
        "faults": list(faults),
    }


@dataclass(frozen=True, slots=True)
class JournalFilter:
    key: str | None = None
    path: str | None = None  # a prefix: "/v2/requests/status" selects every status poll
    method: str | None = None
    status: int | None = None
    since: float | None = None  # mock time, inclusive
    request_id: str | None = None
    warned: bool = False  # only entries with hygiene warnings
    limit: int | None = None  # page size; without ``offset``: the newest N of the matches
    offset: int | None = None  # page start among the matches, oldest first

    def accepts(self, entry: Entry) -> bool:
        _, time, method, path, key, status, _, request_id, warnings, *_ = entry
        return (
            (self.key is None or key == clip(self.key))
            and (self.path is None or path.startswith(self.path))
            and (self.method is None or method == self.method)
            and (self.status is None or status == self.status)
            and (self.since is None or time >= self.since)
            and (self.request_id is None or request_id == clip(self.request_id))
            and (not self.warned or bool(warnings))
        )


@dataclass(frozen=True, slots=True)
class JournalPage:
    entries: list[dict[str, Any]]
    total: int  # matches in all
    next_offset: int | None  # where the next page starts; None: this is the last


def _weigh(*texts: bytes | str | None) -> int:
    return ENTRY_OVERHEAD + sum(len(text) for text in texts if text is not None)


class Journal:
    """Every gateway call, oldest first, bounded to the newest ``capacity`` entries and to
    ``max_bytes`` of kept texts in all."""

    def __init__(self, capacity: int, max_bytes: int = DEFAULT_MAX_BYTES) -> None:
        self._entries: ByteBoundedLog[Entry] = ByteBoundedLog(capacity, max_bytes)
        self._seq = 0

    @property
    def capacity(self) -> int:
        return self._entries.capacity

    @property
    def max_bytes(self) -> int:
        return self._entries.max_bytes

    @property
    def total_bytes(self) -> int:
        return self._entries.total_bytes

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
        error: str | None = None,
    ) -> None:
        """Append one call; ``note`` carries what the gateway pipeline learned about it."""
        self._seq += 1
        if note is None:
            raw = request_id = None
            warnings: tuple[Flag, ...] = ()
            faults: tuple[str, ...] = ()
        else:
            _, raw, request_id, warnings, faults = note
        # Nearly every call has short texts, nothing to clip: kept as they are, weighed inline
        # (the same weight ``_weigh`` gives), and the entry built at once.
        weight = ENTRY_OVERHEAD + len(path)
        if key is not None:
            weight += len(key)
        if request_id is not None:
            weight += len(request_id)
        if raw is not None:
            weight += len(raw)
        if (
            len(path) > PATH_CAP
            or (key is not None and len(key) > TEXT_CAP)
            or (request_id is not None and len(request_id) > TEXT_CAP)
            or (raw is not None and len(raw) > BODY_CAP)
        ):
            self._record_clipped(time, method, path, key, status, raw, request_id, warnings,
                                 faults, error)  # fmt: skip
            return
        entry: Entry = (
            self._seq, time, method, path, key, status, raw, request_id, warnings, faults,
            None if raw is None else len(raw), (), error,
        )  # fmt: skip
        self._entries.append(entry, weight)

    def _record_clipped(
        self,
        time: float,
        method: str,
        path: str,
        key: str | None,
        status: int | None,
        raw: bytes | None,
        request_id: str | None,
        warnings: tuple[Flag, ...],
        faults: tuple[str, ...],
        error: str | None,
    ) -> None:
        """``record`` for a call with a text over its cap: each kept clipped, and named."""
        truncated: tuple[str, ...] = ()
        body: bytes | str | None = None
        if raw is not None:
            body = keep_body(raw)
            if body is not raw:
                truncated = ("body",)
        kept_path = clip(path, PATH_CAP)
        kept_key = clip_optional(key)
        kept_id = clip_optional(request_id)
        if kept_path is not path:
            truncated += ("path",)
        if kept_key is not key:
            truncated += ("key",)
        if kept_id is not request_id:
            truncated += ("request_id",)
        entry: Entry = (
            self._seq, time, method, kept_path, kept_key, status, body, kept_id, warnings,
            faults, None if raw is None else len(raw), truncated, error,
        )  # fmt: skip
        self._entries.append(entry, _weigh(kept_path, kept_key, body, kept_id))

    def page(self, where: JournalFilter) -> JournalPage:
        """One page of the matches, turned into JSON (only that page is)."""
        found = [entry for entry in self._entries if where.accepts(entry)]
        limit = len(found) if where.limit is None else where.limit
        start, stop, next_offset = page_bounds(len(found), limit, where.offset)
        return JournalPage([entry_json(e) for e in found[start:stop]], len(found), next_offset)

    def select(self, where: JournalFilter) -> list[dict[str, Any]]:
        return self.page(where).entries

    def clear(self) -> None:
        self._entries.clear()
        self._seq = 0

    def entries(self) -> list[Entry]:
        """Every entry kept, oldest first (for snapshots)."""
        return list(self._entries)

    def restore(self, entries: list[Entry], recorded: int) -> None:
        """Hold ``entries`` (as ``entries()`` gave them; this journal's bounds apply) and go
        on counting from ``recorded``."""
        self.clear()
        for entry in entries:
            self._entries.append(entry, _weigh(entry[3], entry[4], entry[6], entry[7]))
        self._seq = recorded
