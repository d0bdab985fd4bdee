"""Input images of an edit, as far as they can be had without I/O.

Data URLs were decoded by validation; the documentation's sample URLs and the mock's own
``/samples/`` URLs resolve to bundled files. Any other URL is accepted (as the gateway would)
but its pixels are unavailable, so the output is drawn without it, unless the user opted in
to fetching remote inputs: then the HTTP layer fetches them and hands the bytes back.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

from mock_gateway.imaging import InvalidImage, SampleImages, probe_image
from mock_gateway.steering.journal import Flag
from mock_gateway.validation.request import ParsedSubmit, accepted_images

Inputs = tuple[bytes | None, ...]
UNFETCHED = (
    "input image {} was never fetched ({}): the output is drawn without it and marked "
    "'INPUT NOT FETCHED'; use a documented sample URL, a /samples/ URL or a data URL to see "
    "an edit of real pixels"
)


def local_inputs(samples: SampleImages, parsed: ParsedSubmit, own_base: str) -> Inputs:
    """Each input's bytes, or None where they cannot be had offline: the mock's own
    ``/samples/`` URLs by name, else a decoded data URL or a documented sample URL."""
    prefix = f"{own_base}/samples/"
    return tuple(
        samples.get(ref[len(prefix) :])
        if ref.startswith(prefix)
        else parsed.decoded.get(position) or samples.lookup(ref)
        for position, ref in enumerate(parsed.image_refs)
    )


def missing_refs(parsed: ParsedSubmit, inputs: Inputs) -> tuple[str, ...]:
    """The references whose bytes are not in ``inputs`` (which has one entry per ref)."""
    return tuple(ref for position, ref in enumerate(parsed.image_refs) if inputs[position] is None)


def with_fetched(
    parsed: ParsedSubmit, inputs: Inputs, fetched: Mapping[str, bytes | None]
) -> Inputs:
    return tuple(
        fetched.get(ref) if inputs[position] is None else inputs[position]
        for position, ref in enumerate(parsed.image_refs)
    )


def probed(parsed: ParsedSubmit, inputs: Inputs) -> Inputs:
    """The inputs with every one that is not a usable image left out (as None); sizes of
    the usable ones are noted on ``parsed`` (the first sets the output size)."""
    checked: list[bytes | None] = []
    for position, data in enumerate(inputs):
        if data is not None and position not in parsed.probed:
            try:
                parsed.probed[position] = probe_image(
                    data, accepted=accepted_images(parsed.operation)
                )
            except InvalidImage:
                data = None
        checked.append(data)
    return tuple(checked)


def unfetched_flag(refs: Sequence[str], inputs: Inputs, *, fetch_remote: bool) -> Flag | None:
    """A journal note for the inputs the mock had no pixels of (None: it saw them all)."""
    missing = [ref for position, ref in enumerate(refs) if inputs[position] is None]
    if not missing:
        return None
    why = (
        "fetching it failed"
        if fetch_remote
        else "no remote input is fetched unless fetch_remote_inputs = true"
    )
    shown = ", ".join(ref if len(ref) <= 120 else ref[:117] + "..." for ref in missing)
    return ("input-not-fetched", UNFETCHED, (shown, why))
