"""How the state file is written (no SQLite import here: the CLI reads these at start-up)."""

from __future__ import annotations

from dataclasses import dataclass

SYNC_LEVELS = ("normal", "full")


class StateFileError(Exception):
    """The state file cannot be used; the message names it and says why, in one line."""


@dataclass(frozen=True, slots=True)
class StoreOptions:
    synchronous: str = "normal"  # normal: survives a killed process; full: a power cut too
    max_bytes: int | None = None  # refuse commits that would grow the file past this
