"""How the state file is written, and its two errors (no SQLite import here: the CLI and
the HTTP layer read these without ``--state`` too)."""

from __future__ import annotations

from dataclasses import dataclass

SYNC_LEVELS = ("normal", "full")


class StateFileError(Exception):
    """The state file cannot be used; the message names it and says why, in one line."""


class StateWriteError(Exception):
    """A commit failed (a full disk, an I/O error): the change is not on disk. An answer
    that waited for it is a 503 (``mock_gateway.web.persisted.unsaved_answer``)."""


@dataclass(frozen=True, slots=True)
class StoreOptions:
    synchronous: str = "normal"  # normal: survives a killed process; full: a power cut too
    max_bytes: int | None = None  # refuse commits that would grow the file past this
