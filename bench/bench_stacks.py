"""Which server stack: the same apps under uvicorn (h11 on asyncio, httptools on uvloop) and
under granian, in one run, as requests per second of status polls.

    .venv/bin/python bench/bench_stacks.py [--seconds 5] [--connections 32]

The mock under granian is for comparison only: ``mock-gateway serve`` stays on uvicorn
(see the README's "Serving" section for why). Needs granian installed (``pip install
granian``); its rows say "n/a" without it.
"""

from __future__ import annotations

import argparse
import asyncio
import importlib.util
import json
import sys
import time
import urllib.request
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from loadgen import Request, load
from servers import Server, free_port, start

T2I = "/seedream-5-0-lite-text-to-image/v1/seedream-5-0-lite-text-to-image-request"
KEY = {"Ocp-Apim-Subscription-Key": "test-key"}
BARE = ["--app-dir", "bench", "bare_app:app"]


def status_request(port: int) -> Request:
    call = urllib.request.Request(
        f"http://127.0.0.1:{port}{T2I}",
        data=json.dumps({"prompt": "bench"}).encode(),
        headers={**KEY, "Content-Type": "application/json"},
        method="POST",
    )
    with urllib.request.urlopen(call, timeout=10) as response:
        request_id = json.loads(response.read())["request_id"]
    time.sleep(1.5)
    return Request("GET", f"/v2/requests/status/{request_id}", KEY)


async def main(args: argparse.Namespace) -> None:
    python, bin_dir = sys.executable, Path(sys.executable).parent
    granian = str(bin_dir / "granian")
    uvicorn_h11 = [python, "-m", "uvicorn", "--loop", "asyncio", "--http", "h11",
                   "--log-level", "warning", "--port", "{port}"]  # fmt: skip
    uvicorn_fast = [python, "-m", "uvicorn", "--loop", "uvloop", "--http", "httptools",
                    "--log-level", "warning", "--port", "{port}"]  # fmt: skip
    granian_asgi = [granian, "--interface", "asgi", "--workers", "1", "--loop", "uvloop",
                    "--log-level", "warning", "--port", "{port}"]  # fmt: skip
    stacks: dict[str, tuple[list[str], bool]] = {
        "bare: uvicorn h11 + asyncio": ([*uvicorn_h11, *BARE], False),
        "bare: uvicorn httptools + uvloop": ([*uvicorn_fast, *BARE], False),
        "bare: granian": ([*granian_asgi, "--working-dir", "bench", "bare_app:app"], False),
        "mock: uvicorn h11 + asyncio": ([*uvicorn_h11, "--factory",
                                         "mock_gateway.web.app:create_app"], True),
        "mock: mock-gateway serve": ([str(bin_dir / "mock-gateway"), "serve", "--port", "{port}"],
                                     True),
        "mock: granian": ([*granian_asgi, "--factory", "mock_gateway.web.app:create_app"], True),
    }  # fmt: skip
    has_granian = importlib.util.find_spec("granian") is not None
    for name, (command, is_mock) in stacks.items():
        if "granian" in name and not has_granian:
            print(f"  {name:<36} n/a (granian not installed)")
            continue
        port = free_port()
        probe = "/_health" if is_mock else "/"
        server: Server = start(name, [part.replace("{port}", str(port)) for part in command],
                               port, probe)  # fmt: skip
        try:
            request = status_request(port) if is_mock else Request("GET", "/", {})
            await load(port, [request], connections=args.connections, seconds=2)  # warm-up
            figures = await load(port, [request], connections=args.connections,
                                 seconds=args.seconds)  # fmt: skip
            print(f"  {name:<36} {figures.rps:8.0f} req/s  p99 {figures.p99 * 1000:6.2f} ms"
                  f"  not 2xx {figures.bad}")  # fmt: skip
        finally:
            server.stop()


if __name__ == "__main__":
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawTextHelpFormatter
    )
    parser.add_argument("--seconds", type=float, default=5.0)
    parser.add_argument("--connections", type=int, default=32)
    asyncio.run(main(parser.parse_args()))
