"""What the proxy remembers for ``GET /_proxy/report`` and the summary at stop.

Everything is bounded: the last N exchanges, violations and refusals are kept (older ones
are dropped; the counts stay exact), and bodies are cut to a few thousand characters.
Every violation is logged once, in one line, when it is first found; the same violation
again (same operation, rule, request id and evidence) only counts as a repeat.
"""

from __future__ import annotations

import json
import logging
import time
from collections import Counter, OrderedDict, deque
from collections.abc import Callable
from typing import Any

from mock_gateway.proxy.findings import Finding

log = logging.getLogger("mock_gateway.proxy")
MAX_EVIDENCE = 500  # characters of evidence kept and logged per violation


def _cut(value: Any, limit: int) -> Any:
    """``value`` as is when its JSON is short, else the start of that JSON (a string)."""
    text = json.dumps(value, ensure_ascii=False)
    if len(text) <= limit:
        return value
    return f"{text[:limit]}... ({len(text)} characters)"


class ProxyReport:
    def __init__(
        self,
        upstream: str,
        *,
        exchanges: int,
        violations: int,
        refusals: int,
        body_chars: int,
        scrub: Callable[[str], str],
    ) -> None:
        self.upstream = upstream
        self.scrub = scrub  # evidence can quote what a caller sent: keys never get through
        self.started_at = time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime())
        self.body_chars = body_chars
        self.exchanges: deque[dict[str, Any]] = deque(maxlen=exchanges)
        self.violations: deque[dict[str, Any]] = deque(maxlen=violations)
        self.refusals: deque[dict[str, Any]] = deque(maxlen=refusals)
        self.counts: Counter[str] = Counter()
        self.by_rule: Counter[str] = Counter()
        self._listed: OrderedDict[tuple[str, str, str, str], dict[str, Any]] = OrderedDict()
        self.seq = 0

    def next_seq(self) -> int:
        self.seq += 1
        return self.seq

    def violation(
        self, seq: int, operation: str, finding: Finding, request_id: str | None = None
    ) -> None:
        """Count it; list and log it the first time only (a wrong COMPLETED body read ten
        times is one violation seen ten times, not ten log lines)."""
        self.counts["violations"] += 1
        self.by_rule[finding.rule] += 1
        evidence = self._line(finding.evidence)
        key = (operation, finding.rule, request_id or "", evidence)
        seen = self._listed.get(key)
        if seen is not None:
            seen["repeats"] += 1
            seen["last_seq"] = seq
            return
        entry = {"seq": seq, "operation": operation, "rule": finding.rule, "evidence": evidence}
        entry.update(request_id=request_id, repeats=0, last_seq=seq)
        self.violations.append(entry)
        self._listed[key] = entry
        while len(self._listed) > (self.violations.maxlen or 0):
            self._listed.popitem(last=False)
        where = f" {request_id}" if request_id else ""
        log.warning(
            "proxy violation #%d %s%s [%s] %s", seq, operation, where, finding.rule, evidence
        )

    def refusal(self, seq: int, operation: str, reason: str, status: int, message: str) -> None:
        self.counts["refusals"] += 1
        message = self._line(message)
        entry = {"seq": seq, "operation": operation, "reason": reason, "status": status}
        self.refusals.append({**entry, "message": message})
        log.warning("proxy refused #%d %s [%s] %s", seq, operation, reason, message)

    def _line(self, text: str) -> str:
        """``text`` without keys, on one line, and short (a schema message can quote a
        whole body)."""
        line = " ".join(self.scrub(text).split())
        if len(line) > MAX_EVIDENCE:
            return f"{line[:MAX_EVIDENCE]}... ({len(line)} characters)"
        return line

    def exchange(self, fixture: dict[str, Any], violations: int, local: bool) -> None:
        """A sanitized exchange (the recording's form), its bodies cut for memory."""
        self.counts["exchanges"] += 1
        entry = dict(fixture, violations=violations, answered_locally=local)
        for side in ("request", "response"):
            if isinstance(entry.get(side), dict):
                part = dict(entry[side])
                part["body"] = _cut(part.get("body"), self.body_chars)
                entry[side] = part
        self.exchanges.append(entry)

    def as_json(self, spend: dict[str, Any]) -> dict[str, Any]:
        return {
            "upstream": self.upstream,
            "started_at": self.started_at,
            "counts": {
                "exchanges": self.counts["exchanges"],
                "violations": self.counts["violations"],
                "refusals": self.counts["refusals"],
            },
            "violations_by_rule": dict(sorted(self.by_rule.items())),
            "spend": spend,
            "exchanges": list(self.exchanges),
            "violations": list(self.violations),
            "refusals": list(self.refusals),
            "kept": {
                "exchanges": self.exchanges.maxlen,
                "violations": self.violations.maxlen,
                "refusals": self.refusals.maxlen,
            },
        }

    def summary(self, spend: dict[str, Any]) -> str:
        """A few lines for the end of a session."""
        rules = ", ".join(f"{rule} x{count}" for rule, count in sorted(self.by_rule.items()))
        limit = spend["max_spend_usd"]
        lines = [
            f"proxy summary: {self.counts['exchanges']} exchange(s) with {self.upstream}",
            f"  violations: {self.counts['violations']}" + (f" ({rules})" if rules else ""),
            f"  spent: ${spend['spent_usd']}"
            + (f" of the ${limit} limit" if limit is not None else " (no limit)")
            + f"; refused locally: {self.counts['refusals']}",
        ]
        return "\n".join(lines)
