"""CPU per served status poll, this build against another, taking turns in one run.

Each build is served as users run it (``mock-gateway serve``, the full mock: auth, rate
limits, journal, hygiene, the fast path) with one key whose rate limits never bite; one job
is submitted and finished, then ``wrk -t1 -c32`` polls it. The servers take turns for
``--rounds`` rounds (the order alternating), and each phase reads the server process's user
and system CPU from ``/proc/PID/stat`` before and after: CPU per poll is what a shared,
noisy machine distorts least (requests per second are printed too). Needs ``wrk``.

    .venv/bin/python bench/bench_poll_cpu.py --against /path/to/other/.venv/bin/mock-gateway
"""

from __future__ import annotations

import argparse
import json
import re
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from bench_gateway import CONFIG, KEY, SUBMIT, fetch
from servers import Server, free_port, start

POLL_SCRIPT = f'wrk.headers["Ocp-Apim-Subscription-Key"] = "{KEY}"\n'
THIS = Path(sys.executable).with_name("mock-gateway")


def serve(name: str, executable: str, config: Path) -> tuple[Server, str]:
    """The server, and the status URL of a job it has finished."""
    port = free_port()
    command = [executable, "serve", "--port", str(port), "--config", str(config)]
    server = start(name, command, port, "/openapi.json")
    request_id = json.loads(fetch(port, SUBMIT)[1])["request_id"]
    return server, f"http://127.0.0.1:{port}/v2/requests/status/{request_id}"


def phase(server: Server, url: str, seconds: int, script: Path) -> tuple[float, float, float]:
    """One wrk phase: (requests per second, user and system microseconds per poll)."""
    user, system = server.cpu_times()
    command = ["wrk", "-t1", "-c32", f"-d{seconds}s", "-s", str(script), url]
    output = subprocess.run(command, capture_output=True, text=True, check=True).stdout
    user_after, system_after = server.cpu_times()
    done = re.search(r"(\d+) requests in", output)
    rate = re.search(r"Requests/sec:\s+([\d.]+)", output)
    if done is None or rate is None or "Non-2xx" in output:
        raise RuntimeError(f"wrk did not poll cleanly:\n{output}")
    polls = int(done[1])
    return float(rate[1]), (user_after - user) / polls * 1e6, (system_after - system) / polls * 1e6


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--against", help="another build's mock-gateway executable")
    parser.add_argument("--rounds", type=int, default=6)
    parser.add_argument("--seconds", type=int, default=4)
    args = parser.parse_args()
    if shutil.which("wrk") is None:
        sys.exit("needs wrk (apt-get install wrk)")
    builds = {"this build": str(THIS)}
    if args.against:
        builds["against"] = args.against
    with tempfile.TemporaryDirectory() as folder:
        config, script = Path(folder, "config.toml"), Path(folder, "poll.lua")
        config.write_text(CONFIG)
        script.write_text(POLL_SCRIPT)
        servers = {name: serve(name, exe, config) for name, exe in builds.items()}
        try:
            time.sleep(2)  # the job finishes (timing "fast")
            results: dict[str, list[tuple[float, float, float]]] = {name: [] for name in servers}
            for number in range(args.rounds):
                order = list(servers) if number % 2 == 0 else list(reversed(servers))
                for name in order:
                    server, url = servers[name]
                    results[name].append(phase(server, url, args.seconds, script))
        finally:
            for server, _ in servers.values():
                server.stop()
    for name, rows in results.items():
        rate = statistics.median(row[0] for row in rows)
        user = statistics.median(row[1] for row in rows)
        system = statistics.median(row[2] for row in rows)
        total = statistics.median(row[1] + row[2] for row in rows)
        print(
            f"{name:10} {rate:9,.0f} polls/s  CPU per poll {total:5.1f} us "
            f"(user {user:4.1f}, system {system:4.1f})"
        )
    if len(results) == 2:
        mine, other = results.values()
        ratios = [(a[1] + a[2]) / (b[1] + b[2]) for a, b in zip(mine, other, strict=True)]
        rates = [a[0] / b[0] for a, b in zip(mine, other, strict=True)]
        print(
            f"this build / against: CPU per poll {statistics.median(ratios):.2f}x, "
            f"polls/s {statistics.median(rates):.2f}x (medians of the rounds' ratios)"
        )


if __name__ == "__main__":
    main()
