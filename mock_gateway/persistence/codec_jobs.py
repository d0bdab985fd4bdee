"""One job as a snapshot holds it, and back: spec, schedule, timeline, outputs, refund.

Images are not stored: they re-render byte-identically from the spec and the resolved seed.
An edit's input pixels are (base64), since they came from the request body or a bundled
sample and the render depends on every byte of them.
"""

from __future__ import annotations

import itertools
import re
from typing import Any

from mock_gateway.core import Job, JobSpec, JobStatus
from mock_gateway.persistence.codec_fields import (
    MAX_KEY,
    Fields,
    b64_bytes,
    b64_text,
    shown,
)
from mock_gateway.validation.request import MAX_INPUT_BYTES, check_webhook_url

SPEC_FIELDS = (
    "operation_id", "slug", "model", "media_type", "prompt", "num_images", "width", "height",
    "seed", "watermark", "safety_checker", "inputs", "input_images", "webhook_url", "extra",
)  # fmt: skip
JOB_FIELDS = (
    "request_id", "owner", "spec", "seed", "cost_micros", "created_at", "ready_at",
    "processing_seconds", "status", "outcome", "outcome_error", "updated_at", "started_at",
    "completed_at", "error", "refunded",
)  # fmt: skip
MEDIA_TYPES = ("image/png", "image/jpeg")
MAX_SIDE = 4096  # as the renderer (imaging.render) accepts
MAX_SEED = 2**31 - 1
MAX_IMAGES = 16
MAX_INPUTS = 16
MAX_MICROS = 10**18
NAME = re.compile(r"[A-Za-z0-9][A-Za-z0-9._-]{0,255}")  # a request id, a slug, an operation
STATUSES = tuple(status.value for status in JobStatus)
OUTCOMES = ("COMPLETED", "FAILED", "ERROR")


def job_record(job: Job) -> dict[str, Any]:
    """One job as JSON (the ``jobs`` section holds these, in submission order)."""
    spec = job.spec
    return {
        "request_id": job.request_id,
        "owner": job.owner,
        "spec": {
            "operation_id": spec.operation_id,
            "slug": spec.slug,
            "model": spec.model,
            "media_type": spec.media_type,
            "prompt": spec.prompt,
            "num_images": spec.num_images,
            "width": spec.width,
            "height": spec.height,
            "seed": spec.seed,
            "watermark": spec.watermark,
            "safety_checker": spec.safety_checker,
            "inputs": list(spec.inputs),
            "input_images": [b64_text(data) for data in spec.input_images],
            "webhook_url": spec.webhook_url,
            "extra": dict(spec.extra),
        },
        "seed": job.seed,
        "cost_micros": job.cost_micros,
        "created_at": job.created_at,
        "ready_at": job.ready_at,
        "processing_seconds": job.processing_seconds,
        "status": job.status.value,
        "outcome": job.outcome.value,
        "outcome_error": job.outcome_error,
        "updated_at": job.updated_at,
        "started_at": job.started_at,
        "completed_at": job.completed_at,
        "error": job.error,
        "refunded": job.refunded,
    }


def _name(fields: Fields, name: str) -> str:
    value = fields.text(name, limit=256)
    if not NAME.fullmatch(value):
        raise fields.refuse(name, f"must be letters, digits, '.', '_' or '-' (got {shown(value)})")
    return value


def _extra(fields: Fields) -> dict[str, Any]:
    value = fields.raw("extra")
    if not isinstance(value, dict) or len(value) > 16:
        raise fields.refuse("extra", "must be an object of at most 16 fields")
    for name, item in value.items():
        if not isinstance(item, str | int | float | bool | None) or len(str(item)) > 4096:
            raise fields.refuse(f"extra.{name}", "must be a short string, number or boolean")
    return dict(value)


