"""Benchmark the mock against WireMock standalone and a bare Starlette app, in one run.

Prints each figure with its target as a ratio measured in this run (absolute numbers drift
on a shared machine; ratios taken minutes apart on the same machine hold):

- status polls of the full mock (``mock-gateway serve`` as users run it, fast path on: auth,
  rate limits, journal, hygiene) against WireMock
  standalone tuned (``--no-request-journal --disable-request-logging``) serving a static
  stub of the same body: requests per second (target >= 1.5x) and requests per CPU-second
  of the server process (target >= 2x);
- submits (real validation, wallet, queue) against WireMock's static 202 stub (>= 0.5x);
- the same two with ``--no-fast-path`` (every request through ASGI), for what the
  protocol-level fast path (``mock_gateway/web/fast.py``) gains;
- status p99 with 100,000 finished jobs against the empty mock's (<= 1.1x): a second mock,
  started the same way and holding one finished job, takes turns with the full one for
  ``--p99-rounds`` rounds (the order swapped every round), and the figure is the median of
  the rounds' p99 ratios, so the machine's drift cancels as in the WireMock rounds;
- the worst latency of 9 polls : 1 submit, before and after (<= 50 ms);
- memory per finished job (<= 1 KB);
- start to first answer against the bare Starlette app (<= 1.5x), serving the defaults
  (``make serve``) and with a config file (checked by a quick accept check, jsonschema only
  wording a refusal: ``config/schema.py``).

Everything runs on 127.0.0.1 and stops by itself. wrk (Debian's ``wrk``) drives the load
when installed, else the Python load generator; WireMock figures say "n/a" without it.

    .venv/bin/python bench/bench_gateway.py [--seconds 5] [--jobs 100000] [--connections 32]
        [--rounds 3] [--p99-rounds 5] [--startup-rounds 5] [--warmup 5]
"""

from __future__ import annotations

import argparse
import asyncio
import json
import statistics
import sys
import tempfile
import time
import urllib.request
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import TypeVar

sys.path.insert(0, str(Path(__file__).resolve().parent))
from loadgen import Figures, Request, load, wrk_available
from servers import Server, Stub, settle, start_on_free_port, start_wiremock

T2I = "/seedream-5-0-lite-text-to-image/v1/seedream-5-0-lite-text-to-image-request"
KEY = "bench-key"
CONFIG = f"""
workers = 1000000
[[keys]]
key = "{KEY}"
balance_usd = "100000000"
rate_limits = {{ submit = "1000000000/s", status = "1000000000/s" }}
"""
HEADERS = {"Ocp-Apim-Subscription-Key": KEY}
T = TypeVar("T")
SUBMIT = Request("POST", T2I, {**HEADERS, "Content-Type": "application/json"},
                 json.dumps({"prompt": "bench", "seed": 1}).encode())  # fmt: skip


@dataclass
class Phase:
    figures: Figures
    cpu: float  # CPU-seconds the server spent during the phase

    @property
    def per_cpu_second(self) -> float:
        return self.figures.requests / self.cpu if self.cpu else float("nan")


@dataclass
class Quiet:
    """The servers started so far: a measured phase begins once all of them are idle."""

    servers: list[Server] = field(default_factory=list)
    waits: list[float] = field(default_factory=list)

    def wait(self) -> None:
        self.waits.append(settle(self.servers))

    def summary(self) -> str:
        longest = max(self.waits, default=0.0)
        return (f"each phase began once every server was idle (< 5 % of a core): waited"
                f" {sum(self.waits):.1f} s in all, at most {longest:.1f} s")  # fmt: skip


async def phase(
    server: Server,
    requests: list[Request],
    pattern: tuple[int, ...],
    args: argparse.Namespace,
    quiet: Quiet | None = None,
) -> Phase:
    if quiet is not None:
        quiet.wait()
    before = server.cpu_seconds()
    figures = await load(
        server.port, requests, pattern, connections=args.connections, seconds=args.seconds
    )
    return Phase(figures, server.cpu_seconds() - before)


