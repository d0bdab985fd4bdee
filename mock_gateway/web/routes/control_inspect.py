"""Control API, continued: what the inspector page reads that the other routes did not list.

``GET /_mock/jobs`` (every job the mock holds, newest first, filtered and paged), a job's
output thumbnails, and the rate-limit buckets. Like every control route these stay out of the
request journal, so an open inspector page does not show up in what it inspects.
"""

from __future__ import annotations

import itertools
from typing import Any

import anyio.to_thread
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from mock_gateway.core import Job, JobStatus, format_timestamp
from mock_gateway.core.ratelimit import EPSILON, seconds_until_token
from mock_gateway.steering.journal import redact_key
from mock_gateway.web.parse import base_url, mock_state
from mock_gateway.web.responses import JSONBody
from mock_gateway.web.routes.control import usd_text
from mock_gateway.web.routes.control_input import BadInput, guarded, problem, query, query_int
from mock_gateway.web.routes.media import rendered_output
from mock_gateway.web.state import MockState

MAX_PAGE = 1000
MAX_OFFSET = 2**53 - 1  # what every JSON reader holds exactly
STATUSES = [status.value for status in JobStatus]
RATE_GROUPS = ("submit", "status")


def _moment(status: str, at: float) -> dict[str, Any]:
    return {"status": status, "time": at, "at": format_timestamp(at)}


def timeline(job: Job) -> list[dict[str, Any]]:
    """The statuses a job has been through, each with the mock time it got there."""
    moments = [_moment(JobStatus.QUEUED.value, job.created_at)]
    if job.started_at is not None:
        moments.append(_moment(JobStatus.PROCESSING.value, job.started_at))
    if job.completed_at is not None:
        moments.append(_moment(job.status.value, job.completed_at))
    return moments


def webhook_summary(state: MockState, job: Job) -> dict[str, Any] | None:
    """Where the job's webhook stands: ``waiting`` until the job ends, then the delivery's
    state (full detail at ``/_mock/webhooks?request_id=...``)."""
    url = job.spec.webhook_url
    if not url:
        return None
    delivery = state.webhooks.for_request(job.request_id)
    if delivery is None:
        # Not finished yet, or finished longer ago than the webhook log remembers.
        return {"url": url, "state": "waiting" if not job.status.terminal else "forgotten"}
    last = delivery.attempts[-1] if delivery.attempts else None
    return {
        "url": url,
        "state": delivery.state,
        "reason": delivery.reason,
        "attempts": len(delivery.attempts),
        "last_status": None if last is None else last.status,
        "last_error": None if last is None else last.error,
    }


def job_document(state: MockState, job: Job, media_base: str) -> dict[str, Any]:
    spec = job.spec
    status_body = job.status_body(media_base)
    output = status_body["output"] or {}
    names = job.media_filenames() if job.status is JobStatus.COMPLETED else []
    return {
        "request_id": job.request_id,
        "status": job.status.value,
        "model_id": spec.slug,
        "model": spec.model,
        "operation_id": spec.operation_id,
        "key": redact_key(job.owner),
        "prompt": spec.prompt,
        "num_images": spec.num_images,
        "width": spec.width,
        "height": spec.height,
        "media_type": spec.media_type,
        "seed": job.seed,
        "cost_usd": usd_text(job.cost_micros),
        "refunded": job.refunded,
        "error": job.error,
        "created_at": status_body["created_at"],
        "updated_at": status_body["updated_at"],
        "completed_at": status_body["completed_at"],
        "timeline": timeline(job),
        "media_url": output.get("media_url", []),
        "thumbnails": [f"/_mock/jobs/{job.request_id}/thumbnails/{name}" for name in names],
        "webhook": webhook_summary(state, job),
    }


def jobs_page(
    state: MockState, params: dict[str, str], offset: int, limit: int
) -> tuple[list[Job], int]:
    """One page of the jobs the filters select, newest first, and how many they select.
    Unfiltered (what the page asks most), only the page itself is walked."""
    key, model, status = params.get("key"), params.get("model"), params.get("status")
    if status is not None and status not in STATUSES:
        raise BadInput(f"status: must be one of {', '.join(STATUSES)} (got {status[:40]!r})")
    world = state.world
    if key is None and model is None and status is None:
        page = itertools.islice(world.jobs_newest_first(), offset, offset + limit)
        return list(page), world.job_count()
    found = [
        job
        for job in world.jobs_newest_first()
        if (key is None or job.owner == key)
        and (model is None or model in (job.spec.slug, job.spec.model))
        and (status is None or job.status == status)
    ]
    return found[offset : offset + limit], len(found)


@guarded
async def list_jobs(request: Request) -> Response:
    """Every job the mock still holds, newest first; ``key`` (the full key), ``model`` (a slug
    or model id) and ``status`` filter, ``limit`` and ``offset`` page."""
    state = mock_state(request)
    params = query(request, ["key", "model", "status", "limit", "offset"])
    limit = query_int(params, "limit", 0, MAX_PAGE)
    limit = MAX_PAGE if limit is None else limit  # 0: only the count
    offset = query_int(params, "offset", 0, MAX_OFFSET) or 0
    state.advance()
    jobs, total = jobs_page(state, params, offset, limit)
    media_base = f"{base_url(request)}/media"
    page = [job_document(state, job, media_base) for job in jobs]
    following = offset + limit if offset + limit < total else None
    return JSONBody({"jobs": page, "total": total, "next_offset": following})


@guarded
async def job_thumbnail(request: Request) -> Response:
    """A JPEG preview (256 px on the longer side) of one output of a completed job."""
    # The full image goes through the media cache, so opening it afterwards costs nothing.
    output = await rendered_output(request)
    if output is None:
        return problem(404, "no such output (the job is unknown, not COMPLETED, or has fewer)")
    from mock_gateway.imaging.thumbnail import thumbnail  # late: loads Pillow

    _, full = output
    preview = await anyio.to_thread.run_sync(thumbnail, full)
    return Response(
        preview, media_type="image/jpeg", headers={"Cache-Control": "private, max-age=86400"}
    )


@guarded
async def list_rate_limits(request: Request) -> Response:
    """Each key's buckets now: the limit in force, where it comes from, the calls left and
    how long a refused call would be told to wait."""
    state = mock_state(request)
    core = state.core
    now = state.now()
    buckets: list[dict[str, Any]] = []
    for account, group in itertools.product(core.accounts.values(), RATE_GROUPS):
        own = account.rate_limits.get(group)
        limit = own or core.settings.default_rate_limits.get(group)
        if limit is None:
            continue
        tokens = core.limiter.tokens(account.key, group, limit, now)
        rate = limit.calls / limit.period_seconds
        buckets.append(
            {
                "key": account.key,
                "group": group,
                "limit": str(limit),
                "source": "key" if own else "default",
                "remaining": int(tokens + EPSILON),
                "burst": limit.burst,
                "retry_after": None if tokens >= 1 - EPSILON else seconds_until_token(tokens, rate),
            }
        )
    return JSONBody({"rate_limits": buckets})


def inspect_routes() -> list[Route]:
    return [
        Route("/_mock/jobs", list_jobs, methods=["GET"]),
        Route("/_mock/jobs/{request_id}/thumbnails/{filename}", job_thumbnail, methods=["GET"]),
        Route("/_mock/rate-limits", list_rate_limits, methods=["GET"]),
    ]
