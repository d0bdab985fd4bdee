"""Parsing and validating a submit body without holding the event loop.

A status poll must answer in milliseconds even while another client sends an 18 MB JSON
document or a 6000x6000 16-bit PNG (36 megapixels: inside the documented limit, and about a
second to decode). So a body that is big, or that carries a data URL (whose image is decoded
to prove it is one), is parsed, validated and decoded in a worker thread, at most
``concurrency`` at a time; the rest wait their turn without blocking anything else. Small
plain bodies (the common case) are handled inline: a thread hop would cost more than they do.
"""

from __future__ import annotations

import anyio
import anyio.to_thread

from mock_gateway.validation.body import parse_json
from mock_gateway.validation.contract import Contract, Operation
from mock_gateway.validation.rejection import Rejection
from mock_gateway.validation.request import ParsedSubmit, parse_submit

INLINE_BYTES = 16 * 1024  # bodies up to this size without a data URL are parsed inline
DEFAULT_CONCURRENCY = 2  # big bodies parsed (and images decoded) at once


class SubmitParser:
    def __init__(
        self,
        contract: Contract,
        *,
        concurrency: int = DEFAULT_CONCURRENCY,
        inline_bytes: int = INLINE_BYTES,
    ) -> None:
        self.contract = contract
        self.concurrency = max(1, concurrency)
        self.inline_bytes = inline_bytes
        self._limiter: anyio.CapacityLimiter | None = None  # made on first use, in the loop
        self.offloaded = 0  # bodies handled in a worker thread (for tests and benchmarks)

    def _parse(self, operation: Operation, raw: bytes) -> ParsedSubmit | Rejection:
        body = parse_json(raw)
        if isinstance(body, Rejection):
            return body
        return parse_submit(self.contract, operation, body)

    async def parse(self, operation: Operation, raw: bytes) -> ParsedSubmit | Rejection:
        """The validated submit, or the 400 why not."""
        if len(raw) <= self.inline_bytes and b"data:" not in raw:
            return self._parse(operation, raw)
        if self._limiter is None:
            self._limiter = anyio.CapacityLimiter(self.concurrency)
        self.offloaded += 1
        return await anyio.to_thread.run_sync(self._parse, operation, raw, limiter=self._limiter)
