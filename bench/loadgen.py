"""A small keep-alive HTTP/1.1 load generator on asyncio streams.

httpx would spend more CPU than the servers under test; this writes prepared request bytes
and reads responses by Content-Length, which is all the benchmark needs.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable
from dataclasses import dataclass, field


@dataclass
class LoadResult:
    requests: int = 0
    errors: int = 0
    statuses: dict[int, int] = field(default_factory=dict)
    latencies: list[float] = field(default_factory=list)
    seconds: float = 0.0

    @property
    def rps(self) -> float:
        return self.requests / self.seconds if self.seconds else 0.0

    def percentile(self, fraction: float) -> float:
        if not self.latencies:
            return float("nan")
        ordered = sorted(self.latencies)
        return ordered[min(len(ordered) - 1, int(fraction * len(ordered)))]


def build_request(method: str, path: str, headers: dict[str, str], body: bytes = b"") -> bytes:
    lines = [f"{method} {path} HTTP/1.1", "Host: 127.0.0.1"]
    lines += [f"{name}: {value}" for name, value in headers.items()]
    lines.append(f"Content-Length: {len(body)}")
    return ("\r\n".join(lines) + "\r\n\r\n").encode() + body


async def _read_response(reader: asyncio.StreamReader) -> tuple[int, bytes]:
    head = await reader.readuntil(b"\r\n\r\n")
    status = int(head.split(b" ", 2)[1])
    length = 0
    for line in head.split(b"\r\n"):
        if line.lower().startswith(b"content-length:"):
            length = int(line.split(b":", 1)[1])
    body = await reader.readexactly(length) if length else b""
    return status, body


async def run_load(
    port: int,
    make_request: Callable[[int], bytes],
    *,
    connections: int,
    seconds: float | None = None,
    total: int | None = None,
) -> LoadResult:
    """Drive ``connections`` keep-alive connections for ``seconds`` or ``total`` requests."""
    result = LoadResult()
    started = time.perf_counter()
    deadline = started + seconds if seconds else float("inf")
    counter = iter(range(total if total is not None else 10**12))

    async def worker() -> None:
        reader, writer = await asyncio.open_connection("127.0.0.1", port)
        try:
            for number in counter:
                if time.perf_counter() >= deadline:
                    break
                sent = time.perf_counter()
                writer.write(make_request(number))
                status, _ = await _read_response(reader)
                result.latencies.append(time.perf_counter() - sent)
                result.requests += 1
                result.statuses[status] = result.statuses.get(status, 0) + 1
        except (ConnectionError, asyncio.IncompleteReadError):
            result.errors += 1
        finally:
            writer.close()

    await asyncio.gather(*[worker() for _ in range(connections)])
    result.seconds = time.perf_counter() - started
    return result
