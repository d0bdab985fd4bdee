"""Submits with ``--state FILE`` against the same mock in memory, in one run (issue 17).

Every 202 with ``--state`` is sent only after its job and its charge are committed; group
commits let concurrent submits share one transaction. Target: at least 0.5x the in-memory
submits per second. The two servers take turns, round by round, and the figure is the
median of the rounds' ratios (a shared machine drifts; ratios taken side by side hold).
Also measured: ``--state-sync full`` (an fsync per group commit).

    .venv/bin/python bench/bench_state.py [--seconds 3] [--rounds 3] [--connections 32]
"""

from __future__ import annotations

import argparse
import asyncio
import statistics
import sys
import tempfile
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from bench_gateway import CONFIG, SUBMIT  # the same funded key, limits and submit
from loadgen import load, wrk_available
from servers import Server, free_port, start

TARGET = 0.5


def serve(config: str, *extra: str) -> Server:
    port = free_port()
    command = [str(Path(sys.executable).parent / "mock-gateway"), "serve", "--port", str(port)]
    return start("mock", [*command, "--config", config, *extra], port, "/_health")


async def submits_per_second(server: Server, args: argparse.Namespace) -> float:
    figures = await load(
        server.port, [SUBMIT], (0,), connections=args.connections, seconds=args.seconds
    )
    if figures.bad:
        raise RuntimeError(f"{figures.bad} submits were not answered 202")
    return figures.rps


async def main(args: argparse.Namespace) -> None:
    folder = Path(tempfile.mkdtemp(prefix="bench-state-"))
    config = folder / "bench.toml"
    config.write_text(CONFIG)
    servers = {
        "in memory": serve(str(config)),
        "--state": serve(str(config), "--state", str(folder / "normal.db")),
        "--state --state-sync full": serve(
            str(config), "--state", str(folder / "full.db"), "--state-sync", "full"
        ),
    }
    generator = "wrk -t1" if wrk_available() else "Python (wrk not installed)"
    print(f"load generator: {generator}, {args.connections} connections,")
    print(f"  {args.seconds:g} s a phase, {args.rounds} rounds, servers taking turns")
    rounds: dict[str, list[float]] = {name: [] for name in servers}
    try:
        warm = argparse.Namespace(**{**vars(args), "seconds": 1.0})
        for server in servers.values():
            await submits_per_second(server, warm)
        for _ in range(args.rounds):
            for name, server in servers.items():
                rounds[name].append(await submits_per_second(server, args))
    finally:
        for server in servers.values():
            server.stop()
    memory = rounds["in memory"]
    for name, figures in rounds.items():
        ratios = [figure / base for figure, base in zip(figures, memory, strict=True)]
        ratio = statistics.median(ratios)
        verdict = "" if name == "in memory" else f"  {ratio:.2f}x in-memory"
        if name == "--state":
            verdict += f" (target >= {TARGET}x: {'met' if ratio >= TARGET else 'MISSED'})"
        print(f"submits/s {name:<28} {statistics.median(figures):>9.0f}{verdict}")


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seconds", type=float, default=3.0)
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--connections", type=int, default=32)
    asyncio.run(main(parser.parse_args()))
