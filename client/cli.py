"""The ``seedream`` command: generate, edit, status and wait, with a live status line.

Exit codes: 0 done; 1 the gateway refused or could not be reached; 2 bad arguments (nothing
sent); 3 the job ended FAILED or ERROR; 4 gave up waiting (the job goes on); 130 interrupted.
"""

from __future__ import annotations

import argparse
import os
import sys
import time
from collections.abc import Sequence
from dataclasses import dataclass
from decimal import Decimal
from pathlib import Path
from typing import Any

from seedream_client._build import Kind, cost_of_status
from seedream_client._cli_checks import check_out_dir, edit_kind, image_inputs, preflight
from seedream_client._cli_parser import build_parser
from seedream_client._exceptions import (
    CostLimitError,
    GatewayError,
    InvalidRequestError,
    JobError,
    WaitTimeoutError,
)
from seedream_client._models import JobStatus, PriceTable, usd
from seedream_client._progress import (
    Countdown,
    Progress,
    describe,
    error_json,
    one_line,
    print_json,
    print_result,
    print_status,
    result_json,
    resume_hint,
)
from seedream_client._retry import PollPolicy
from seedream_client._sync import Gateway, Job

__all__ = ["build_parser", "main"]

_EXIT = {InvalidRequestError: 2, CostLimitError: 2, JobError: 3, WaitTimeoutError: 4}


def _size_options(model: str, size: str | None) -> dict[str, Any]:
    if size is None:
        return {}
    if model != "seedream-5-0-lite":
        return {"size": size}
    width, sep, height = size.lower().partition("x")
    if sep and width.isdigit() and height.isdigit():
        return {"image_size": {"width": int(width), "height": int(height)}}
    return {"image_size": size}


@dataclass
class _Plan:
    """A submit that passed every local check: what to call, with what."""

    kind: Kind
    images: list[str | Path] | None
    options: dict[str, Any]


def _plan(args: argparse.Namespace) -> _Plan:
    options: dict[str, Any] = {
        "num_images": args.num_images,
        "seed": args.seed,
        "watermark": args.watermark,
        "enable_safety_checker": args.enable_safety_checker,
        "guidance_scale": getattr(args, "guidance_scale", None),
        "webhook_url": args.webhook_url,
        "max_cost": args.max_cost,
        **_size_options(args.model, args.size),
    }
    options = {k: v for k, v in options.items() if v is not None}
    if args.command == "generate":
        kind: Kind = "text_to_image"
        images = None
    else:
        kind = edit_kind(args.model, args.images)
        images = image_inputs(kind, args.model, args.images)
    preflight(kind, args.prompt, images, args.model, options, PriceTable())
    return _Plan(kind, images, options)


def _submit(gw: Gateway, args: argparse.Namespace, plan: _Plan) -> Job:
    if plan.kind == "text_to_image":
        return gw.text_to_image(args.prompt, model=args.model, **plan.options)
    assert plan.images is not None
    if plan.kind == "multi_edit":
        urls = [str(i) for i in plan.images]
        return gw.multi_edit(args.prompt, urls, model=args.model, **plan.options)
    return gw.edit(args.prompt, plan.images, model=args.model, **plan.options)


def _wait_and_save(
    gw: Gateway, job: Job, args: argparse.Namespace, cost: Decimal | None, notice: Countdown
) -> int:
    live = not args.json and sys.stderr.isatty()
    quiet = args.json and not live
    with Progress(sys.stderr, live=live, request_id=job.request_id) as progress:
        notice.progress = None if quiet else progress
        status: JobStatus = job.wait(args.timeout, on_update=None if quiet else progress)
        notice.progress = None
    try:
        files = job.download(args.out)
    except OSError as exc:
        raise _SaveError(job.request_id, exc) from exc
    if cost is None:
        cost = cost_of_status(status, gw.prices)
    if args.json:
        print_json(sys.stdout, result_json(status, files, cost))
    else:
        print_result(sys.stdout, files, cost, "estimated from the price table")
    return 0


class _SaveError(Exception):
    """The job is done but its images could not be saved: say how to fetch them again."""

    def __init__(self, request_id: str, error: OSError) -> None:
        reason = f"{error.strerror or error}: {error.filename or ''}".rstrip(": ")
        super().__init__(
            f"job {request_id} finished but its images could not be saved ({reason}); "
            f"{resume_hint(request_id)} --out DIR"
        )


def _run(args: argparse.Namespace, started: list[str | None]) -> int:
    if not (args.api_key or os.environ.get("PIXAZO_API_KEY")):
        raise InvalidRequestError("no API key: use --api-key or set PIXAZO_API_KEY")
    plan = _plan(args) if args.command in ("generate", "edit") else None
    if args.command != "status" and not getattr(args, "no_wait", False):
        check_out_dir(args.out)
    poll = None
    if args.poll_interval is not None:
        poll = PollPolicy(initial=args.poll_interval, multiplier=1.0, maximum=args.poll_interval)
    notice = Countdown(sys.stderr, live=not args.json and sys.stderr.isatty(), sleep=time.sleep)
    with Gateway(api_key=args.api_key, base_url=args.base_url, poll=poll,
                 sleep=notice.sleep) as gw:  # fmt: skip
        gw.on_retry = notice.on_retry
        if args.command == "status":
            status = gw.status(args.request_id)
            if args.json:
                print_json(sys.stdout, status.raw)
            else:
                print_status(sys.stdout, status)
            return 0
        if args.command == "wait":
            started.append(args.request_id)
            return _wait_and_save(gw, gw.job(args.request_id), args, None, notice)
        assert plan is not None
        started.append(None)  # a Ctrl-C from here on may come after the gateway queued it
        job = _submit(gw, args, plan)
        started[-1] = job.request_id
        if not args.json:
            cost = usd(job.estimated_cost) if job.estimated_cost is not None else "unknown"
            print(f"submitted {job.request_id} (estimated {cost})", file=sys.stderr)
        if args.no_wait:
            submitted = {"request_id": job.request_id, "status": "QUEUED",
                         "polling_url": job.polling_url,
                         "estimated_cost_usd": f"{job.estimated_cost:f}"}  # fmt: skip
            if args.json:
                print_json(sys.stdout, submitted)
            else:
                print(job.request_id)
            return 0
        return _wait_and_save(gw, job, args, job.estimated_cost, notice)


def _fail(args: argparse.Namespace, exc: BaseException, message: str, code: int) -> int:
    message = one_line(message)
    if args.json:
        print_json(sys.stdout, error_json(exc, message))
    print(f"seedream: {message}", file=sys.stderr)
    return code


def _interrupted(started: list[str | None]) -> str:
    if not started:
        return "interrupted; nothing was sent"
    if started[-1] is None:
        return (
            "interrupted while submitting: the job may have been queued (and charged); "
            "check before submitting again"
        )
    return f"interrupted; the job goes on: {resume_hint(started[-1])}"


def main(argv: Sequence[str] | None = None) -> int:
    """Entry point of the ``seedream`` console script; returns the exit code."""
    args = build_parser().parse_args(argv)
    started: list[str | None] = []  # None while submitting, then the request id
    try:
        return _run(args, started)
    except KeyboardInterrupt as exc:
        return _fail(args, exc, _interrupted(started), 130)
    except GatewayError as exc:
        code = next((c for cls, c in _EXIT.items() if isinstance(exc, cls)), 1)
        return _fail(args, exc, describe(exc), code)
    except _SaveError as exc:
        return _fail(args, exc, str(exc), 1)
    except OSError as exc:
        return _fail(args, exc, f"{exc.strerror or exc}: {exc.filename or ''}".rstrip(": "), 1)
