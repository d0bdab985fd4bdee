"""What ``seedream`` checks before anything is sent, and how it words a mistake: in its own
flags and arguments (``--watermark``, ``IMAGE``), never in the contract's field names.

Everything here runs before the first request, so a mistake costs nothing: the exit code is 2
and the message says which flag or argument to change.
"""

from __future__ import annotations

import argparse
import math
import re
import tempfile
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

from seedream_client._build import (
    Kind,
    PreparedSubmit,
    operation_for,
    options_for,
    prepare_submit,
    to_money,
)
from seedream_client._exceptions import CostLimitError, InvalidRequestError
from seedream_client._models import PriceTable

# A contract field and the flag (or argument) that sets it.
FLAG_OF = {
    "prompt": "PROMPT",
    "image": "IMAGE",
    "image_urls": "IMAGE",
    "image_size": "--size",
    "size": "--size",
    "num_images": "-n/--num-images",
    "seed": "--seed",
    "watermark": "--watermark",
    "enable_safety_checker": "--no-safety-checker",
    "guidance_scale": "--guidance-scale",
    "webhook_url": "--webhook-url",
    "max_cost": "--max-cost",
}
_URL = re.compile(r"^https?://[^\s/?#]+")
_FILE_MODELS = "--model seedream-4-5 or seededit-3-0 (one image)"


def positive_seconds(text: str) -> float:
    """An argparse ``type``: seconds above zero (``--poll-interval 0`` would poll in a loop)."""
    try:
        value = float(text)
    except ValueError:
        value = math.nan
    if not math.isfinite(value) or value <= 0:
        raise argparse.ArgumentTypeError(f"must be a number of seconds above 0, not {text!r}")
    return value


def check_out_dir(directory: Path) -> None:
    """Make sure the images can be saved there, before a paid job is submitted."""
    try:
        directory.mkdir(parents=True, exist_ok=True)
        with tempfile.TemporaryFile(dir=directory):
            pass
    except OSError as exc:
        reason = exc.strerror or str(exc)
        raise InvalidRequestError(
            f"--out {directory}: cannot save images there ({reason})"
        ) from None


def edit_kind(model: str, images: Sequence[str]) -> Kind:
    """``seedream edit`` with several images on 4.5, or any on 4.0, is a multi-image edit."""
    multi = model == "seedream-4-0" or (model == "seedream-4-5" and len(images) > 1)
    return "multi_edit" if multi else "edit"


def image_inputs(kind: Kind, model: str, images: Sequence[str]) -> list[str | Path]:
    """The IMAGE arguments as the client takes them: URLs, or local files where allowed.
    A mistake names every IMAGE it concerns (by position when there are several)."""
    takes_files = operation_for(kind, model).operation_id == "byteplusEditSubmit"
    what = "a multi-image edit" if kind == "multi_edit" else f"--model {model}"

    def named(picked: list[int]) -> str:
        listed = ", ".join(
            f"{images[i]!r}" + (f" (image {i + 1})" if len(images) > 1 else "") for i in picked
        )
        return f"IMAGE {listed}"

    urls = [i for i, image in enumerate(images) if _URL.match(image)]
    if takes_files:
        urls += [i for i, image in enumerate(images) if image.startswith("data:")]
    others = [i for i in range(len(images)) if i not in urls]
    if others and not takes_files:
        raise InvalidRequestError(
            f"{named(others)}: {what} takes image URLs only (http:// or https://); "
            f"local files work with {_FILE_MODELS}"
        )
    missing = [i for i in others if not Path(images[i]).is_file()]
    if missing:
        raise InvalidRequestError(f"{named(missing)}: no such file (nor an http(s) URL)")
    return [Path(image) if i in others else image for i, image in enumerate(images)]


def check_options(kind: Kind, model: str, options: Mapping[str, Any]) -> None:
    """A flag the chosen model does not take, named with the flags it does take."""
    allowed = options_for(operation_for(kind, model).operation_id)
    unknown = [FLAG_OF.get(name, name) for name in options if name not in allowed]
    if unknown:
        takes = ", ".join(dict.fromkeys(FLAG_OF.get(name, name) for name in allowed))
        command = "generate" if kind == "text_to_image" else "edit"
        raise InvalidRequestError(
            f"{', '.join(unknown)}: not available for {command} with --model {model} "
            f"(it takes: {takes})"
        )


def in_flag_terms(message: str) -> str:
    """``invalid request: num_images: 5 is ...`` -> ``-n/--num-images: 5 is ...``."""
    text = message.removeprefix("invalid request: ")
    field, sep, rest = text.partition(": ")
    root = field.split(".", 1)[0].removeprefix("invalid ")
    if sep and root in FLAG_OF:
        return f"{FLAG_OF[root]}: {rest}"
    return text


def preflight(
    kind: Kind,
    prompt: str,
    images: Sequence[str | Path] | None,
    model: str,
    options: Mapping[str, Any],
    prices: PriceTable,
) -> PreparedSubmit:
    """Every local check the client would make at submit time, worded in flags."""
    webhook_url, max_cost = options.get("webhook_url"), options.get("max_cost")
    given = {k: v for k, v in options.items() if k not in ("webhook_url", "max_cost")}
    check_options(kind, model, given)
    if webhook_url is not None and not _URL.match(webhook_url):
        raise InvalidRequestError(
            f"--webhook-url: must be an http:// or https:// URL, not {webhook_url!r}"
        )
    if max_cost is not None:
        try:
            to_money(max_cost, "--max-cost")
        except InvalidRequestError as exc:
            raise InvalidRequestError(exc.message.replace(" must", ": must", 1)) from None
    try:
        return prepare_submit(kind, prompt, images, model=model, options=given,
                              webhook_url=webhook_url, max_cost=max_cost,
                              prices=prices)  # fmt: skip
    except InvalidRequestError as exc:
        raise InvalidRequestError(in_flag_terms(exc.message)) from None
    except CostLimitError as exc:
        message = exc.message.replace("max_cost", "--max-cost")
        raise CostLimitError(message, estimated_usd=exc.estimated_usd,
                             max_cost_usd=exc.max_cost_usd) from None  # fmt: skip
