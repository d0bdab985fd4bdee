"""The target the suite tests: a URL given by the user, or the mock started in a subprocess.

The self-started mock is a separate process on 127.0.0.1 reached over real HTTP, exactly as
the live gateway would be.
"""

from __future__ import annotations

import contextlib
import ipaddress
import re
import subprocess
import sys
import threading
import time
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import urlsplit

import requests

BANNER = re.compile(r"listening on (http://\S+)")
START_TIMEOUT = 30.0
PROBE_TIMEOUT = 5.0


class TargetError(RuntimeError):
    pass


def is_loopback(url: str) -> bool:
    host = urlsplit(url).hostname or ""
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def mock_command(timing: str = "fast", *extra: str) -> list[str]:
    """``python -m mock_gateway serve`` on a free loopback port."""
    return [
        sys.executable, "-m", "mock_gateway", "serve", "--host", "127.0.0.1", "--port", "0",
        "--timing", timing, "--log-level", "warning", *extra,
    ]  # fmt: skip


@dataclass
class ServerProcess:
    """A server process that prints ``listening on <base URL>`` and answers ``/_health``
    when ready (the mock, or a test's broken gateway); stopped on ``stop()``."""

    command: list[str]
    process: subprocess.Popen[str] | None = None
    base_url: str = ""
    output: list[str] = field(default_factory=list)
    start_timeout: float = START_TIMEOUT
    _drainer: threading.Thread | None = None

    def start(self) -> str:
        self.process = subprocess.Popen(
            self.command, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True, bufsize=1
        )
        assert self.process.stdout is not None
        deadline = time.monotonic() + self.start_timeout
        for line in self.process.stdout:
            self.output.append(line.rstrip())
            match = BANNER.search(line)
            if match:
                self.base_url = match.group(1).rstrip("/")
                break
            if time.monotonic() > deadline:
                break
        if not self.base_url:
            self.stop()
            raise TargetError("the server did not start:\n" + "\n".join(self.output[-20:]))
        # Keep draining its output so a chatty server never blocks on a full pipe.
        self._drainer = threading.Thread(target=self._drain, daemon=True)
        self._drainer.start()
        self._wait_ready(deadline)
        return self.base_url

    def _drain(self) -> None:
        assert self.process is not None and self.process.stdout is not None
        for line in self.process.stdout:
            self.output.append(line.rstrip())
            del self.output[:-200]

    def _wait_ready(self, deadline: float) -> None:
        with requests.Session() as session:
            session.trust_env = False
            while time.monotonic() < deadline:
                with contextlib.suppress(requests.RequestException):
                    if session.get(f"{self.base_url}/_health", timeout=2).status_code == 200:
                        return
                if self.process is not None and self.process.poll() is not None:
                    break
                time.sleep(0.05)
        self.stop()
        raise TargetError("the server never became ready:\n" + "\n".join(self.output[-20:]))

    def stop(self) -> None:
        """Stop the process (SIGTERM, then SIGKILL) and collect the last of its output."""
        if self.process is not None and self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait(timeout=5)
        if self._drainer is not None:
            self._drainer.join(timeout=5)


@dataclass
class Target:
    base_url: str
    kind: str  # "mock" or "live"
    mock: ServerProcess | None = None
    timing_profile: str | None = None  # the self-started mock's, or what a mock reports
    control: bool = False  # the mock's /_mock/ control API answers
    detected: bool = False  # given by URL, and found to be the mock by its control API

    @property
    def self_started(self) -> bool:
        return self.mock is not None

    @property
    def origin(self) -> str:
        parts = urlsplit(self.base_url)
        return f"{parts.scheme}://{parts.netloc.rsplit('@', 1)[-1]}"

    @property
    def loopback(self) -> bool:
        return is_loopback(self.base_url)

    def url(self, path: str) -> str:
        return self.base_url + path

    def stop(self) -> None:
        if self.mock is not None:
            self.mock.stop()


def probe_mock(base_url: str) -> dict[str, Any] | None:
    """The mock's clock document when ``base_url`` is this project's mock, else None.

    ``GET /_mock/clock`` is free and carries no key: a live gateway answers it 404, and its
    logs see nothing of ours. The clock names the mock's timing profile.
    """
    with requests.Session() as session:
        session.trust_env = False  # the target, not a proxy, must answer
        try:
            response = session.get(f"{base_url}/_mock/clock", timeout=PROBE_TIMEOUT)
            body = response.json() if response.status_code == 200 else None
        except (requests.RequestException, ValueError):
            return None
    if isinstance(body, dict) and {"time", "rate", "frozen"} <= set(body):
        return body
    return None


def open_target(gateway_url: str | None, kind: str | None, mock_timing: str) -> Target:
    """Use ``gateway_url``, or start the mock when there is none. A URL is taken for the
    mock when its control API answers (``kind`` overrides: ``live`` skips the probe)."""
    if gateway_url:
        if not urlsplit(gateway_url).scheme.startswith("http"):
            raise TargetError(f"--gateway-url must be an http(s) URL (got {gateway_url!r})")
        base_url = gateway_url.rstrip("/")
        clock = probe_mock(base_url) if kind != "live" else None
        timing = clock.get("timing") if clock else None
        return Target(
            base_url,
            kind or ("mock" if clock else "live"),
            timing_profile=timing if isinstance(timing, str) else None,
            detected=clock is not None,
        )
    mock = ServerProcess(mock_command(mock_timing))
    base_url = mock.start()
    return Target(base_url, kind or "mock", mock=mock, timing_profile=mock_timing)
