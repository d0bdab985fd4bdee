"""Start to first answer, and what the first requests after it cost, in one run.

The servers take turns, round by round (the machine's load drifts), each started on a free
port of 127.0.0.1 and stopped after:

- the mock as ``make serve`` runs it (``mock-gateway serve``, the defaults);
- the same with a small config file (``--config FILE``: it is read and checked first);
- the same two of another build, with ``--baseline PATH/TO/mock-gateway`` (an older
  checkout's venv, say), to compare a change against what it replaces;
- a bare Starlette hello-world under the same uvicorn (``bench/bare_app.py``).

"Start to first answer" is from ``Popen`` until ``GET /_health`` (bare: ``GET /``) answers.
Moving work from the start to the first request is no gain, so right after that answer each
mock is sent its first submit (text-to-image) and the first status poll of that job, and
their latencies are printed too. Ratios are medians of the rounds' ratios.

    .venv/bin/python bench/bench_startup.py [--rounds 15] [--baseline OTHER/.venv/bin/mock-gateway]
"""

from __future__ import annotations

import argparse
import json
import statistics
import sys
import tempfile
import time
import urllib.request
from dataclasses import dataclass, field
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from bench_gateway import KEY, T2I, median_ratio
from servers import start_on_free_port

CONFIG = f"""
workers = 4
[[keys]]
key = "{KEY}"
balance_usd = "1000"
rate_limits = {{ submit = "1000/s", status = "1000/s" }}
"""
DEFAULT_KEY = "test-key"  # fixtures/keys.toml, what the defaults serve


@dataclass
class Figures:
    startup: list[float] = field(default_factory=list)
    startup_cpu: list[float] = field(default_factory=list)
    submit: list[float] = field(default_factory=list)
    submit_cpu: list[float] = field(default_factory=list)  # the server's, for that submit
    poll: list[float] = field(default_factory=list)


def timed_call(
    port: int, method: str, path: str, key: str, body: bytes | None = None
) -> tuple[float, bytes]:
    """Seconds ``method path`` took to answer, and the answer's body."""
    headers = {"Ocp-Apim-Subscription-Key": key, "Content-Type": "application/json"}
    request = urllib.request.Request(
        f"http://127.0.0.1:{port}{path}", data=body, headers=headers, method=method
    )
    started = time.perf_counter()
    with urllib.request.urlopen(request, timeout=30) as response:
        answer = response.read()
        if response.status >= 300:
            raise RuntimeError(f"{method} {path} answered {response.status}")
    return time.perf_counter() - started, answer


def one_start(command: list[str], probe: str, key: str | None, figures: Figures) -> None:
    server = start_on_free_port(command[0], command, probe)
    port = server.port
    try:
        figures.startup.append(server.startup)
        figures.startup_cpu.append(server.startup_cpu)
        if key is not None:
            body = json.dumps({"prompt": "a red bicycle", "seed": 1}).encode()
            before = server.cpu_seconds_exact()
            seconds, answer = timed_call(port, "POST", T2I, key, body)
            figures.submit_cpu.append(server.cpu_seconds_exact() - before)
            figures.submit.append(seconds)
            status = f"/v2/requests/status/{json.loads(answer)['request_id']}"
            figures.poll.append(timed_call(port, "GET", status, key)[0])
    finally:
        server.stop()


def main(args: argparse.Namespace) -> None:
    with tempfile.NamedTemporaryFile("w", suffix=".toml", delete=False) as config:
        config.write(CONFIG)
    ours = str(Path(sys.executable).parent / "mock-gateway")
    commands: dict[str, tuple[list[str], str, str | None]] = {}
    builds = {"mock": ours} | ({"baseline": args.baseline} if args.baseline else {})
    for name, binary in builds.items():
        serve = [binary, "serve", "--port", "{port}"]
        commands[f"{name} (defaults)"] = (serve, "/_health", DEFAULT_KEY)
        commands[f"{name} (config file)"] = ([*serve, "--config", config.name], "/_health", KEY)
    commands["bare Starlette"] = ([sys.executable, "bench/bare_app.py", "{port}"], "/", None)
    figures = {name: Figures() for name in commands}
    try:
        for number in range(args.rounds + 1):  # round 0 warms the disk cache and .pyc files
            for name, (command, probe, key) in commands.items():
                one_start(command, probe, key, figures[name] if number else Figures())
    finally:
        Path(config.name).unlink()
    bare = figures["bare Starlette"]
    print(f"median of {args.rounds} rounds (servers taking turns); ratios: medians of the"
          " rounds' ratios; CPU: the server process's own")  # fmt: skip
    print(f"  {'':<22} {'start to first answer':>33}   {'first submit':>18}   first poll")
    print(f"  {'':<22} {'wall':>15} {'CPU':>17}   {'wall':>8} {'CPU':>9}   {'wall':>10}")
    for name, result in figures.items():
        line = f"  {name:<22} {ms(result.startup)} {ratio(result.startup, bare.startup)}"
        line += f" {ms(result.startup_cpu)} {ratio(result.startup_cpu, bare.startup_cpu)}"
        if result.submit:
            line += f"   {ms(result.submit)} {ms(result.submit_cpu)}   {ms(result.poll)}"
        print(line)
    if args.baseline:
        for kind in ("defaults", "config file"):
            now, before = figures[f"mock ({kind})"], figures[f"baseline ({kind})"]
            start = median_ratio(now.startup, before.startup)
            start_cpu = median_ratio(now.startup_cpu, before.startup_cpu)
            submit = median_ratio(now.submit, before.submit)
            submit_cpu = median_ratio(now.submit_cpu, before.submit_cpu)
            print(f"  mock vs baseline ({kind}): start {start:.2f}x wall, {start_cpu:.2f}x CPU;"
                  f" first submit {submit:.2f}x wall, {submit_cpu:.2f}x CPU")  # fmt: skip


def ms(seconds: list[float]) -> str:
    return f"{statistics.median(seconds) * 1000:6.1f} ms"


def ratio(ours: list[float], bare: list[float]) -> str:
    return f"{median_ratio(ours, bare):5.2f}x" if ours is not bare else " " * 6


if __name__ == "__main__":
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawTextHelpFormatter
    )
    parser.add_argument("--rounds", type=int, default=15)
    parser.add_argument("--baseline", metavar="MOCK_GATEWAY", help="another build's mock-gateway")
    main(parser.parse_args())