async def fill(mock: Server, both: list[Request], args: argparse.Namespace) -> None:
    """Submit until ``args.jobs`` more jobs exist, in chunks sized by the rate so far."""
    target = jobs_of(mock) + args.jobs
    rate, deadline = 2000.0, time.monotonic() + 600
    while (missing := target - jobs_of(mock)) > 0 and time.monotonic() < deadline:
        chunk = argparse.Namespace(**{**vars(args), "seconds": min(10, max(1, missing / rate))})
        result = await phase(mock, both, (1,), chunk)
        rate = max(100.0, result.figures.rps)


def fetch(port: int, request: Request) -> tuple[int, bytes]:
    call = urllib.request.Request(
        f"http://127.0.0.1:{port}{request.path}",
        data=request.body or None,
        headers=request.headers,
        method=request.method,
    )
    with urllib.request.urlopen(call, timeout=10) as response:
        return response.status, response.read()


def status_of_new_job(server: Server) -> Request:
    """A status poll of a job submitted to ``server`` now."""
    accepted = json.loads(fetch(server.port, SUBMIT)[1])
    return Request("GET", f"/v2/requests/status/{accepted['request_id']}", HEADERS)


def jobs_of(server: Server) -> int:
    return int(json.loads(fetch(server.port, Request("GET", "/_health", {}))[1])["jobs"])


def row(name: str, result: Phase) -> str:
    figures = result.figures
    return (
        f"  {name:<34} {figures.rps:8.0f} req/s  {result.per_cpu_second:8.0f} req/CPU-s"
        f"  p50 {figures.p50 * 1000:6.2f} ms  p99 {figures.p99 * 1000:6.2f} ms"
        f"  max {figures.max * 1000:6.1f} ms  not 2xx {figures.bad}"
    )


def verdict(name: str, value: float | None, target: str, met: bool | None, unit: str = "x") -> str:
    shown = "n/a" if value is None else f"{value:.2f}{unit}"
    status = "n/a" if met is None else ("met" if met else "MISSED")
    return f"  {name:<52} {shown:>10}   target {target:<8} {status}"


def startup_figures(
    commands: dict[str, tuple[list[str], str]], rounds: int
) -> dict[str, list[float]]:
    """Seconds from process start to first answer, round by round, the commands taking
    turns (a ratio is then taken within each round: the machine's load drifts)."""
    seconds: dict[str, list[float]] = {name: [] for name in commands}
    for number in range(rounds + 1):  # the first round warms the disk cache and .pyc files
        for name, (command, probe) in commands.items():
            server = start_on_free_port(name, command, probe)
            if number:
                seconds[name].append(server.startup)
            server.stop()
    return seconds


def median_ratio(a: list[float], b: list[float]) -> float:
    return statistics.median(x / y for x, y in zip(a, b, strict=True))


