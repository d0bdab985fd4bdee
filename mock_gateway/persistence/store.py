"""The state file: SQLite (standard library) in WAL mode, one connection, one writer.

``StateStore.open`` checks the file before the mock starts and refuses, in one line naming
the file, what it cannot use: not a state file, corrupt, written by a newer mock, read-only,
in use by another mock. An older layout is migrated (``schema``). The connection holds an
exclusive lock for the mock's life, so a second mock on the same file is refused too.

Durability (``synchronous``): ``normal`` (the default) makes every commit survive the mock's
process being killed (SIGKILL included); the WAL is synced to the disk at checkpoints, so a
power cut or an OS crash may lose the last commits (never the file). ``full`` syncs the WAL
on every commit: it survives power loss too, at the cost of one fsync per group commit.
"""

from __future__ import annotations

import contextlib
import fcntl
import json
import logging
import os
import sqlite3
import stat
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from mock_gateway.persistence import schema
from mock_gateway.persistence.batch import Batch
from mock_gateway.persistence.options import (
    SYNC_LEVELS,
    StateFileError,
    StateWriteError,
    StoreOptions,
)

log = logging.getLogger("mock_gateway.persistence")

APPLICATION_ID = 0x5EED6A7E  # PRAGMA application_id: marks the file as ours
SQLITE_HEADER = b"SQLite format 3\x00"
WAL_LIMIT = 16 * 1024 * 1024  # the write-ahead log is cut back to this after a checkpoint


@dataclass(frozen=True, slots=True)
class Saved:
    """What a state file holds, in the codec's snapshot shape, and how it was left."""

    data: dict[str, Any]
    seqs: dict[str, int]  # request id -> the key of its row
    clean: bool  # the mock stopped cleanly (its last moment was saved)
    saved_wall: float | None  # real time of the last commit


def _refuse(path: Path, problem: str) -> StateFileError:
    return StateFileError(f"state file {path}: {problem}")


def _check_writable(path: Path) -> None:
    """Refuse a file (or folder) the user made read-only, even to root, who could write it."""
    folder = path.parent
    if not folder.is_dir():
        raise _refuse(path, "its folder does not exist")
    if path.exists():
        if path.is_dir():
            raise _refuse(path, "is a folder, not a file")
        if not path.stat().st_mode & (stat.S_IWUSR | stat.S_IWGRP | stat.S_IWOTH):
            raise _refuse(path, "is read-only (the mock writes every change to it)")
        if not os.access(path, os.R_OK | os.W_OK):
            raise _refuse(path, "cannot be read and written by this user")
        with path.open("rb") as file:
            head = file.read(len(SQLITE_HEADER))
        if head and head != SQLITE_HEADER:  # an empty file is a new database
            raise _refuse(path, "is not a mock-gateway state file (not an SQLite database)")
    if os.statvfs(folder).f_flag & os.ST_RDONLY:
        raise _refuse(path, "is on a read-only file system")
    if not os.access(folder, os.W_OK | os.X_OK):
        raise _refuse(path, f"its folder {folder} is not writable (SQLite keeps a journal there)")


