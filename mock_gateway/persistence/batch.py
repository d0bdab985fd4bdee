"""One commit's worth of changes (``Batch``), as the tracker collects them and the store
writes them, and what the store needs of the codec."""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from typing import Any, Protocol

from mock_gateway.core import Job

# submit order (the row's key), request id, status, mock time it became terminal, the
# record's spec (JSON text; None: already on disk, it never changes), the rest (JSON text)
JobRow = tuple[int, str, str, float | None, str | None, str]


class Codec(Protocol):
    """What the store needs of ``mock_gateway.persistence.codec``."""

    FORMAT: int

    def job_record(self, job: Job) -> dict[str, Any]: ...

    def job_from_record(self, record: Any) -> Job: ...

    def section(self, state: Any, name: str) -> Any: ...

    def snapshot(self, state: Any) -> dict[str, Any]: ...

    def restore(self, state: Any, data: Any) -> None: ...


def to_text(data: Any) -> str:
    return json.dumps(data, separators=(",", ":"), ensure_ascii=False)


@dataclass
class Batch:
    """One transaction's worth of changes."""

    jobs: dict[str, JobRow] = field(default_factory=dict)  # upserted
    deleted: dict[str, int] = field(default_factory=dict)  # request id -> its row's seq
    clear_jobs: bool = False  # every job row goes first (a reset, a restore)
    sections: dict[str, str] = field(default_factory=dict)
    meta: dict[str, str] = field(default_factory=dict)
    journal: dict[int, str] = field(default_factory=dict)  # new entries: seq -> JSON text
    journal_from: int | None = None  # entries before this seq have left the journal
    journal_clear: bool = False  # every entry row goes first (the journal was emptied)

    def absorb_older(self, older: Batch) -> None:
        """Lay a failed earlier batch under this one (this one's changes win), so a commit
        that failed (a full disk) is retried with the next."""
        if not self.clear_jobs:
            self.clear_jobs = older.clear_jobs
            kept = {rid: row for rid, row in older.jobs.items() if rid not in self.deleted}
            for rid, row in self.jobs.items():
                earlier = kept.get(rid)
                if row[4] is None and earlier is not None:  # the spec only the older one has
                    row = (*row[:4], earlier[4], row[5])
                kept[rid] = row
            self.jobs = kept
            gone = {rid: seq for rid, seq in older.deleted.items() if rid not in self.jobs}
            self.deleted = gone | self.deleted
        self.sections = older.sections | self.sections
        self.meta = older.meta | self.meta
        if not self.journal_clear:
            self.journal_clear = older.journal_clear
            self.journal = older.journal | self.journal
        if self.journal_from is None:
            self.journal_from = older.journal_from
