"""Does an open inspector page slow the gateway's hot path? Status-poll throughput with the
page closed, open (polling every 500 ms), and closed again, as ratios measured in one run.

The page is the real one in headless Chromium (Debian's, through Playwright) when both are
installed, else a stand-in that makes the same control calls on the same schedule. The mock
holds 1,000 finished jobs, so the page's job list is full. Everything runs on 127.0.0.1.

    .venv/bin/python bench/bench_inspector.py [--seconds 5] [--rounds 3] [--stand-in]
"""

from __future__ import annotations

import argparse
import asyncio
import os
import queue
import shutil
import statistics
import sys
import tempfile
import threading
import time
from pathlib import Path

import httpx

sys.path.insert(0, str(Path(__file__).resolve().parent))
from loadgen import LoadResult, build_request, run_load

from seedream_contracts.target import ServerProcess

T2I = "/seedream-5-0-lite-text-to-image/v1/seedream-5-0-lite-text-to-image-request"
KEY = {"Ocp-Apim-Subscription-Key": "test-key"}
POLL_SECONDS = 0.5  # the page's own interval (POLL_MS in inspector.js)
CHROMIUM_ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--no-first-run"]
CHROMIUM_ARGS += ["--disable-background-networking", "--disable-component-update"]
CHROMIUM_ARGS += ["--disable-sync"]


class Viewer(threading.Thread):
    """Opens and closes the page on request (``show(True/False)`` waits until done)."""

    def __init__(self, base_url: str, use_browser: bool) -> None:
        super().__init__(daemon=True)
        self.base_url = base_url
        self.use_browser = use_browser
        self.commands: queue.Queue[bool | None] = queue.Queue()
        self.done = threading.Event()
        self.showing = False

    def show(self, visible: bool) -> None:
        self.done.clear()
        self.commands.put(visible)
        if not self.done.wait(180):
            raise SystemExit("the page never finished loading")

    def quit(self) -> None:
        self.commands.put(None)
        self.join(30)

    def run(self) -> None:
        if self.use_browser:
            self._in_chromium()
        else:
            self._stand_in()

    def _in_chromium(self) -> None:
        from playwright.sync_api import sync_playwright

        with sync_playwright() as playwright:
            chromium = shutil.which("chromium")
            browser = playwright.chromium.launch(executable_path=chromium, args=CHROMIUM_ARGS)
            page = browser.new_page(viewport={"width": 1440, "height": 900})
            while (visible := self.commands.get()) is not None:
                page.goto(f"{self.base_url}/_mock/ui" if visible else "about:blank")
                if visible:  # thumbnails render once; what stays is the polling
                    page.wait_for_function(THUMBNAILS_SHOWN, timeout=120_000)
                self.done.set()
            browser.close()

    def _stand_in(self) -> None:
        """The control calls the Jobs tab makes, on its schedule, without a browser."""
        with httpx.Client(base_url=self.base_url) as http:
            while True:
                try:
                    visible = self.commands.get(timeout=POLL_SECONDS)
                    if visible is None:
                        return
                    self.showing = visible
                    self.done.set()
                except queue.Empty:
                    pass
                if self.showing:
                    for path in PAGE_CALLS:
                        http.get(f"/_mock/{path}")


THUMBNAILS_SHOWN = (  # the rows on screen have their previews (the rest load on scrolling)
    "() => [...document.querySelectorAll('#jobs-body img')]"
    ".filter(i => i.naturalWidth > 0).length >= 5"
)


PAGE_CALLS = ("clock", "jobs?limit=50&offset=0", "keys")  # what one refresh of the Jobs tab asks


