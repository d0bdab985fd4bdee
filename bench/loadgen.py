"""Load generators: wrk (Debian's ``wrk``) when installed, else a small asyncio one.

wrk in one thread spends far less CPU than any Python client, which matters on a 2-core
machine where the load generator and the server share the processors. The fallback is a
keep-alive HTTP/1.1 client on asyncio streams that writes prepared request bytes and reads
responses by Content-Length, which is all the benchmark needs. Both report ``Figures``.
"""

from __future__ import annotations

import asyncio
import os
import re
import shutil
import subprocess
import tempfile
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field


@dataclass(frozen=True)
class Request:
    method: str
    path: str
    headers: dict[str, str]
    body: bytes = b""

    def encode(self) -> bytes:
        return build_request(self.method, self.path, self.headers, self.body)


@dataclass(frozen=True)
class Figures:
    """One load phase: throughput, latency in seconds, and answers that were not 2xx."""

    requests: int
    seconds: float
    p50: float
    p99: float
    max: float
    bad: int  # non-2xx answers plus connection errors

    @property
    def rps(self) -> float:
        return self.requests / self.seconds if self.seconds else 0.0


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

    def figures(self) -> Figures:
        bad = self.errors + sum(n for status, n in self.statuses.items() if status >= 300)
        return Figures(
            self.requests,
            self.seconds,
            self.percentile(0.5),
            self.percentile(0.99),
            max(self.latencies, default=float("nan")),
            bad,
        )


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


WRK_SCRIPT = """
local requests = {{{requests}}}
local pattern = {{{pattern}}}
local n = 0
request = function()
  n = n + 1
  return requests[pattern[(n - 1) % #pattern + 1]]
end
done = function(summary, latency, _)
  local e = summary.errors
  io.write(string.format("WRK %d %d %d %d %d %d\\n", summary.requests, summary.duration,
    latency:percentile(50), latency:percentile(99), latency.max,
    e.connect + e.read + e.write + e.timeout + e.status))
end
"""


def _lua_string(data: bytes) -> str:
    return '"' + "".join(f"\\{byte}" for byte in data) + '"'


def wrk_available() -> bool:
    return shutil.which("wrk") is not None


def run_wrk(
    port: int,
    requests: Sequence[Request],
    pattern: Sequence[int],
    *,
    connections: int,
    seconds: float,
) -> Figures:
    """``wrk -t1`` for ``seconds``: connection ``i``'s ``n``-th request is
    ``requests[pattern[n % len(pattern)]]`` (each connection walks the pattern)."""
    script = WRK_SCRIPT.format(
        requests=", ".join(_lua_string(request.encode()) for request in requests),
        pattern=", ".join(str(index + 1) for index in pattern),
    )
    with tempfile.NamedTemporaryFile("w", suffix=".lua", delete=False) as handle:
        handle.write(script)
    try:
        command = [
            "wrk", "-t1", f"-c{connections}", f"-d{max(1, round(seconds))}s", "--timeout", "10s",
            "-s", handle.name, f"http://127.0.0.1:{port}/",
        ]  # fmt: skip
        output = subprocess.run(command, capture_output=True, text=True, check=True).stdout
    finally:
        os.unlink(handle.name)
    match = re.search(r"^WRK (\d+) (\d+) (\d+) (\d+) (\d+) (\d+)$", output, re.M)
    if match is None:
        raise RuntimeError(f"wrk printed no result:\n{output}")
    done, micros, p50, p99, worst, bad = (int(group) for group in match.groups())
    return Figures(done, micros / 1e6, p50 / 1e6, p99 / 1e6, worst / 1e6, bad)


async def load(
    port: int,
    requests: Sequence[Request],
    pattern: Sequence[int] = (0,),
    *,
    connections: int,
    seconds: float,
) -> Figures:
    """One load phase with wrk when installed, else with ``run_load``."""
    if wrk_available():
        return await asyncio.to_thread(
            run_wrk, port, requests, pattern, connections=connections, seconds=seconds
        )
    encoded = [request.encode() for request in requests]
    result = await run_load(
        port,
        lambda number: encoded[pattern[number % len(pattern)]],
        connections=connections,
        seconds=seconds,
    )
    return result.figures()
