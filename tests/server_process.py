"""Start ``mock-gateway serve`` as a real process on a free port (for end-to-end tests)."""

from __future__ import annotations

import re
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import httpx

ROOT = Path(__file__).resolve().parent.parent
BANNER = re.compile(r"listening on (http://\S+)")


@contextmanager
def running_server(
    command: list[str], timeout: float = 20.0
) -> Iterator[tuple[str, subprocess.Popen[str]]]:
    """Start a server that prints ``listening on <base URL>``; yield the URL and the process
    once ``/_health`` answers; stop it (SIGTERM, then SIGKILL) afterwards."""
    process = subprocess.Popen(
        command, cwd=ROOT, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True
    )
    try:
        assert process.stdout is not None
        deadline = time.monotonic() + timeout
        base_url = None
        while base_url is None:
            line = process.stdout.readline()
            if not line and process.poll() is not None:
                raise RuntimeError(f"{command[:4]} exited with {process.returncode}")
            if time.monotonic() > deadline:
                raise RuntimeError(f"{command[:4]} did not print its address in time")
            match = BANNER.search(line)
            base_url = match.group(1) if match else None
        while True:  # the banner comes before uvicorn answers; wait until it does
            try:
                httpx.get(f"{base_url}/_health", timeout=1.0, trust_env=False)
                break
            except httpx.TransportError:
                if time.monotonic() > deadline:
                    raise
                time.sleep(0.02)
        yield base_url, process
    finally:
        if process.poll() is None:
            process.terminate()
            try:
                process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait()


@contextmanager
def running_mock(*args: str, timeout: float = 20.0) -> Iterator[tuple[str, subprocess.Popen[str]]]:
    """``mock-gateway serve --port 0 ARGS`` as a real process."""
    command = [sys.executable, "-m", "mock_gateway", "serve", "--port", "0", *args]
    with running_server(command, timeout) as running:
        yield running
