"""The log sections of a snapshot: the request journal and the client-hygiene hints.

Like ``codec_steering``: a ``*_section`` writes the state as JSON, a ``read_*`` checks a
section and builds what ``codec.restore`` installs once every section has been read.
"""

from __future__ import annotations

from typing import Any

from mock_gateway.persistence.codec_fields import (
    MAX_TEXT,
    Fields,
    SnapshotRefused,
    b64_bytes,
    b64_text,
)
from mock_gateway.persistence.codec_jobs import STATUSES
from mock_gateway.steering.bounded import PATH_CAP, TEXT_CAP
from mock_gateway.steering.hygiene import Hygiene, PollHint, RetryHint, SubmitHint
from mock_gateway.steering.journal import BODY_CAP, Entry, Flag, Journal, flag_json

ENTRY_FIELDS = (
    "seq", "time", "method", "path", "key", "status", "body", "request_id", "warnings",
    "faults", "body_bytes", "truncated", "error",
)  # fmt: skip
TRUNCATABLE = ("body", "path", "key", "request_id")
MAX_COUNT = 2**62


# -- journal -----------------------------------------------------------------------------


def _body_json(body: bytes | str | None) -> dict[str, str] | None:
    if body is None:
        return None
    return {"bytes": b64_text(body)} if isinstance(body, bytes) else {"text": body}


def entry_record(entry: Entry) -> dict[str, Any]:
    """One journal entry, its fields named (``ENTRY_FIELDS`` is the tuple's order)."""
    record: dict[str, Any] = dict(zip(ENTRY_FIELDS, entry, strict=True))
    record["body"] = _body_json(entry[6])
    record["warnings"] = [[flag[0], flag_json(flag)["message"]] for flag in entry[8]]
    record["faults"], record["truncated"] = list(entry[9]), list(entry[11])
    return record


def journal_section(journal: Journal) -> dict[str, Any]:
    return {
        "recorded": journal.recorded,
        "entries": [entry_record(entry) for entry in journal.entries()],
    }


def _body(fields: Fields) -> bytes | str | None:
    value = fields.raw("body")
    if value is None:
        return None
    body = Fields(value, fields.at("body"), ("bytes", "text"))
    if len(body.data) != 1:
        raise body.refuse("", 'must hold one of "bytes" (base64) or "text"')
    if "bytes" in body.data:
        return b64_bytes(body.data["bytes"], body.at("bytes"), BODY_CAP)
    return body.text("text", limit=2 * BODY_CAP)


def _warning(item: Any, where: str) -> Flag:
    if (
        not isinstance(item, list)
        or len(item) != 2
        or not all(isinstance(text, str) and len(text) <= MAX_TEXT for text in item)
    ):
        raise SnapshotRefused(f"{where}: must be [kind, message]")
    return (item[0], "{}", (item[1],))  # worded already: shown as written


def _entry(data: Any, where: str) -> Entry:
    fields = Fields(data, where, ENTRY_FIELDS)
    truncated = fields.strings("truncated")
    if any(name not in TRUNCATABLE for name in truncated):
        raise fields.refuse("truncated", f"may only name {', '.join(TRUNCATABLE)}")
    warnings = tuple(_warning(item, at) for at, item in fields.indexed("warnings"))
    return (
        fields.integer("seq", 1, MAX_COUNT),
        fields.time("time"),
        fields.text("method", limit=32, empty=False),
        fields.text("path", limit=PATH_CAP),
        fields.optional_text("key", limit=TEXT_CAP),
        fields.optional_integer("status", 100, 599),
        _body(fields),
        fields.optional_text("request_id", limit=TEXT_CAP),
        warnings,
        tuple(fields.strings("faults", limit=32)),
        fields.optional_integer("body_bytes", 0, MAX_COUNT),
        tuple(truncated),
        fields.optional_text("error", limit=4096),
    )


def read_journal(data: Any) -> tuple[list[Entry], int]:
    fields = Fields(data, "journal", ("recorded", "entries"))
    entries = [_entry(item, where) for where, item in fields.indexed("entries")]
    recorded = fields.integer("recorded", 0, MAX_COUNT)
    if entries and recorded < entries[-1][0]:
        raise fields.refuse("recorded", "must be at least the last entry's seq")
    return entries, recorded


# -- client hygiene ----------------------------------------------------------------------

Hints = tuple[list[RetryHint], list[PollHint], list[SubmitHint]]
HINT_ROWS = {
    "retry_after": ("key", "group", "not_before", "retry_after"),
    "polls": ("key", "request_id", "time", "status", "gap"),
    "submits": ("key", "path", "crc32", "length", "time"),
}


def hygiene_section(hygiene: Hygiene) -> dict[str, Any]:
    retry_after, polls, submits = hygiene.hints()
    return {
        "submits": [[key, *fingerprint, at] for (key, fingerprint), at in submits],
        "retry_after": [[key, group, *pending] for (key, group), pending in retry_after],
        "polls": [
            [key, request_id, at, None if status is None else str(status), gap]
            for (key, request_id), (at, status, gap) in polls
        ],
    }


def read_hygiene(data: Any) -> Hints:
    fields = Fields(data, "hygiene", tuple(HINT_ROWS))
    retry_after: list[RetryHint] = [
        (
            (row.text("key", limit=TEXT_CAP), row.choice("group", ("submit", "status"))),
            (row.time("not_before"), row.integer("retry_after", 0, 10**9)),
        )
        for row in fields.rows("retry_after", HINT_ROWS["retry_after"])
    ]
    polls: list[PollHint] = [
        (
            (row.text("key", limit=TEXT_CAP), row.text("request_id", limit=TEXT_CAP)),
            (
                row.time("time"),
                row.choice("status", STATUSES) if row.has("status") else None,
                row.optional_number("gap", 0.0, 1e12),
            ),
        )
        for row in fields.rows("polls", HINT_ROWS["polls"])
    ]
    submits: list[SubmitHint] = [
        (
            (
                row.text("key", limit=TEXT_CAP),
                (
                    row.text("path", limit=PATH_CAP),
                    row.integer("crc32", 0, 2**32 - 1),
                    row.integer("length", 0, 2**62),
                ),
            ),
            row.time("time"),
        )
        for row in fields.rows("submits", HINT_ROWS["submits"])
    ]
    return retry_after, polls, submits