def median_phase(phases: list[Phase]) -> Phase:
    return sorted(phases, key=lambda result: result.figures.rps)[len(phases) // 2]


def taking_turns(servers: Sequence[T], rounds: int) -> list[list[T]]:
    """The order of each round: round ``n`` starts with server ``n`` (modulo their number)
    and goes on in turn, so none is always measured right after the same other one (or
    after a fill) when the machine drifts within a round."""
    count = len(servers)
    return [[*servers[n % count :], *servers[: n % count]] for n in range(rounds)]


def p99_growth(full: list[Phase], empty: list[Phase]) -> float:
    """The full mock's status p99 over the empty one's: the median of the rounds' ratios
    (each round's two phases ran back to back under the same load)."""
    return median_ratio([r.figures.p99 for r in full], [r.figures.p99 for r in empty])


async def main(args: argparse.Namespace) -> None:
    with tempfile.NamedTemporaryFile("w", suffix=".toml", delete=False) as config:
        config.write(CONFIG)
    bin_dir = Path(sys.executable).parent
    serve = [str(bin_dir / "mock-gateway"), "serve", "--port", "{port}"]
    bare = [sys.executable, "bench/bare_app.py", "{port}"]
    print(f"load generator: {'wrk -t1' if wrk_available() else 'Python (wrk not installed)'},"
          f" {args.connections} connections, {args.seconds:g} s a phase")  # fmt: skip
    started = startup_figures(
        {
            "mock (defaults)": (serve, "/_health"),
            "mock (config file)": ([*serve, "--config", config.name], "/_health"),
            "bare Starlette": (bare, "/"),
        },
        args.startup_rounds,
    )
    configured = [*serve, "--config", config.name]
    mock = start_on_free_port("mock", configured, "/_health")
    port = mock.port
    wiremock: Server | None = None
    asgi: Server | None = None
    empty: Server | None = None
    try:
        status = status_of_new_job(mock)
        # the yardstick for the p99 with many jobs: the same mock, started the same way,
        # holding one finished job of its own while the other fills up
        empty = start_on_free_port("mock (1 job)", configured, "/_health")
        empty_status = status_of_new_job(empty)
        asgi = start_on_free_port("mock (ASGI path)", [*configured, "--no-fast-path"], "/_health")
        asgi_status = status_of_new_job(asgi)  # the same job, for the ASGI path's polls
        time.sleep(2)  # let it complete: the stub serves the COMPLETED body
        _, status_body = fetch(port, status)
        _, submit_body = fetch(port, SUBMIT)
        wiremock = start_wiremock(
            [Stub("GET", status.path, 200, status_body), Stub("POST", T2I, 202, submit_body)]
        )
        quiet = Quiet([mock, empty, asgi, *([wiremock] if wiremock else [])])
        polls, submits, mixed = (0,), (1,), (1, 0, 0, 0, 0, 0, 0, 0, 0, 0)
        both = [status, SUBMIT]
        # what each server is sent (WireMock: the full mock's own requests)
        calls = {mock.name: both, empty.name: [empty_status], asgi.name: [asgi_status, SUBMIT]}
        warmup = argparse.Namespace(**{**vars(args), "seconds": args.warmup})
        results: dict[str, Phase] = {}
        # worst latency and memory as finished jobs accumulate, from (nearly) none
        await phase(mock, both, polls, warmup)
        results["mock 9 polls : 1 submit"] = await phase(mock, both, mixed, args, quiet)
        time.sleep(2)  # the submits so far finish
        jobs_before, rss_before = jobs_of(mock), mock.rss_bytes()
        await fill(mock, both, args)
        time.sleep(2)
        jobs = jobs_of(mock)
        added = max(1, jobs - jobs_before)
        per_job = (mock.rss_bytes() - rss_before) / added
        mixed_full = await phase(mock, both, mixed, args, quiet)
        results[f"mock 9 polls : 1 submit, {jobs} jobs"] = mixed_full

        # status p99: the full mock and the one-job mock take turns under the same load
        await phase(empty, calls[empty.name], polls, warmup)  # the full one warmed as it filled
        p99_rounds: dict[str, list[Phase]] = {mock.name: [], empty.name: []}
        for order in taking_turns([empty, mock], args.p99_rounds):
            for server in order:
                polled = await phase(server, calls[server.name], polls, args, quiet)
                p99_rounds[server.name].append(polled)
        full_rounds, empty_rounds = p99_rounds[mock.name], p99_rounds[empty.name]
        results["mock status poll, 1 job"] = median_phase(empty_rounds)
        results[f"mock status poll, {jobs} jobs"] = median_phase(full_rounds)

        # against WireMock: the servers take turns, and ratios are taken round by round
        servers = [server for server in (mock, asgi, wiremock) if server is not None]
        for server in servers:  # the same warm-up for each: the JVM compiles meanwhile
            await phase(server, calls.get(server.name, both), polls, warmup)
            await phase(server, calls.get(server.name, both), submits, warmup)
        rounds: dict[str, list[Phase]] = {}
        for order in taking_turns(servers, args.rounds):
            for kind, pattern in (("status poll", polls), ("submit", submits)):
                for server in order:
                    sent = calls.get(server.name, both)
                    result = await phase(server, sent, pattern, args, quiet)
                    rounds.setdefault(f"{server.name} {kind}", []).append(result)
        results |= {name: median_phase(phases) for name, phases in rounds.items()}

        print("load phases (one run, same machine):")
        for name, result in results.items():
            print(row(name, result))
        print(f"  memory: {added} more finished jobs took {per_job:.0f} bytes each")
        shown = ", ".join(
            f"{name} {statistics.median(seconds):.3f} s" for name, seconds in started.items()
        )
        print(f"  start to first answer (median of {args.startup_rounds}): {shown}")
        print(f"  (the median phase of {args.rounds} rounds is shown, of {args.p99_rounds} for"
              " the status p99 rows; ratios are medians of the rounds' ratios)")  # fmt: skip
        shown = ", ".join(
            f"{full.figures.p99 * 1000:.2f}/{one.figures.p99 * 1000:.2f} ms"
            for full, one in zip(full_rounds, empty_rounds, strict=True)
        )
        print(f"  status p99, {jobs} jobs / 1 job, round by round: {shown}")
        print(f"  {quiet.summary()}")

        def ratio(name: str, per_cpu: bool = False, against: str = "WireMock") -> float | None:
            ours, theirs = rounds[f"mock {name}"], rounds.get(f"{against} {name}")
            if theirs is None:
                return None
            if per_cpu:
                return median_ratio([r.per_cpu_second for r in ours],
                                    [r.per_cpu_second for r in theirs])  # fmt: skip
            return median_ratio([r.figures.rps for r in ours], [r.figures.rps for r in theirs])

        worst = max(results["mock 9 polls : 1 submit"].figures.max,
                    results[f"mock 9 polls : 1 submit, {jobs} jobs"].figures.max)  # fmt: skip
        figures = [
            ("status polls vs WireMock, req/s", ratio("status poll"), ">= 1.5x", 1.5),
            ("status polls vs WireMock, req per CPU-second", ratio("status poll", True),
             ">= 2x", 2.0),
            ("submits vs WireMock's static 202, req/s", ratio("submit"), ">= 0.5x", 0.5),
        ]  # fmt: skip
        print("the fast path against the ASGI path (--no-fast-path), same run:")
        for kind in ("status poll", "submit"):
            gain, per_cpu = ratio(kind, against=asgi.name), ratio(kind, True, asgi.name)
            print(f"  {kind + 's':<52} {gain or 0:9.2f}x req/s, {per_cpu or 0:.2f}x req/CPU-s")
        print("targets:")
        for name, value, target, floor in figures:
            print(verdict(name, value, target, None if value is None else value >= floor))
        growth = p99_growth(full_rounds, empty_rounds)
        print(verdict(f"status p99 with {jobs} finished jobs vs 1", growth, "<= 1.1x",
                      growth <= 1.1))  # fmt: skip
        print(verdict("worst latency, 9 polls : 1 submit", worst * 1000, "<= 50 ms",
                      worst <= 0.05, " ms"))  # fmt: skip
        print(verdict("memory per finished job", per_job, "<= 1024 B", per_job <= 1024, " B"))
        for name in ("mock (defaults)", "mock (config file)"):
            value = median_ratio(started[name], started["bare Starlette"])
            print(verdict(f"start to first answer, {name} vs bare Starlette", value,
                          "<= 1.5x", value <= 1.5))  # fmt: skip
    finally:
        for started_server in (mock, empty, asgi, wiremock):
            if started_server is not None:
                started_server.stop()
        Path(config.name).unlink()


if __name__ == "__main__":
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawTextHelpFormatter
    )
    parser.add_argument("--seconds", type=float, default=5.0, help="seconds per load phase")
    parser.add_argument("--jobs", type=int, default=100_000, help="finished jobs to accumulate")
    parser.add_argument("--connections", type=int, default=32)
    parser.add_argument("--rounds", type=int, default=3, help="turns of mock and WireMock")
    parser.add_argument("--p99-rounds", type=int, default=5,
                        help="turns of the full mock and the one-job mock")  # fmt: skip
    parser.add_argument("--startup-rounds", type=int, default=5)
    parser.add_argument("--warmup", type=float, default=5.0, help="seconds of warm-up load")
    asyncio.run(main(parser.parse_args()))
