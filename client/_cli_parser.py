"""The ``seedream`` command's arguments: flags with their defaults, and an example per command.

The default base URL is the live, paid gateway: the help says so wherever it matters.
"""

from __future__ import annotations

import argparse
from importlib import metadata
from pathlib import Path
from typing import Any

from seedream_client._base import DEFAULT_BASE_URL
from seedream_client._build import models_for
from seedream_client._cli_checks import positive_seconds

_LITE_PRESETS = "square_hd, square, portrait_4_3, portrait_16_9, landscape_4_3, landscape_16_9"
_LIVE = (
    f"gateway URL (default: $PIXAZO_BASE_URL, else {DEFAULT_BASE_URL}, the LIVE gateway, where "
    "every submit is paid; point it at your mock, e.g. http://127.0.0.1:8000)"
)
_EXAMPLES = {
    "": """examples (the default base URL is the live, paid gateway; this uses a local mock):
  export PIXAZO_API_KEY=test-key PIXAZO_BASE_URL=http://127.0.0.1:8000
  seedream generate "a lighthouse at dawn" -n 2 --out out
  seedream edit "add sunglasses" https://example.com/cat.jpg
  seedream status REQUEST_ID
  seedream wait REQUEST_ID --out out""",
    "generate": """example:
  seedream generate "a lighthouse at dawn" -n 2 --size landscape_4_3 --seed 42 --out out""",
    "edit": """examples:
  seedream edit "add sunglasses" https://example.com/cat.jpg --size 1024x768
  seedream edit "make it blue" photo.png --model seedream-4-5 --size 2K   # local file: 4.5
  seedream edit "girl holding the cat" URL1 URL2 --model seedream-4-5     # multi-image""",
    "status": """example:
  seedream status seedream-5-0-lite-text-to-image_0199...""",
    "wait": """example (resume after a timeout or Ctrl-C):
  seedream wait seedream-5-0-lite-text-to-image_0199... --out out --timeout 120""",
}


def _version() -> str:
    try:
        return metadata.version("seedream-gateway-mock")
    except metadata.PackageNotFoundError:  # a checkout that was never pip-installed
        return "unknown (not installed)"


def _common(parser: argparse.ArgumentParser, top: bool) -> None:
    # On the top parser and on every subcommand, so options work before or after the command.
    default = None if top else argparse.SUPPRESS
    parser.add_argument("--base-url", default=default, metavar="URL", help=_LIVE)
    parser.add_argument("--api-key", default=default, metavar="KEY",
                        help="subscription key (default: $PIXAZO_API_KEY)")  # fmt: skip
    parser.add_argument("--json", action="store_true", default=False if top else argparse.SUPPRESS,
                        help="print machine-readable JSON on stdout")  # fmt: skip
    parser.add_argument("--poll-interval", type=positive_seconds, default=default, metavar="S",
                        help="poll every S seconds (default: 1 s backing off to 10 s)")  # fmt: skip


def _job_options(parser: argparse.ArgumentParser, models: list[str]) -> None:
    parser.add_argument("--model", choices=models, default=models[0],
                        help=f"(default: {models[0]})")  # fmt: skip
    parser.add_argument("--size", help=f"5.0 lite: {_LITE_PRESETS} or WxH; 4.5: 2K, 4K "
                        "(default: the gateway's)")  # fmt: skip
    parser.add_argument("-n", "--num-images", type=int,
                        help="images to generate (5.0 lite, 1-4; default 1)")  # fmt: skip
    parser.add_argument("--seed", type=int, help="(default: random)")
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
    parser.add_argument("--timeout", type=positive_seconds, metavar="S",
                        help="give up waiting after S s (default: never)")  # fmt: skip


def _subparser(sub: Any, name: str, text: str) -> argparse.ArgumentParser:
    parser: argparse.ArgumentParser = sub.add_parser(
        name, help=text, description=text, epilog=_EXAMPLES[name],
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )  # fmt: skip
    return parser


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="seedream",
        description="Generate and edit images with Seedream via Pixazo's gateway.",
        epilog=_EXAMPLES[""],
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument("--version", action="version", version=f"seedream {_version()}")
    _common(parser, top=True)
    sub = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")
    generate = _subparser(sub, "generate", "text to image")
    generate.add_argument("prompt", metavar="PROMPT")
    _job_options(generate, models_for("text_to_image"))
    edit = _subparser(sub, "edit", "edit one or more images (URLs, or a file for 4.5/seededit)")
    edit.add_argument("prompt", metavar="PROMPT")
    edit.add_argument("images", nargs="+", metavar="IMAGE")
    edit.add_argument("--guidance-scale", type=float, help="1-10 (4.5 and seededit)")
    models = list(dict.fromkeys(models_for("edit") + models_for("multi_edit")))
    _job_options(edit, models)
    status = _subparser(sub, "status", "show a request's status")
    status.add_argument("request_id", metavar="REQUEST_ID")
    wait = _subparser(sub, "wait", "wait for a request and save its images")
    wait.add_argument("request_id", metavar="REQUEST_ID")
    _wait_options(wait)
    for child in (generate, edit, status, wait):
        _common(child, top=False)
    return parser
