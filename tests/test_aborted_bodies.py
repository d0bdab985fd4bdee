"""A client that hangs up mid-body is journaled as what it is, and stopping the server while
bodies are still arriving prints no tracebacks."""

from __future__ import annotations

import socket
import time
from urllib.parse import urlsplit

import requests

from gateway_helpers import T2I
from server_process import running_mock

ABORTED = 10


def send_partial_body(base_url: str, close: bool) -> socket.socket:
    """A submit that promises 100 KB and sends 10 bytes; closed now or left open."""
    parts = urlsplit(base_url)
    sock = socket.create_connection((parts.hostname, parts.port), timeout=5)
    head = (
        f"POST {T2I} HTTP/1.1\r\nHost: {parts.netloc}\r\n"
        "Ocp-Apim-Subscription-Key: test-key\r\nContent-Type: application/json\r\n"
        "Content-Length: 100000\r\n\r\n"
    )
    sock.sendall(head.encode() + b'{"prompt":')
    if close:
        time.sleep(0.05)  # let the server start reading the body
        sock.close()
    return sock


def journal(base_url: str) -> list[dict[str, object]]:
    with requests.Session() as session:
        session.trust_env = False
        answer = session.get(f"{base_url}/_mock/requests", timeout=10).json()
    entries: list[dict[str, object]] = answer["requests"]
    return entries


def test_a_client_hanging_up_mid_body_is_journaled_without_a_traceback() -> None:
    with running_mock("--log-level", "info") as server:
        for _ in range(ABORTED):
            send_partial_body(server.base_url, close=True)
        deadline = time.monotonic() + 10
        while len(journal(server.base_url)) < ABORTED and time.monotonic() < deadline:
            time.sleep(0.05)
        entries = journal(server.base_url)
    assert len(entries) == ABORTED
    assert {entry["status"] for entry in entries} == {None}
    assert {entry["error"] for entry in entries} == {"client disconnected"}
    output = "\n".join(server.output)
    assert "Traceback" not in output and "unexpected error" not in output


def test_stopping_with_bodies_still_arriving_prints_no_traceback() -> None:
    with running_mock() as server:
        open_sockets = [send_partial_body(server.base_url, close=False) for _ in range(5)]
        time.sleep(0.2)
        server.stop()
        for sock in open_sockets:
            sock.close()
    assert server.process is not None and server.process.returncode == 0
    output = "\n".join(server.output)
    assert "Traceback" not in output and "CancelledError" not in output, output[-3000:]
