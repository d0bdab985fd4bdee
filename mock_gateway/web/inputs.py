"""Fetching remote input images, only when the user opted in (``fetch_remote_inputs``).

By default the mock never contacts another server: the pipeline resolves the documentation's
sample URLs, the mock's own ``/samples/`` URLs and data URLs without I/O
(``mock_gateway.pipeline.inputs``); any other URL is accepted, as the gateway would, but its
pixels are unavailable. With the opt-in, the pipeline asks for those URLs and this fetches
them, at most ``MAX_INPUT_BYTES`` each.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import TYPE_CHECKING

from mock_gateway.web.streams import read_limited

if TYPE_CHECKING:
    import httpx

MAX_INPUT_BYTES = 10 * 1024 * 1024


class RemoteInputs:
    def __init__(self, *, enabled: bool, http: httpx.AsyncClient | None) -> None:
        self.enabled = enabled
        self.http = http

    async def fetch(self, urls: Iterable[str]) -> dict[str, bytes | None]:
        """Each URL's bytes, or None where it could not be had (or fetching is off)."""
        return {url: await self._fetch(url) for url in urls}

    async def _fetch(self, url: str) -> bytes | None:
        if not self.enabled or self.http is None:
            return None
        import httpx  # late: start-up does not pay for it

        try:
            async with self.http.stream("GET", url, timeout=10.0) as response:
                if response.status_code != 200:
                    return None
                return await read_limited(response.aiter_bytes(), MAX_INPUT_BYTES)
        except httpx.HTTPError:
            return None