class StateStore:
    def __init__(
        self, path: Path, connection: sqlite3.Connection, synchronous: str, lock: int
    ) -> None:
        self.path = path
        self.synchronous = synchronous
        self._db = connection
        self._lock = lock  # a descriptor holding flock(LOCK_EX): one mock per file
        self._checkpointer: sqlite3.Connection | None = None

    @classmethod
    def open(cls, path: str | Path, options: StoreOptions | None = None) -> StateStore:
        """Open (or create) the file, take its lock, migrate an older layout."""
        options = options or StoreOptions()
        if options.synchronous not in SYNC_LEVELS:
            raise ValueError(f"synchronous: one of {', '.join(SYNC_LEVELS)}")
        where = Path(path)
        _check_writable(where)
        lock = _lock(where)
        try:
            db = sqlite3.connect(where, isolation_level=None, check_same_thread=False, timeout=5)
        except sqlite3.Error as exc:
            os.close(lock)
            raise _refuse(where, f"cannot be opened ({exc})") from None
        try:
            cls._prepare(db, where, options)
        except (sqlite3.DatabaseError, StateFileError) as exc:
            db.close()
            os.close(lock)
            if isinstance(exc, StateFileError):
                raise
            raise _refuse(where, _describe(exc)) from None
        return cls(where, db, options.synchronous, lock)

    @staticmethod
    def _prepare(db: sqlite3.Connection, path: Path, options: StoreOptions) -> None:
        db.execute("BEGIN IMMEDIATE")
        version = db.execute("PRAGMA user_version").fetchone()[0]
        app_id = db.execute("PRAGMA application_id").fetchone()[0]
        tables = db.execute("SELECT count(*) FROM sqlite_master").fetchone()[0]
        if version == 0 and tables == 0:
            db.execute(f"PRAGMA application_id = {APPLICATION_ID}")
            schema.create(db)
            db.execute("INSERT INTO meta (name, value) VALUES ('created_by', 'mock-gateway')")
        elif app_id != APPLICATION_ID:
            db.execute("ROLLBACK")
            raise _refuse(path, "is an SQLite database but not a mock-gateway state file")
        elif version > schema.VERSION:
            db.execute("ROLLBACK")
            raise _refuse(
                path,
                f"was written by a newer mock-gateway (layout {version}; this one reads "
                f"up to {schema.VERSION}): upgrade mock-gateway or use another file",
            )
        elif version < schema.VERSION:
            schema.migrate(db, version)
        check = db.execute("PRAGMA quick_check").fetchone()[0]
        if check != "ok":
            db.execute("ROLLBACK")
            raise _refuse(path, f"is corrupt ({check})")
        db.execute("COMMIT")
        mode = db.execute("PRAGMA journal_mode = WAL").fetchone()[0]
        if mode != "wal":
            raise _refuse(path, f"cannot use write-ahead logging (journal mode {mode})")
        db.execute(f"PRAGMA synchronous = {options.synchronous.upper()}")
        # The keeper checkpoints from a thread of its own (a checkpoint syncs the disk and
        # must not hold the loop; PASSIVE never blocks the writer), and the WAL is cut
        # back to WAL_LIMIT once it has been copied.
        db.execute("PRAGMA wal_autocheckpoint = 0")
        db.execute(f"PRAGMA journal_size_limit = {WAL_LIMIT}")
        if options.max_bytes is not None:
            page = db.execute("PRAGMA page_size").fetchone()[0]
            db.execute(f"PRAGMA max_page_count = {max(1, options.max_bytes // page)}")

    # -- reading -------------------------------------------------------------------------

    def saved(self) -> Saved | None:
        """The state the file holds (None: a new file that has none yet)."""
        try:
            meta = dict(self._db.execute("SELECT name, value FROM meta").fetchall())
            if "codec_format" not in meta:
                return None
            data: dict[str, Any] = {"format": int(meta["codec_format"])}
            for name, text in self._db.execute("SELECT name, data FROM sections"):
                data[name] = json.loads(text)
            jobs = []
            seqs: dict[str, int] = {}
            rows = self._db.execute("SELECT seq, request_id, spec, record FROM jobs ORDER BY seq")
            for seq, request_id, spec, text in rows:
                record = json.loads(text)
                record["spec"] = json.loads(spec)
                jobs.append(record)
                seqs[request_id] = seq
            data["jobs"] = jobs
            if isinstance(data.get("journal"), dict):
                rows = self._db.execute("SELECT entry FROM journal ORDER BY seq")
                data["journal"]["entries"] = [json.loads(text) for (text,) in rows]
        except sqlite3.DatabaseError as exc:
            raise _refuse(self.path, _describe(exc)) from None
        except (ValueError, TypeError) as exc:  # not JSON (or missing), not a number
            raise _refuse(self.path, f"is corrupt (a saved row does not parse: {exc})") from None
        wall = meta.get("saved_wall")
        return Saved(data, seqs, meta.get("clean") == "1", float(wall) if wall else None)

    # -- writing (one thread at a time: the writer) --------------------------------------

    def write(self, batch: Batch, codec_format: int) -> None:
        """Commit ``batch`` in one transaction; raise ``StateWriteError`` if it cannot be."""
        db = self._db
        try:
            db.execute("BEGIN IMMEDIATE")
            if batch.clear_jobs:
                db.execute("DELETE FROM jobs")
            elif batch.deleted:
                db.executemany(
                    "DELETE FROM jobs WHERE seq = ?", [(seq,) for seq in batch.deleted.values()]
                )
            if batch.jobs:
                db.executemany(
                    "INSERT INTO jobs (seq, request_id, status, finished_at, spec, record)"
                    " VALUES (?, ?, ?, ?, ?, ?) ON CONFLICT (seq) DO UPDATE SET"
                    " request_id = excluded.request_id, status = excluded.status,"
                    " finished_at = excluded.finished_at, record = excluded.record,"
                    " spec = coalesce(excluded.spec, jobs.spec)",
                    batch.jobs.values(),
                )
            if batch.sections:
                db.executemany(
                    "INSERT OR REPLACE INTO sections (name, data) VALUES (?, ?)",
                    batch.sections.items(),
                )
            if batch.journal_clear:
                db.execute("DELETE FROM journal")
            elif batch.journal_from is not None:
                db.execute("DELETE FROM journal WHERE seq < ?", (batch.journal_from,))
            if batch.journal:
                db.executemany(
                    "INSERT OR REPLACE INTO journal (seq, entry) VALUES (?, ?)",
                    batch.journal.items(),
                )
            meta = {**batch.meta, "codec_format": str(codec_format)}
            db.executemany("INSERT OR REPLACE INTO meta (name, value) VALUES (?, ?)", meta.items())
            db.execute("COMMIT")
        except sqlite3.Error as exc:
            with contextlib.suppress(sqlite3.Error):  # (a closed or broken connection)
                if db.in_transaction:
                    db.execute("ROLLBACK")
            raise StateWriteError(f"state file {self.path}: {_describe(exc)}") from None

    def checkpoint(self) -> None:
        """Copy the write-ahead log into the database file, on a connection of its own (run
        it in a thread: it syncs the disk). The data is safe in the log either way, so a
        failure loses nothing and is only logged."""
        try:
            if self._checkpointer is None:
                self._checkpointer = sqlite3.connect(
                    self.path, isolation_level=None, check_same_thread=False, timeout=5
                )
            self._checkpointer.execute("PRAGMA wal_checkpoint(PASSIVE)")
        except sqlite3.Error as exc:
            log.warning("state file %s: checkpoint failed (%s); retried later", self.path, exc)

    def close(self) -> None:
        """Let the file go (again: nothing happens)."""
        if self._lock < 0:
            return
        if self._checkpointer is not None:
            self._checkpointer.close()
        self._db.close()
        os.close(self._lock)
        self._lock = -1


def _lock(path: Path) -> int:
    """An exclusive ``flock`` on the file (SQLite's own locks are ``fcntl`` locks, which
    ``flock`` does not touch): a second mock on the same file is refused."""
    try:
        descriptor = os.open(path, os.O_RDWR | os.O_CREAT, 0o644)
    except OSError as exc:
        raise _refuse(path, f"cannot be opened ({exc.strerror})") from None
    try:
        fcntl.flock(descriptor, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except OSError:
        os.close(descriptor)
        raise _refuse(path, "is in use by another running mock-gateway") from None
    return descriptor


def _describe(exc: sqlite3.Error) -> str:
    text = str(exc)
    if "not a database" in text or "malformed" in text:
        return f"is corrupt ({text})"
    if "full" in text:
        return "the disk (or the --state-max-mb limit) is full: the change was not saved"
    if "readonly" in text:
        return "is read-only (the mock writes every change to it)"
    return text