def _spec(data: Any, where: str) -> JobSpec:
    fields = Fields(data, where, SPEC_FIELDS)
    inputs = fields.strings("inputs", limit=8192)
    if len(inputs) > MAX_INPUTS:
        raise fields.refuse("inputs", f"at most {MAX_INPUTS} input images")
    images = tuple(
        b64_bytes(item, at, MAX_INPUT_BYTES) for at, item in fields.indexed("input_images")
    )
    if len(images) > len(inputs):
        raise fields.refuse("input_images", "cannot hold more images than there are inputs")
    webhook_url = fields.optional_text("webhook_url", limit=2048)
    if webhook_url is not None and check_webhook_url(webhook_url) is not None:
        raise fields.refuse("webhook_url", f"must be an absolute http(s) URL (got {webhook_url!r})")
    return JobSpec(
        operation_id=_name(fields, "operation_id"),
        slug=_name(fields, "slug"),
        model=fields.text("model", limit=256, empty=False),
        media_type=fields.choice("media_type", MEDIA_TYPES),
        prompt=fields.text("prompt"),
        num_images=fields.integer("num_images", 1, MAX_IMAGES),
        width=fields.integer("width", 1, MAX_SIDE),
        height=fields.integer("height", 1, MAX_SIDE),
        seed=fields.optional_integer("seed", -(2**63), 2**63),
        watermark=fields.flag("watermark"),
        safety_checker=fields.flag("safety_checker"),
        inputs=tuple(inputs),
        input_images=images,
        webhook_url=webhook_url,
        extra=_extra(fields),
    )


def job_from_record(record: Any, where: str = "job") -> Job:
    """A job from ``job_record``'s JSON; raises ``SnapshotRefused`` naming the bad field."""
    fields = Fields(record, where, JOB_FIELDS)
    job = Job(
        request_id=_name(fields, "request_id"),
        owner=fields.text("owner", limit=MAX_KEY, empty=False),
        spec=_spec(fields.raw("spec"), fields.at("spec")),
        seed=fields.integer("seed", 0, MAX_SEED),
        cost_micros=fields.integer("cost_micros", 0, MAX_MICROS),
        created_at=fields.time("created_at"),
        ready_at=fields.time("ready_at"),
        processing_seconds=fields.number("processing_seconds", 0.0, 366 * 86400.0),
        outcome=JobStatus(fields.choice("outcome", OUTCOMES)),
        outcome_error=fields.optional_text("outcome_error", limit=4096),
        status=JobStatus(fields.choice("status", STATUSES)),
        refunded=fields.flag("refunded"),
    )
    job.updated_at = fields.time("updated_at")
    job.started_at = fields.optional_time("started_at")
    job.completed_at = fields.optional_time("completed_at")
    job.error = fields.optional_text("error", limit=4096)
    _check_timeline(fields, job)
    return job


def _check_timeline(fields: Fields, job: Job) -> None:
    """The moments and the status must tell one story (the queue relies on it)."""
    status = job.status
    started = status is not JobStatus.QUEUED
    if (job.started_at is not None) != started:
        raise fields.refuse("started_at", f"must be {'set' if started else 'null'} for {status}")
    if (job.completed_at is not None) != status.terminal:
        wanted = "set" if status.terminal else "null"
        raise fields.refuse("completed_at", f"must be {wanted} for {status}")
    if status.terminal and status is not job.outcome:
        raise fields.refuse("outcome", f"must be the status the finished job reached ({status})")
    if (job.error is not None) != (status in (JobStatus.FAILED, JobStatus.ERROR)):
        raise fields.refuse("error", "must be a text exactly when the status is FAILED or ERROR")
    order: list[tuple[str, float | None]] = [("created_at", job.created_at)]
    order += [("ready_at", job.ready_at), ("started_at", job.started_at)]
    order += [("completed_at", job.completed_at)]
    kept = [(name, moment) for name, moment in order if moment is not None]
    for (before, earlier), (name, later) in itertools.pairwise(kept):
        if later < earlier:
            raise fields.refuse(name, f"cannot be before {before} ({later} < {earlier})")
    latest = kept[-1][1] if kept[-1][0] != "ready_at" else job.created_at
    if job.updated_at != latest:
        raise fields.refuse("updated_at", f"must be the job's latest moment ({latest})")
