"""The ``seedream`` command: generate, edit, status and wait, with a live status line.

Exit codes: 0 done; 1 the gateway refused or could not be reached; 2 bad arguments (nothing
sent); 3 the job ended FAILED or ERROR; 4 gave up waiting (the job goes on); 130 interrupted.
"""

from __future__ import annotations

import argparse
import os
import sys
from collections.abc import Sequence
from decimal import Decimal
from pathlib import Path
from typing import Any

from seedream_client._build import cost_of_status, models_for
from seedream_client._exceptions import (
    CostLimitError,
    GatewayError,
    InvalidRequestError,
    JobError,
    WaitTimeoutError,
)
from seedream_client._models import JobStatus, usd
from seedream_client._progress import (
    Progress,
    describe,
    error_json,
    one_line,
    print_json,
    print_result,
    print_status,
    result_json,
)
from seedream_client._retry import PollPolicy
from seedream_client._sync import Gateway, Job

_LITE_PRESETS = "square_hd, square, portrait_4_3, portrait_16_9, landscape_4_3, landscape_16_9"
_EXIT = {InvalidRequestError: 2, CostLimitError: 2, JobError: 3, WaitTimeoutError: 4}


def _common(parser: argparse.ArgumentParser, top: bool) -> None:
    # On the top parser and on every subcommand, so options work before or after the command.
    default = None if top else argparse.SUPPRESS
    parser.add_argument("--base-url", default=default, help="gateway URL ($PIXAZO_BASE_URL)")
    parser.add_argument("--api-key", default=default, help="subscription key ($PIXAZO_API_KEY)")
    parser.add_argument("--json", action="store_true", default=False if top else argparse.SUPPRESS,
                        help="print machine-readable JSON on stdout")  # fmt: skip
    parser.add_argument("--poll-interval", type=float, default=default, metavar="S",
                        help="poll every S seconds (default: 1 s backing off to 10 s)")  # fmt: skip


def _job_options(parser: argparse.ArgumentParser, models: list[str]) -> None:
    parser.add_argument("--model", choices=models, default=models[0])
    parser.add_argument("--size", help=f"5.0 lite: {_LITE_PRESETS} or WxH; 4.5: 2K, 4K")
    parser.add_argument("-n", "--num-images", type=int, help="images to generate (5.0 lite, 1-4)")
    parser.add_argument("--seed", type=int)
    parser.add_argument("--watermark", action="store_true", default=None, help="(4.x models)")
    parser.add_argument("--no-safety-checker", dest="enable_safety_checker", action="store_false",
                        default=None, help="turn off the safety checker (5.0 lite)")  # fmt: skip
    parser.add_argument("--max-cost", metavar="USD", help="refuse to submit above this estimate")
    parser.add_argument("--webhook-url", help="also POST the result to this URL")
    parser.add_argument("--no-wait", action="store_true", help="print the request id and exit")
    _wait_options(parser)


def _wait_options(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--out", type=Path, default=Path("."), metavar="DIR",
                        help="save images here (default: current directory)")  # fmt: skip
    parser.add_argument("--timeout", type=float, metavar="S", help="give up waiting after S s")


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="seedream", description="Generate and edit images with Seedream via Pixazo's gateway."
    )
    _common(parser, top=True)
    sub = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")
    generate = sub.add_parser("generate", help="text to image")
    generate.add_argument("prompt")
    _job_options(generate, models_for("text_to_image"))
    edit = sub.add_parser("edit", help="edit one or more images (URLs, or files for 4.5/seededit)")
    edit.add_argument("prompt")
    edit.add_argument("images", nargs="+", metavar="IMAGE")
    edit.add_argument("--guidance-scale", type=float, help="1-10 (4.5 and seededit)")
    models = list(dict.fromkeys(models_for("edit") + models_for("multi_edit")))
    _job_options(edit, models)
    status = sub.add_parser("status", help="show a request's status")
    status.add_argument("request_id")
    wait = sub.add_parser("wait", help="wait for a request and save its images")
    wait.add_argument("request_id")
    _wait_options(wait)
    for child in (generate, edit, status, wait):
        _common(child, top=False)
    return parser


def _size_options(model: str, size: str | None) -> dict[str, Any]:
    if size is None:
        return {}
    if model != "seedream-5-0-lite":
        return {"size": size}
    width, sep, height = size.lower().partition("x")
    if sep and width.isdigit() and height.isdigit():
        return {"image_size": {"width": int(width), "height": int(height)}}
    return {"image_size": size}


def _image_arg(value: str) -> str | Path:
    return value if value.startswith(("http://", "https://", "data:")) else Path(value)


def _submit(gw: Gateway, args: argparse.Namespace) -> Job:
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
        return gw.text_to_image(args.prompt, model=args.model, **options)
    images = [_image_arg(i) for i in args.images]
    multi = args.model == "seedream-4-0" or (args.model == "seedream-4-5" and len(images) > 1)
    if multi:
        return gw.multi_edit(args.prompt, [str(i) for i in images], model=args.model, **options)
    return gw.edit(args.prompt, images, model=args.model, **options)


def _wait_and_save(gw: Gateway, job: Job, args: argparse.Namespace, cost: Decimal | None) -> int:
    live = not args.json and sys.stderr.isatty()
    quiet = args.json and not live
    with Progress(sys.stderr, live=live, request_id=job.request_id) as progress:
        status: JobStatus = job.wait(args.timeout, on_update=None if quiet else progress)
    files = job.download(args.out)
    if cost is None:
        cost = cost_of_status(status, gw.prices)
    if args.json:
        print_json(sys.stdout, result_json(status, files, cost))
    else:
        print_result(sys.stdout, files, cost, "estimated from the price table")
    return 0


def _run(args: argparse.Namespace) -> int:
    if not (args.api_key or os.environ.get("PIXAZO_API_KEY")):
        raise InvalidRequestError("no API key: use --api-key or set PIXAZO_API_KEY")
    poll = None
    if args.poll_interval is not None:
        poll = PollPolicy(initial=args.poll_interval, multiplier=1.0, maximum=args.poll_interval)
    with Gateway(api_key=args.api_key, base_url=args.base_url, poll=poll) as gw:
        if args.command == "status":
            status = gw.status(args.request_id)
            if args.json:
                print_json(sys.stdout, status.raw)
            else:
                print_status(sys.stdout, status)
            return 0
        if args.command == "wait":
            return _wait_and_save(gw, gw.job(args.request_id), args, None)
        job = _submit(gw, args)
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
        return _wait_and_save(gw, job, args, job.estimated_cost)


def _fail(args: argparse.Namespace, exc: BaseException, message: str, code: int) -> int:
    message = one_line(message)
    if args.json:
        print_json(sys.stdout, error_json(exc, message))
    print(f"seedream: {message}", file=sys.stderr)
    return code


def main(argv: Sequence[str] | None = None) -> int:
    """Entry point of the ``seedream`` console script; returns the exit code."""
    args = build_parser().parse_args(argv)
    try:
        return _run(args)
    except KeyboardInterrupt as exc:
        return _fail(args, exc, "interrupted", 130)
    except GatewayError as exc:
        code = next((c for cls, c in _EXIT.items() if isinstance(exc, cls)), 1)
        return _fail(args, exc, describe(exc), code)
    except OSError as exc:  # e.g. --out is not writable
        return _fail(args, exc, f"{exc.strerror or exc}: {exc.filename or ''}".rstrip(": "), 1)
