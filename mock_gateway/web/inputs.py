"""Input images of an edit: bundled samples, data URLs, and (only when opted in) remote URLs.

By default the mock never contacts another server: the documentation's sample URLs and the
mock's own ``/samples/`` URLs resolve to files in ``fixtures/images/``; any other URL is
accepted (as the gateway would) but its pixels are unavailable, so the output is drawn
without it. ``fetch_remote_inputs = true`` makes the mock download such URLs.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING

from mock_gateway.imaging import InvalidImage, SampleImages, probe_image
from mock_gateway.steering.journal import Flag
from mock_gateway.validation.request import ParsedSubmit, accepted_images
from mock_gateway.web.streams import read_limited

if TYPE_CHECKING:
    import httpx

MAX_INPUT_BYTES = 10 * 1024 * 1024
UNFETCHED = (
    "input image {} was never fetched ({}): the output is drawn without it and marked "
    "'INPUT NOT FETCHED'; use a documented sample URL, a /samples/ URL or a data URL to see "
    "an edit of real pixels"
)


class InputResolver:
    def __init__(
        self, samples: SampleImages, *, fetch_remote: bool, http: httpx.AsyncClient | None
    ) -> None:
        self.samples = samples
        self.fetch_remote = fetch_remote
        self.http = http

    async def resolve(self, parsed: ParsedSubmit, own_base: str) -> tuple[bytes | None, ...]:
        """The bytes of each input image, or None where they cannot be had offline."""
        resolved: list[bytes | None] = []
        for position, ref in enumerate(parsed.image_refs):
            data = parsed.decoded.get(position) or self._local(ref, own_base)
            if data is None and self.fetch_remote and self.http is not None:
                data = await self._fetch(ref)
            if data is not None and position not in parsed.probed:
                try:
                    parsed.probed[position] = probe_image(
                        data, accepted=accepted_images(parsed.operation)
                    )
                except InvalidImage:
                    data = None
            resolved.append(data)
        return tuple(resolved)

    def _local(self, ref: str, own_base: str) -> bytes | None:
        sample = self.samples.lookup(ref)
        if sample is not None:
            return sample
        prefix = f"{own_base}/samples/"
        return self.samples.get(ref[len(prefix) :]) if ref.startswith(prefix) else None

    async def _fetch(self, url: str) -> bytes | None:
        import httpx

        assert self.http is not None
        try:
            async with self.http.stream("GET", url, timeout=10.0) as response:
                if response.status_code != 200:
                    return None
                return await read_limited(response.aiter_bytes(), MAX_INPUT_BYTES)
        except httpx.HTTPError:
            return None


def unfetched_flag(
    refs: Sequence[str], inputs: tuple[bytes | None, ...], *, fetch_remote: bool
) -> Flag | None:
    """A journal note for the inputs the mock had no pixels of (None: it saw them all)."""
    missing = [ref for ref, data in zip(refs, inputs, strict=True) if data is None]
    if not missing:
        return None
    why = (
        "fetching it failed"
        if fetch_remote
        else "no remote input is fetched unless fetch_remote_inputs = true"
    )
    shown = ", ".join(ref if len(ref) <= 120 else ref[:117] + "..." for ref in missing)
    return ("input-not-fetched", UNFETCHED, (shown, why))
