"""Typed results: the status of a job, the answer to a submit, the price table."""

from __future__ import annotations

import enum
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime
from decimal import Decimal
from pathlib import Path
from typing import Any

from seedream_client._contract import OPERATIONS
from seedream_client._exceptions import APIResponseValidationError


class Status(enum.StrEnum):
    """The documented flow: QUEUED -> PROCESSING -> COMPLETED | FAILED | ERROR."""

    QUEUED = "QUEUED"
    PROCESSING = "PROCESSING"
    COMPLETED = "COMPLETED"
    FAILED = "FAILED"
    ERROR = "ERROR"

    @property
    def is_terminal(self) -> bool:
        return self in (Status.COMPLETED, Status.FAILED, Status.ERROR)


def _timestamp(value: Any) -> datetime | None:
    if not isinstance(value, str):
        return None
    try:
        return datetime.fromisoformat(value)
    except ValueError:
        return None


@dataclass(frozen=True, slots=True)
class JobStatus:
    """A status body (from ``status()``, ``wait()`` or a webhook callback), typed."""

    request_id: str
    status: Status
    model_id: str
    error: str | None = None
    media_urls: tuple[str, ...] = ()
    media_type: str | None = None
    created_at: datetime | None = None
    updated_at: datetime | None = None
    completed_at: datetime | None = None
    raw: dict[str, Any] = field(default_factory=dict, repr=False, compare=False)

    @property
    def is_terminal(self) -> bool:
        return self.status.is_terminal

    @property
    def queue_seconds(self) -> float | None:
        """Time spent QUEUED by the gateway's clock; known while PROCESSING, when
        ``updated_at`` is the moment processing started."""
        if self.status is not Status.PROCESSING or not (self.created_at and self.updated_at):
            return None
        return max(0.0, (self.updated_at - self.created_at).total_seconds())

    @classmethod
    def from_body(cls, body: Any) -> JobStatus:
        """Parse a status body; raise APIResponseValidationError if it is not one."""
        if not isinstance(body, dict):
            raise APIResponseValidationError("status body is not a JSON object")
        try:
            status = Status(str(body.get("status")))
        except ValueError:
            raise APIResponseValidationError(
                f"unknown status {body.get('status')!r}", body=body
            ) from None
        request_id = body.get("request_id")
        if not isinstance(request_id, str) or not request_id:
            raise APIResponseValidationError("status body has no request_id", body=body)
        output: dict[str, Any] = body["output"] if isinstance(body.get("output"), dict) else {}
        urls = output.get("media_url") or []
        if not isinstance(urls, list) or not all(isinstance(u, str) for u in urls):
            raise APIResponseValidationError("output.media_url is not a list of URLs", body=body)
        if status is Status.COMPLETED and not urls:
            raise APIResponseValidationError("COMPLETED status without output", body=body)
        error = body.get("error")
        return cls(
            request_id=request_id,
            status=status,
            model_id=str(body.get("model_id") or request_id.rsplit("_", 1)[0]),
            error=error if isinstance(error, str) else None,
            media_urls=tuple(urls),
            media_type=output.get("media_type")
            if isinstance(output.get("media_type"), str)
            else None,
            created_at=_timestamp(body.get("created_at")),
            updated_at=_timestamp(body.get("updated_at")),
            completed_at=_timestamp(body.get("completed_at")),
            raw=dict(body),
        )


@dataclass(frozen=True, slots=True)
class Submitted:
    """The 202 answer to a submit."""

    request_id: str
    status: Status
    polling_url: str

    @classmethod
    def from_body(cls, body: Any) -> Submitted:
        if not isinstance(body, dict) or not isinstance(body.get("request_id"), str):
            raise APIResponseValidationError(
                "202 answer without a request_id: the job may be queued but cannot be tracked",
                body=body if isinstance(body, dict) else None,
            )
        try:
            status = Status(body.get("status", "QUEUED"))
        except ValueError:
            status = Status.QUEUED
        return cls(body["request_id"], status, str(body.get("polling_url", "")))


def usd(amount: Decimal) -> str:
    """``$0.035``, ``$0.2``, ``$100``: no trailing zeros, like the gateway's 402 message."""
    return f"${amount.normalize():f}"


@dataclass(frozen=True, slots=True)
class PriceTable:
    """USD per image (or per request) for each submit operation of the contract.

    The defaults are the contract's ``x-price-usd``. The gateway does not say whether a price
    is per request or per image; per image is the conservative default for budgeting.
    """

    prices_usd: Mapping[str, Decimal] = field(
        default_factory=lambda: {op_id: op.price_usd for op_id, op in OPERATIONS.items()}
    )
    per_image: bool = True

    def estimate(self, operation_id: str, num_images: int = 1) -> Decimal:
        price = self.prices_usd[operation_id]
        return price * num_images if self.per_image else price


@dataclass(frozen=True, slots=True)
class Result:
    """What ``run`` returns: the finished job's status, its saved files and its estimated cost."""

    status: JobStatus
    files: tuple[Path, ...]
    estimated_cost: Decimal | None
