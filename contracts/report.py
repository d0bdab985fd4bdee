"""``--report PATH``: the run as JSON (for machines and ``diff``) and Markdown (for people).

Every clause appears with its verdict (passed, failed or skipped, and why), evidence (a
sanitized request and response: keys redacted), plus the spend, the timing figures and the
behaviour profile that ``python -m seedream_contracts diff`` compares.
"""

from __future__ import annotations

import json
import time
from pathlib import Path
from typing import TYPE_CHECKING, Any

from seedream_contracts.clauses import CLAUSES
from seedream_contracts.guard import usd
from seedream_contracts.profile import build_profile
from seedream_contracts.timing import seconds_range

if TYPE_CHECKING:
    from seedream_contracts.plan import Plan
    from seedream_contracts.run import Run

FORMAT = "seedream-contracts-report/1"


def build_report(run: Run, plan: Plan, exit_status: int) -> dict[str, Any]:
    clauses = []
    for clause_id, clause in CLAUSES.items():
        verdict, reason = run.book.verdict(clause_id)
        record = run.book.clauses[clause_id]
        evidence = (
            record.failures if verdict == "failed" else ([record.sample] if record.sample else [])
        )
        clauses.append(
            {
                "id": clause_id,
                "title": clause.title,
                "source": clause.source,
                "verdict": verdict,
                "reason": reason,
                "observations": {"passed": record.passed, "failed": record.failed},
                "checks": sorted(
                    record.checks
                    | {n for n, c in run.book.checks.items() if clause_id in c.clauses}
                ),
                "evidence": evidence,
            }
        )
    checks = [
        {
            "id": nodeid,
            "outcome": c.outcome,
            "reason": c.reason,
            "duration_s": round(c.duration, 3),
            "clauses": list(c.clauses),
            "declared_usd": c.declared_usd,
            "spent_usd": str(run.guard.checks[nodeid].spent) if nodeid in run.guard.checks else "0",
        }
        for nodeid, c in run.book.checks.items()
    ]
    timing = run.timings.summary()
    counts = {
        v: sum(1 for c in clauses if c["verdict"] == v) for v in ("passed", "failed", "skipped")
    }
    return {
        "format": FORMAT,
        "generated_at": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()),
        "duration_s": round(time.time() - run.started_at, 2),
        "target": run.describe_target(),
        "exit_status": exit_status,
        "summary": {
            "clauses": counts,
            "checks": {
                v: sum(1 for c in checks if c["outcome"] == v)
                for v in ("passed", "failed", "skipped")
            },
            "violations": counts["failed"] > 0 or exit_status != 0,
        },
        "clauses": clauses,
        "checks": checks,
        "spend": {
            **plan.as_dict(),
            "spent_usd": str(run.guard.spent),
            "released_usd": str(run.guard.released),
            "billable_requests": sum(c.billable_requests for c in run.guard.checks.values()),
        },
        "timing": timing,
        "timing_checked": timing_checked(run),
        "requests_sent": len(run.exchanges),
        "observations": build_profile(run.exchanges, timing),
    }


def timing_checked(run: Run) -> bool:
    """Durations are held to the documented range only live or on the realistic profile
    (unless ``--check-timing yes|no`` says otherwise)."""
    if run.options.check_timing != "auto":
        return run.options.check_timing == "yes"
    return run.target.kind == "live" or run.target.timing_profile == "realistic"


def report_paths(path: Path) -> tuple[Path, Path]:
    base = path.with_suffix("") if path.suffix in (".json", ".md") else path
    return base.with_suffix(".json"), base.with_suffix(".md")


def write_report(report: dict[str, Any], path: Path) -> tuple[Path, Path]:
    json_path, md_path = report_paths(path)
    json_path.parent.mkdir(parents=True, exist_ok=True)
    json_path.write_text(json.dumps(report, indent=2, sort_keys=False, default=str) + "\n")
    md_path.write_text(markdown(report))
    return json_path, md_path


def markdown(report: dict[str, Any]) -> str:
    target, spend, summary = report["target"], report["spend"], report["summary"]
    budget = spend["budget_usd"]
    lines = [
        "# Contract report",
        "",
        f"- target: **{target['kind']}** `{target['base_url']}`"
        f"{' (self-started mock)' if target['self_started'] else ''}"
        f"{' (recognised by its control API)' if target.get('detected') else ''}"
        f"{', timing ' + target['timing_profile'] if target.get('timing_profile') else ''}"
        ", control API: "
        f"{'yes' if target['control_api'] else 'no'}",
        f"- generated {report['generated_at']} in {report['duration_s']} s; "
        f"{report['requests_sent']} requests; exit status {report['exit_status']}",
        f"- clauses: {summary['clauses']['passed']} passed, {summary['clauses']['failed']} "
        f"failed, {summary['clauses']['skipped']} skipped",
        f"- spend: {usd(_d(spend['spent_usd']))} spent of "
        f"{'unlimited' if budget is None else usd(_d(budget))} (declared "
        f"{usd(_d(spend['declared_total_usd']))}, planned {usd(_d(spend['planned_total_usd']))}, "
        f"released by rejections {usd(_d(spend['released_usd']))})",
        "",
        "## Clauses",
        "",
        "| id | verdict | clause | reason |",
        "|---|---|---|---|",
    ]
    for clause in report["clauses"]:
        mark = {"passed": "passed", "failed": "**FAILED**", "skipped": "skipped"}[clause["verdict"]]
        lines.append(
            f"| {clause['id']} | {mark} | {_cell(clause['title'])} | {_cell(clause['reason'])} |"
        )
    failed = [c for c in report["clauses"] if c["verdict"] == "failed"]
    if failed:
        lines += ["", "## Evidence of violations", ""]
        for clause in failed:
            lines += [f"### {clause['id']}", ""]
            for item in clause["evidence"]:
                lines += [
                    f"- {item.get('check')}: {item.get('message')}",
                    "",
                    "```json",
                    json.dumps(item.get("exchange"), indent=2)[:3000],
                    "```",
                    "",
                ]
    if spend["skipped_for_budget"]:
        lines += ["", "## Skipped for budget", ""]
        lines += [
            f"- {s['check']} (declares {usd(_d(s['declared_usd']))})"
            for s in spend["skipped_for_budget"]
        ]
    lines += [
        "",
        "## Timing (seconds)",
        "",
        f"Checked against the documented range: {'yes' if report['timing_checked'] else 'no'}.",
        "",
        "| operation | created->completed | queued | processing | documented range |",
        "|---|---|---|---|---|",
    ]
    for operation, figures in report["timing"].items():
        low, high = figures["documented_range_s"]
        lines.append(
            f"| {operation} | {_stat(figures['created_to_completed_s'])} | "
            f"{_stat(figures['queued_s'])} | {_stat(figures['processing_s'])} | "
            f"{seconds_range(low, high)} |"
        )
    lines += ["", "## Checks", "", "| check | outcome | spent | reason |", "|---|---|---|---|"]
    for check in report["checks"]:
        lines.append(
            f"| `{check['id']}` | {check['outcome']} | {usd(_d(check['spent_usd']))} | "
            f"{_cell(check['reason'][:160])} |"
        )
    return "\n".join(lines) + "\n"


def _d(text: str) -> Any:
    from decimal import Decimal

    return Decimal(text)


def _cell(text: str) -> str:
    return text.replace("|", "\\|").replace("\n", " ")


def _stat(figures: dict[str, Any]) -> str:
    if not figures.get("count"):
        return "-"
    count, low, mid, high = (figures[k] for k in ("count", "min", "median", "max"))
    return f"n={count} min {low} / median {mid} / max {high}"
