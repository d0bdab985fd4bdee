"""The suite's options, defined once for both front ends (``python -m seedream_contracts`` and
``pytest contracts/``), each also readable from an environment variable."""

from __future__ import annotations

import os
from dataclasses import dataclass
from decimal import Decimal, InvalidOperation
from pathlib import Path
from typing import Any


@dataclass(frozen=True)
class Spec:
    flag: str
    env: str
    help: str
    metavar: str | None = None
    choices: tuple[str, ...] | None = None

    @property
    def dest(self) -> str:
        return "contracts_" + self.flag.lstrip("-").replace("-", "_")


SPECS = (
    Spec("--gateway-url", "PIXAZO_BASE_URL", "target base URL (default: start the mock)", "URL"),
    Spec(
        "--api-key",
        "PIXAZO_API_KEY",
        "funded subscription key (a mock with a control API: the suite makes its own)",
        "KEY",
    ),
    Spec("--broke-key", "PIXAZO_BROKE_KEY", "a zero-balance key: enables the 402 checks", "KEY"),
    Spec(
        "--other-key",
        "PIXAZO_OTHER_KEY",
        "a second valid key for isolation (default: broke key)",
        "KEY",
    ),
    Spec(
        "--max-spend",
        "CONTRACTS_MAX_SPEND",
        "budget in USD (default 0 for a live target, unlimited for the mock)",
        "USD",
    ),
    Spec("--report", "CONTRACTS_REPORT", "write the report to PATH (.json and .md)", "PATH"),
    Spec("--record", "CONTRACTS_RECORD", "save every exchange, sanitized, under DIR", "DIR"),
    Spec(
        "--target-kind",
        "CONTRACTS_TARGET_KIND",
        "live or mock (default: mock when self-started or when /_mock/clock answers, else live)",
        None,
        ("live", "mock"),
    ),
    Spec(
        "--poll-interval",
        "CONTRACTS_POLL_INTERVAL",
        "seconds between polls of one job (default 5 live, 0.05 mock)",
        "S",
    ),
    Spec(
        "--job-timeout",
        "CONTRACTS_JOB_TIMEOUT",
        "seconds to wait for a job to finish (default 600 live or realistic, 120 mock)",
        "S",
    ),
    Spec(
        "--mock-timing",
        "CONTRACTS_MOCK_TIMING",
        "timing profile of the self-started mock",
        None,
        ("fast", "realistic"),
    ),
    Spec(
        "--check-timing",
        "CONTRACTS_CHECK_TIMING",
        "hold job durations to the documented range (auto: live or realistic profile only)",
        None,
        ("auto", "yes", "no"),
    ),
    Spec(
        "--examples",
        "CONTRACTS_EXAMPLES",
        "generated cases per operation and mode (default 4)",
        "N",
    ),
    Spec(
        "--lifecycle-examples",
        "CONTRACTS_LIFECYCLE_EXAMPLES",
        "state machine runs (default 3)",
        "N",
    ),
)


class OptionError(ValueError):
    pass


@dataclass(frozen=True)
class Options:
    gateway_url: str | None = None
    api_key: str | None = None
    broke_key: str | None = None
    other_key: str | None = None
    max_spend: Decimal | None = None
    report: Path | None = None
    record: Path | None = None
    target_kind: str | None = None
    poll_interval: float | None = None
    job_timeout: float | None = None
    mock_timing: str = "fast"
    check_timing: str = "auto"
    examples: int = 4
    lifecycle_examples: int = 3

    @classmethod
    def from_values(cls, values: dict[str, Any]) -> Options:
        """From option values (None = not given), falling back to the environment."""
        raw: dict[str, str] = {}
        for spec in SPECS:
            value = values.get(spec.dest)
            if value is None or value == "":
                value = os.environ.get(spec.env) or None
            if value is not None:
                raw[spec.flag.lstrip("-").replace("-", "_")] = str(value)
        try:
            return cls(
                gateway_url=raw.get("gateway_url", "").rstrip("/") or None,
                api_key=raw.get("api_key"),
                broke_key=raw.get("broke_key"),
                other_key=raw.get("other_key"),
                max_spend=parse_usd(raw["max_spend"]) if "max_spend" in raw else None,
                report=Path(raw["report"]) if "report" in raw else None,
                record=Path(raw["record"]) if "record" in raw else None,
                target_kind=raw.get("target_kind"),
                poll_interval=float(raw["poll_interval"]) if "poll_interval" in raw else None,
                job_timeout=float(raw["job_timeout"]) if "job_timeout" in raw else None,
                mock_timing=raw.get("mock_timing", "fast"),
                check_timing=raw.get("check_timing", "auto"),
                examples=int(raw.get("examples", 4)),
                lifecycle_examples=int(raw.get("lifecycle_examples", 3)),
            )
        except ValueError as exc:
            raise OptionError(f"bad option value: {exc}") from exc


def parse_usd(text: str) -> Decimal:
    """``--max-spend``: a non-negative amount of US dollars (``0.50``, ``$2``)."""
    try:
        amount = Decimal(text.strip().lstrip("$"))
    except InvalidOperation:
        raise OptionError(f"--max-spend: {text!r} is not an amount in USD") from None
    if not amount.is_finite() or amount < 0:
        raise OptionError(f"--max-spend: {text!r} must be a non-negative amount")
    return amount


def argparse_kwargs(spec: Spec) -> dict[str, Any]:
    kwargs: dict[str, Any] = {
        "dest": spec.dest,
        "default": None,
        "help": f"{spec.help} [${spec.env}]",
    }
    if spec.metavar:
        kwargs["metavar"] = spec.metavar
    if spec.choices:
        kwargs["choices"] = list(spec.choices)
    return kwargs
