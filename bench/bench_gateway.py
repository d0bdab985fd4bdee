"""Benchmark the mock against a bare Starlette app under the same uvicorn settings.

Prints: status-poll and submit throughput as a ratio to the bare app, p50/p99 latency, the
time from process start to the first answered request, the memory held per 10,000 finished
jobs, and whether status p99 grows as finished jobs accumulate (up to --jobs, default
100,000). Everything runs on 127.0.0.1 and stops by itself.

    .venv/bin/python bench/bench_gateway.py [--seconds 5] [--jobs 100000] [--connections 32]
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import socket
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import httpx

sys.path.insert(0, str(Path(__file__).resolve().parent))
from loadgen import LoadResult, build_request, run_load

ROOT = Path(__file__).resolve().parent.parent
T2I = "/seedream-5-0-lite-text-to-image/v1/seedream-5-0-lite-text-to-image-request"
KEY = "bench-key"
CONFIG = f"""
workers = 1000000
[[keys]]
key = "{KEY}"
balance_usd = "10000000"
"""


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def start(command: list[str], port: int) -> tuple[subprocess.Popen[bytes], float]:
    """Start a server; return it and the seconds until it first answered a request."""
    started = time.perf_counter()
    process = subprocess.Popen(command, cwd=ROOT, stdout=subprocess.DEVNULL)
    while True:
        try:
            httpx.get(f"http://127.0.0.1:{port}/_health", timeout=0.5)
            return process, time.perf_counter() - started
        except httpx.TransportError:
            if process.poll() is not None or time.perf_counter() - started > 30:
                raise SystemExit(f"server did not start: {command}") from None
            time.sleep(0.01)


def rss_mib(pid: int) -> float:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    return float("nan")


def line(name: str, result: LoadResult, base: LoadResult | None = None) -> str:
    ratio = f"  ({result.rps / base.rps:6.1%} of bare)" if base else ""
    return (
        f"{name:<28} {result.rps:9.0f} req/s{ratio}   p50 {result.percentile(0.5) * 1000:6.2f} ms"
        f"   p99 {result.percentile(0.99) * 1000:6.2f} ms"
        f"   max {max(result.latencies, default=0) * 1000:6.1f} ms   statuses {result.statuses}"
    )


async def fill(port: int, jobs: int, connections: int) -> LoadResult:
    body = json.dumps({"prompt": "bench", "seed": 1}).encode()
    headers = {"Content-Type": "application/json", "Ocp-Apim-Subscription-Key": KEY}
    request = build_request("POST", T2I, headers, body)
    return await run_load(port, lambda _: request, connections=connections, total=jobs)


async def main(args: argparse.Namespace) -> None:
    mock_port, bare_port = free_port(), free_port()
    with tempfile.NamedTemporaryFile("w", suffix=".toml", delete=False) as config:
        config.write(CONFIG)
    bin_dir = Path(sys.executable).parent
    mock, mock_start = start(
        [str(bin_dir / "mock-gateway"), "serve", "--port", str(mock_port), "--config", config.name],
        mock_port,
    )
    bare, bare_start = start([sys.executable, "bench/bare_app.py", str(bare_port)], bare_port)
    try:
        print(f"startup to first answer: mock {mock_start:.3f} s, bare app {bare_start:.3f} s")
        headers = {"Content-Type": "application/json", "Ocp-Apim-Subscription-Key": KEY}
        submit_body = json.dumps({"prompt": "bench", "seed": 1}).encode()
        submit = build_request("POST", T2I, headers, submit_body)
        accepted = httpx.post(
            f"http://127.0.0.1:{mock_port}{T2I}", content=submit_body, headers=headers
        )
        status_path = f"/v2/requests/status/{accepted.json()['request_id']}"
        status = build_request("GET", status_path, {"Ocp-Apim-Subscription-Key": KEY})
        bare_get = build_request("GET", "/", {})
        bare_post = build_request("POST", "/", {"Content-Type": "application/json"}, submit_body)
        run = dict(connections=args.connections, seconds=args.seconds)

        def mixed(number: int) -> bytes:
            # Nine polls to one submit: new long-lived jobs keep arriving, which is what
            # triggers full GC collections in a mock that has accumulated many jobs.
            return submit if number % 10 == 0 else status

        bare_status = await run_load(bare_port, lambda _: bare_get, **run)
        mock_status = await run_load(mock_port, lambda _: status, **run)
        bare_submit = await run_load(bare_port, lambda _: bare_post, **run)
        mock_submit = await run_load(mock_port, lambda _: submit, **run)
        print(line("bare GET", bare_status))
        print(line("mock status poll", mock_status, bare_status))
        print(line("bare POST", bare_submit))
        print(line("mock submit", mock_submit, bare_submit))
        mixed_before = await run_load(mock_port, mixed, **run)
        print(line("mock 9 polls : 1 submit", mixed_before))

        time.sleep(2)  # let the submits finish
        before_jobs = httpx.get(f"http://127.0.0.1:{mock_port}/_health").json()["jobs"]
        rss_before = rss_mib(mock.pid)
        await fill(mock_port, args.jobs, args.connections)
        time.sleep(2)
        jobs = httpx.get(f"http://127.0.0.1:{mock_port}/_health").json()["jobs"]
        rss_after = rss_mib(mock.pid)
        added = max(1, jobs - before_jobs)
        print(
            f"memory: {rss_before:.0f} MiB -> {rss_after:.0f} MiB with {added} more finished jobs"
            f" = {(rss_after - rss_before) / added * 10_000:.1f} MiB per 10,000 jobs"
        )
        rss_polls = rss_mib(mock.pid)
        loaded = await run_load(mock_port, lambda _: status, **run)
        print(line(f"status poll, {jobs} jobs", loaded, bare_status))
        print(
            f"memory over {loaded.requests} more polls (journal bounded at 10,000 entries):"
            f" {rss_polls:.0f} MiB -> {rss_mib(mock.pid):.0f} MiB"
        )
        mixed_after = await run_load(mock_port, mixed, **run)
        print(line(f"9 polls : 1 submit, {jobs} jobs", mixed_after))
        growth = loaded.percentile(0.99) / mock_status.percentile(0.99)
        mixed_growth = mixed_after.percentile(0.99) / mixed_before.percentile(0.99)
        print(
            f"p99 growth with {jobs} finished jobs: status x{growth:.2f}, mixed x{mixed_growth:.2f}"
            " (target: about x1)"
        )
        print(
            "targets: status >= 60% of bare "
            f"[{'ok' if mock_status.rps >= 0.6 * bare_status.rps else 'MISSED'}], "
            f"startup < 1 s [{'ok' if mock_start < 1 else 'MISSED'}]"
        )
    finally:
        for process in (mock, bare):
            process.terminate()
            process.wait(10)
        os.unlink(config.name)


if __name__ == "__main__":
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawTextHelpFormatter
    )
    parser.add_argument("--seconds", type=float, default=5.0, help="seconds per load phase")
    parser.add_argument("--jobs", type=int, default=100_000, help="finished jobs to accumulate")
    parser.add_argument("--connections", type=int, default=32)
    asyncio.run(main(parser.parse_args()))
