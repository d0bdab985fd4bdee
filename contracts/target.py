"""The target the suite tests: a URL given by the user, or the mock started in a subprocess.

The self-started mock is a separate process on 127.0.0.1 reached over real HTTP, exactly as
the live gateway would be.
"""

from __future__ import annotations

import contextlib
import ipaddress
import subprocess
import sys
import threading
import time
from dataclasses import dataclass, field
from urllib.parse import urlsplit

import requests

BANNER_PREFIX = "Seedream gateway mock listening on "
START_TIMEOUT = 30.0


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


@dataclass
class MockProcess:
    """``python -m mock_gateway serve`` on a free loopback port, stopped on ``stop()``."""

    timing: str = "fast"
    process: subprocess.Popen[str] | None = None
    base_url: str = ""
    output: list[str] = field(default_factory=list)

    def start(self) -> str:
        command = [
            sys.executable,
            "-m",
            "mock_gateway",
            "serve",
            "--host",
            "127.0.0.1",
            "--port",
            "0",
            "--timing",
            self.timing,
            "--log-level",
            "warning",
        ]
        self.process = subprocess.Popen(
            command, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True, bufsize=1
        )
        assert self.process.stdout is not None
        deadline = time.monotonic() + START_TIMEOUT
        for line in self.process.stdout:
            self.output.append(line.rstrip())
            if line.startswith(BANNER_PREFIX):
                self.base_url = line[len(BANNER_PREFIX) :].strip().rstrip("/")
                break
            if time.monotonic() > deadline:
                break
        if not self.base_url:
            self.stop()
            raise TargetError("the mock did not start:\n" + "\n".join(self.output[-20:]))
        # Keep draining its output so a chatty mock never blocks on a full pipe.
        threading.Thread(target=self._drain, daemon=True).start()
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
        raise TargetError("the mock never became ready:\n" + "\n".join(self.output[-20:]))

    def stop(self) -> None:
        if self.process is None or self.process.poll() is not None:
            return
        self.process.terminate()
        try:
            self.process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait(timeout=5)


@dataclass
class Target:
    base_url: str
    kind: str  # "mock" or "live"
    mock: MockProcess | None = None
    timing_profile: str | None = None  # known only for the self-started mock
    control: bool = False  # the mock's /_mock/ control API answers

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


def open_target(gateway_url: str | None, kind: str | None, mock_timing: str) -> Target:
    """Use ``gateway_url``, or start the mock when there is none."""
    if gateway_url:
        if not urlsplit(gateway_url).scheme.startswith("http"):
            raise TargetError(f"--gateway-url must be an http(s) URL (got {gateway_url!r})")
        return Target(gateway_url.rstrip("/"), kind or "live")
    mock = MockProcess(timing=mock_timing)
    base_url = mock.start()
    return Target(base_url, kind or "mock", mock=mock, timing_profile=mock_timing)
