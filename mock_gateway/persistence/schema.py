"""The state file's layout, its version, and the migrations from every older layout.

``PRAGMA user_version`` holds the layout's version (0: a new, empty file). A file of an
older version is migrated in one transaction when the mock opens it; a newer one is refused
(``StateFileError``): this mock would not know what the newer columns mean.

Layout 1 (the first cut) kept the whole snapshot in one ``state`` row per section, the jobs
as one JSON list: every commit rewrote every job. Layout 2 keeps one row per job, so a
commit writes only the jobs that changed, and the small sections in rows of their own; a
job's spec (prompt, sizes, input images: most of its bytes) is written once, and a status
change rewrites only the small rest of its record; the journal's entries are rows too, so
a commit adds the new ones instead of rewriting ten thousand.
"""

from __future__ import annotations

import json
import sqlite3
from collections.abc import Callable

VERSION = 2

# Layout 1, as files written by it look (kept for the migration and its test).
LAYOUT_1 = """
CREATE TABLE meta (name TEXT PRIMARY KEY, value TEXT NOT NULL);
CREATE TABLE state (name TEXT PRIMARY KEY, data TEXT NOT NULL);
"""

LAYOUT_2 = """
CREATE TABLE meta (name TEXT PRIMARY KEY, value TEXT NOT NULL);
CREATE TABLE sections (name TEXT PRIMARY KEY, data TEXT NOT NULL);
CREATE TABLE jobs (
    seq INTEGER PRIMARY KEY,       -- submit order (the queue is first in, first out): no index
    request_id TEXT NOT NULL,      -- to add to: new rows append, a commit touches few pages
    status TEXT NOT NULL,
    finished_at REAL,              -- mock time it became terminal
    spec TEXT,                     -- the record's "spec" (JSON): written once, never changes
    record TEXT NOT NULL           -- the rest of the codec's job_record(job), as JSON
);
CREATE TABLE journal (
    seq INTEGER PRIMARY KEY,       -- the entry's number: the journal keeps the newest
    entry TEXT NOT NULL            -- the codec's entry record, as JSON
);
"""


def create(connection: sqlite3.Connection) -> None:
    """Lay out a new, empty file (inside the caller's transaction)."""
    for statement in _statements(LAYOUT_2):
        connection.execute(statement)
    connection.execute(f"PRAGMA user_version = {VERSION}")


def _statements(script: str) -> list[str]:
    lines = [line.split("--")[0] for line in script.splitlines()]
    return [part.strip() for part in "\n".join(lines).split(";") if part.strip()]


def _from_1(connection: sqlite3.Connection) -> None:
    """One ``state`` row per section, the jobs in one list -> one row per job."""
    rows = connection.execute("SELECT name, data FROM state").fetchall()
    connection.execute("ALTER TABLE state RENAME TO layout_1_state")
    for statement in _statements(LAYOUT_2)[1:]:  # meta stays as it is
        connection.execute(statement)
    for name, data in rows:
        if name == "journal":
            journal = json.loads(data)
            for entry in journal.pop("entries", []):
                connection.execute(
                    "INSERT INTO journal (seq, entry) VALUES (?, ?)",
                    (int(entry["seq"]), json.dumps(entry)),
                )
            connection.execute(
                "INSERT INTO sections (name, data) VALUES (?, ?)", (name, json.dumps(journal))
            )
            continue
        if name != "jobs":
            connection.execute("INSERT INTO sections (name, data) VALUES (?, ?)", (name, data))
            continue
        for seq, record in enumerate(json.loads(data), start=1):
            status = str(record.get("status", "QUEUED"))
            finished = (
                record.get("completed_at") if status not in ("QUEUED", "PROCESSING") else None
            )
            spec = json.dumps(record.pop("spec", None))
            connection.execute(
                "INSERT INTO jobs (seq, request_id, status, finished_at, spec, record)"
                " VALUES (?, ?, ?, ?, ?, ?)",
                (seq, str(record["request_id"]), status, finished, spec, json.dumps(record)),
            )
    connection.execute("DROP TABLE layout_1_state")


# version -> the step that brings a file of that version to the next one
MIGRATIONS: dict[int, Callable[[sqlite3.Connection], None]] = {1: _from_1}


def migrate(connection: sqlite3.Connection, found: int) -> None:
    """Bring a file of layout ``found`` (< VERSION) up to date, inside the caller's
    transaction: a failed step leaves the file as it was."""
    for version in range(found, VERSION):
        MIGRATIONS[version](connection)
    connection.execute(f"PRAGMA user_version = {VERSION}")
