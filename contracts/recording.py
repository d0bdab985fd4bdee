"""``--record DIR``: every exchange saved as a sanitized fixture, plus an index.

Layout::

    DIR/index.json                       what was recorded, from which kind of target
    DIR/exchanges/0001-<operation>-<status>.json   one sanitized exchange each

Keys, signed URL parameters and the target's host are redacted (see ``redact.py``), binary
bodies (images) are kept as facts (format, pixel size, bytes, digest), so a recording is
safe to commit and compares cleanly between the mock and the live gateway.
"""

from __future__ import annotations

import json
import re
import time
from pathlib import Path
from typing import Any

FORMAT = "seedream-contracts-recording/1"
_UNSAFE = re.compile(r"[^A-Za-z0-9_.-]+")


def fixture_name(fixture: dict[str, Any]) -> str:
    response = fixture.get("response") or {}
    status = response.get("status", "noanswer")
    label = _UNSAFE.sub("-", f"{fixture.get('operation', 'other')}-{status}")
    return f"{int(fixture.get('seq', 0)):04d}-{label}.json"


class Recorder:
    def __init__(self, directory: Path, target: dict[str, Any]) -> None:
        self.directory = Path(directory)
        self.exchanges_dir = self.directory / "exchanges"
        self.exchanges_dir.mkdir(parents=True, exist_ok=True)
        for old in self.exchanges_dir.glob("*.json"):
            old.unlink()  # a recording is one run; never mix two
        self.target = target
        self.names: list[str] = []

    def write(self, fixture: dict[str, Any]) -> None:
        name = fixture_name(fixture)
        (self.exchanges_dir / name).write_text(json.dumps(fixture, indent=2, sort_keys=True) + "\n")
        self.names.append(name)

    def close(self, timing: dict[str, Any], target: dict[str, Any] | None = None) -> None:
        index = {
            "format": FORMAT,
            "recorded_at": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()),
            "target": target or self.target,
            "exchanges": self.names,
            "timing": timing,
        }
        write_index(self.directory, index)


def write_index(directory: Path, index: dict[str, Any]) -> None:
    (directory / "index.json").write_text(json.dumps(index, indent=2, sort_keys=True) + "\n")


def load_recording(directory: Path) -> tuple[dict[str, Any], list[dict[str, Any]]]:
    """The index and the exchanges of a recording directory."""
    index = json.loads((directory / "index.json").read_text())
    if index.get("format") != FORMAT:
        raise ValueError(f"{directory}: not a recording ({index.get('format')!r})")
    exchanges = [
        json.loads((directory / "exchanges" / name).read_text()) for name in index["exchanges"]
    ]
    return index, exchanges
