"""Start a server process for end-to-end tests: ``mock-gateway serve`` or a broken gateway.

Built on the contract suite's ``ServerProcess`` (parse the ``listening on <URL>`` banner,
wait for ``/_health``, keep draining output, stop with SIGTERM then SIGKILL).
"""

from __future__ import annotations

import sys
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from seedream_contracts.target import ServerProcess

ROOT = Path(__file__).resolve().parent.parent


@contextmanager
def running_server(command: list[str], timeout: float = 20.0) -> Iterator[ServerProcess]:
    """Yield the started server (``base_url``, ``process``, ``output``); stop it afterwards."""
    server = ServerProcess(command, start_timeout=timeout)
    server.start()
    try:
        yield server
    finally:
        server.stop()


@contextmanager
def running_mock(*args: str, timeout: float = 20.0) -> Iterator[ServerProcess]:
    """``mock-gateway serve --port 0 ARGS`` as a real process."""
    command = [sys.executable, "-m", "mock_gateway", "serve", "--port", "0", *args]
    with running_server(command, timeout) as server:
        yield server
