"""``python -m seedream_contracts diff OLD NEW``: behavioural drift between two runs.

OLD and NEW are each a report (``report.json``) or a recording directory (``--record``,
or the shipped ``fixtures/recordings/documented``). Both are reduced to a behaviour profile
(``profile.py``) and compared where both have observations: new, missing or retyped fields,
changed status codes or messages, changed media types or sizes, shifted timing. Scenarios
that only one side exercised are listed separately, as coverage, not drift.
"""

from __future__ import annotations

import argparse
import json
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

from seedream_contracts.profile import GENERATED, build_profile
from seedream_contracts.recording import load_recording
from seedream_contracts.report import FORMAT as REPORT_FORMAT


@dataclass(frozen=True)
class Drift:
    kind: str  # status | field-new | field-missing | field-retyped | message | media | timing
    where: str
    old: Any
    new: Any

    def line(self) -> str:
        return f"[{self.kind}] {self.where}: {_show(self.old)} -> {_show(self.new)}"


def _show(value: Any) -> str:
    if isinstance(value, list | tuple | set):
        return "{" + ", ".join(map(str, value)) + "}" if value else "(none)"
    return "(none)" if value is None else str(value)


def load_profile(path: Path) -> dict[str, Any]:
    """The behaviour profile of a report file or a recording directory."""
    if path.is_dir():
        index, exchanges = load_recording(path)
        return build_profile(exchanges, index.get("timing") or {})
    document = json.loads(path.read_text())
    if document.get("format") != REPORT_FORMAT:
        raise ValueError(f"{path}: neither a contract report nor a recording directory")
    profile: dict[str, Any] = document["observations"]
    return profile


def compare(
    old: dict[str, Any], new: dict[str, Any], tolerance: float = 0.5
) -> tuple[list[Drift], list[str]]:
    """``(drift, coverage)``: what changed where both sides observed, and what only one did."""
    drift: list[Drift] = []
    coverage: list[str] = []
    for key in sorted(set(old["groups"]) | set(new["groups"])):
        if key not in new["groups"]:
            coverage.append(f"only in OLD: {key}")
            continue
        if key not in old["groups"]:
            coverage.append(f"only in NEW: {key}")
            continue
        drift += _compare_group(key, old["groups"][key], new["groups"][key])
    for key in sorted(set(old["media"]) & set(new["media"])):
        for facet in ("statuses", "content_types", "formats", "sizes"):
            before, after = old["media"][key].get(facet), new["media"][key].get(facet)
            if before and after and before != after:
                drift.append(Drift("media", f"{key} {facet}", before, after))
    for key in sorted(set(old["media"]) ^ set(new["media"])):
        coverage.append(f"only in {'OLD' if key in old['media'] else 'NEW'}: media {key}")
    for operation in sorted(set(old["timing"]) & set(new["timing"])):
        before = old["timing"][operation]["created_to_completed_median_s"]
        after = new["timing"][operation]["created_to_completed_median_s"]
        if abs(after - before) > max(1.0, tolerance * max(before, after)):
            drift.append(
                Drift("timing", f"{operation} created-to-completed median (s)", before, after)
            )
    return drift, coverage


def _compare_group(key: str, old: dict[str, Any], new: dict[str, Any]) -> list[Drift]:
    drift: list[Drift] = []
    if set(old["statuses"]) != set(new["statuses"]):
        drift.append(Drift("status", key, sorted(old["statuses"]), sorted(new["statuses"])))
    for status in sorted(set(old["fields"]) & set(new["fields"])):
        before, after = old["fields"][status], new["fields"][status]
        for path in sorted(set(before) | set(after)):
            where = f"{key} {status} {path}"
            if path not in before:
                drift.append(Drift("field-new", where, None, after[path]))
            elif path not in after:
                drift.append(Drift("field-missing", where, before[path], None))
            elif before[path] != after[path]:
                drift.append(Drift("field-retyped", where, before[path], after[path]))
    if GENERATED in key:
        return drift  # generated inputs: their messages vary from run to run by design
    for status in sorted(set(old["messages"]) & set(new["messages"])):
        if old["messages"][status] != new["messages"][status]:
            drift.append(
                Drift(
                    "message", f"{key} {status}", old["messages"][status], new["messages"][status]
                )
            )
    return drift


def run_diff(args: argparse.Namespace) -> int:
    try:
        old, new = load_profile(args.old), load_profile(args.new)
    except (OSError, ValueError, KeyError) as exc:
        print(f"contracts diff: {exc}")
        return 2
    drift, coverage = compare(old, new, args.timing_tolerance)
    if args.json:
        print(json.dumps({"drift": [asdict(d) for d in drift], "coverage": coverage}, indent=2))
    else:
        print(f"behavioural drift from {args.old} to {args.new}: {len(drift)} item(s)")
        for item in drift:
            print("  " + item.line())
        if coverage:
            shown = coverage if args.coverage else coverage[:5]
            print(f"scenarios only one side exercised (coverage, not drift): {len(coverage)}")
            for line in shown:
                print("  " + line)
            if len(shown) < len(coverage):
                print("  ... (--coverage lists them all)")
    return 1 if drift else 0
