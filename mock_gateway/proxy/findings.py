"""A broken contract rule, as the rules report it and the report lists it."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True, slots=True)
class Finding:
    rule: str  # e.g. "request-schema", "status-documented", "media-count"
    evidence: str  # what was seen, and what the contract says