def cpu_seconds(pid: int) -> float:
    """User plus system CPU time a process has used (Linux)."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def server_cpu(pid: int, http: httpx.Client, paths: list[str]) -> float:
    """Server CPU seconds spent answering ``paths`` one after another."""
    before = cpu_seconds(pid)
    for path in paths:
        http.get(path, headers=KEY)
    return cpu_seconds(pid) - before


def refresh_cost(pid: int, base_url: str, status_path: str, cycles: int = 100) -> float:
    """One page refresh's server CPU, in status polls' worth of server CPU."""
    with httpx.Client(base_url=base_url) as http:
        page = server_cpu(pid, http, [f"/_mock/{p}" for p in PAGE_CALLS] * cycles) / cycles
        poll = server_cpu(pid, http, [status_path] * (cycles * 10)) / (cycles * 10)
    return page / poll


def can_use_browser() -> bool:
    try:
        import playwright.sync_api  # noqa: F401
    except ImportError:
        return False
    return shutil.which("chromium") is not None


async def polls(port: int, path: str, seconds: float, connections: int) -> LoadResult:
    request = build_request("GET", path, KEY)
    return await run_load(port, lambda _: request, connections=connections, seconds=seconds)


def summary(name: str, result: LoadResult, base: LoadResult) -> str:
    p50, p99 = result.percentile(0.5) * 1000, result.percentile(0.99) * 1000
    return (
        f"{name:<22} {result.rps:8.0f} req/s  ({result.rps / base.rps:6.1%} of closed)"
        f"  p50 {p50:6.2f} ms  p99 {p99:6.2f} ms"
    )


def main(args: argparse.Namespace) -> None:
    with tempfile.NamedTemporaryFile("w", suffix=".toml", delete=False) as config:
        config.write("workers = 1000000\n")
    command = [sys.executable, "-m", "mock_gateway", "serve", "--port", "0"]
    server = ServerProcess([*command, "--config", config.name], start_timeout=30)
    base_url = server.start()
    port = int(base_url.rsplit(":", 1)[1])
    try:
        with httpx.Client(base_url=base_url) as http:
            for n in range(1000):
                http.post(T2I, json={"prompt": f"bench {n}", "seed": n}, headers=KEY)
            request_id = http.post(T2I, json={"prompt": "polled"}, headers=KEY).json()
        time.sleep(2)  # every job finished
        path = f"/v2/requests/status/{request_id['request_id']}"
        assert server.process is not None
        polls_worth = refresh_cost(server.process.pid, base_url, path)
        use_browser = can_use_browser() and not args.stand_in
        viewer = Viewer(base_url, use_browser)
        viewer.start()
        closed: list[LoadResult] = []
        opened: list[LoadResult] = []
        asyncio.run(polls(port, path, 2.0, args.connections))  # warm-up, not counted
        for number in range(args.rounds):  # interleaved, in alternating order, so drift and
            phases = [(False, closed), (True, opened)]  # what follows a switch even out
            for visible, results in phases if number % 2 == 0 else phases[::-1]:
                viewer.show(visible)
                results.append(asyncio.run(polls(port, path, args.seconds, args.connections)))
        viewer.quit()
        kind = "headless Chromium" if use_browser else "stand-in making the page's calls"
        print(f"status polls, {args.connections} connections, {args.seconds:g} s per phase")
        print(f"page: {kind}, {args.rounds} rounds of closed / open")
        for number, (shut, shown) in enumerate(zip(closed, opened, strict=True), 1):
            print(summary(f"round {number}: closed", shut, shut))
            print(summary(f"round {number}: open", shown, shut))
        ratio = statistics.median(o.rps / c.rps for o, c in zip(opened, closed, strict=True))
        print(f"open / closed throughput (median of rounds): {ratio:.3f}")
        print(
            f"server CPU of one page refresh (clock, 50 jobs, keys): {polls_worth:.0f} polls'"
            f" worth; at {1 / POLL_SECONDS:g} refreshes/s that is {polls_worth / POLL_SECONDS:.0f}"
            f" polls/s, {polls_worth / POLL_SECONDS / max(c.rps for c in closed):.1%} of the"
            " measured poll throughput"
        )
    finally:
        server.stop()
        Path(config.name).unlink()


if __name__ == "__main__":
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawTextHelpFormatter
    )
    parser.add_argument("--seconds", type=float, default=5.0, help="seconds per phase")
    parser.add_argument("--connections", type=int, default=16)
    parser.add_argument("--rounds", type=int, default=3, help="closed / open pairs")
    parser.add_argument("--stand-in", action="store_true", help="no browser: make its calls")
    main(parser.parse_args())
