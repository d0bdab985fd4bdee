"""Hostile connections on loopback: silent and slow sockets, too many of them, no descriptors.

Every loop here is bounded in count and time, and every server is started on a free port
of 127.0.0.1 and stopped by the test.
"""

from __future__ import annotations

import contextlib
import logging
import socket
import subprocess
import sys
import textwrap
import time
from collections.abc import Iterator

import httpx
import pytest

from server_process import ROOT, running_mock, running_server

HEALTH = b"GET /_health HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n"


def address(base_url: str) -> tuple[str, int]:
    url = httpx.URL(base_url)
    assert url.port is not None
    return url.host, url.port


@contextlib.contextmanager
def open_sockets(base_url: str, count: int) -> Iterator[list[socket.socket]]:
    sockets = [socket.create_connection(address(base_url), timeout=5) for _ in range(count)]
    try:
        yield sockets
    finally:
        for sock in sockets:
            sock.close()


def closed_by_server(sock: socket.socket, within: float) -> bool:
    """True when the server closes ``sock`` (EOF or reset) within ``within`` seconds; any
    answer it sends first is read and ignored."""
    sock.settimeout(within)
    try:
        while sock.recv(4096):
            pass
    except TimeoutError:
        return False
    except ConnectionResetError:
        pass
    return True


def exchange(base_url: str, request: bytes) -> bytes:
    with socket.create_connection(address(base_url), timeout=5) as sock:
        sock.sendall(request)
        answer = b""
        while chunk := sock.recv(4096):
            answer += chunk
            if b"\r\n\r\n" in answer:
                break
        return answer


def wait_until_served(base_url: str, within: float = 5.0) -> None:
    deadline = time.monotonic() + within
    while time.monotonic() < deadline:
        with contextlib.suppress(httpx.HTTPError):
            if httpx.get(f"{base_url}/_health", timeout=2).status_code == 200:
                return
        time.sleep(0.1)
    raise AssertionError("the mock never accepted connections again")


def test_silent_and_dribbling_connections_are_closed_and_others_still_served() -> None:
    with running_mock("--idle-timeout", "1", "--header-timeout", "1") as server:
        with open_sockets(server.base_url, 50) as silent, open_sockets(server.base_url, 1) as slow:
            dribbler = slow[0]
            dribbler.sendall(b"GET /_health HTTP/1.1\r\n")
            cut_off = False
            for number in range(20):  # a header every 0.2 s: never a complete head
                try:
                    dribbler.sendall(f"X-Drip-{number}: 1\r\n".encode())
                except OSError:
                    cut_off = True
                    break
                time.sleep(0.2)
            assert cut_off or closed_by_server(dribbler, 1.0), "a dribbled head was never cut off"
            assert all(closed_by_server(sock, 3.0) for sock in silent)
        assert httpx.get(f"{server.base_url}/_health", timeout=5).status_code == 200
        # a keep-alive connection that goes quiet after an answer is closed the same way
        with httpx.Client(base_url=server.base_url) as client:
            assert client.get("/_health").status_code == 200


def test_connections_over_the_cap_get_503_and_one_log_line() -> None:
    with running_mock("--max-connections", "20", "--log-level", "warning") as server:
        with open_sockets(server.base_url, 40) as sockets:
            time.sleep(0.5)
            answers = []
            for sock in sockets:
                sock.settimeout(0.2)
                with contextlib.suppress(TimeoutError):
                    answers.append(sock.recv(4096))
            refused = [answer for answer in answers if answer.startswith(b"HTTP/1.1 503")]
            assert len(refused) >= 15, answers  # the cap counts /_health probes too
            assert all(b'"statusCode": 503' in answer for answer in refused)
        wait_until_served(server.base_url)  # closing the 40 frees the cap again
        server.stop()
    assert sum("connection limit reached" in line for line in server.output) == 1
    assert sum("accepting connections again" in line for line in server.output) == 1
    assert not any("Traceback" in line for line in server.output)


def test_unsupported_http_versions_get_505() -> None:
    with running_mock() as server:
        for version in (b"9.9", b"2.0", b"0.9", b"1.2"):
            answer = exchange(server.base_url, HEALTH.replace(b"1.1", version, 1))
            assert answer.startswith(b"HTTP/1.1 505 "), (version, answer)
        assert exchange(server.base_url, HEALTH.replace(b"1.1", b"1.0", 1)).startswith(
            b"HTTP/1.1 200"
        )


LOW_LIMIT = """
import resource, runpy, sys
resource.setrlimit(resource.RLIMIT_NOFILE, ({limit}, {limit}))
sys.argv = ["mock-gateway", *sys.argv[1:]]
runpy.run_module("mock_gateway", run_name="__main__")
"""


def test_a_low_descriptor_limit_lowers_the_cap_instead_of_failing_accepts() -> None:
    command = [sys.executable, "-c", LOW_LIMIT.format(limit=200), "serve", "--port", "0"]
    with running_server(command) as server:
        with open_sockets(server.base_url, 150) as sockets:
            time.sleep(0.5)
            refused = 0
            for sock in sockets:
                sock.settimeout(0.2)
                with contextlib.suppress(TimeoutError):
                    refused += sock.recv(4096).startswith(b"HTTP/1.1 503")
            assert refused >= 50  # 200 descriptors leave room for 72 connections
        time.sleep(0.5)
        assert httpx.get(f"{server.base_url}/_health", timeout=5).status_code == 200
        server.stop()
    assert any("allows at most 72 connections" in line for line in server.output)
    assert sum("connection limit reached" in line for line in server.output) == 1
    assert not any("Too many open files" in line for line in server.output)


EMFILE_SERVER = """
import asyncio, resource
from mock_gateway.web.server import listening_socket
from mock_gateway.web.app import create_app
from mock_gateway.web.server import ConnectionLimits, GuardedServer

resource.setrlimit(resource.RLIMIT_NOFILE, (64, 64))
sock = listening_socket("127.0.0.1", 0)
print("listening on http://127.0.0.1:%d" % sock.getsockname()[1], flush=True)
server = GuardedServer(create_app(), ConnectionLimits(max_connections=10_000))
asyncio.run(server.serve(sockets=[sock]))  # the plain asyncio loop reports every accept
"""


def test_running_out_of_descriptors_is_logged_once_not_per_accept() -> None:
    command = [sys.executable, "-c", textwrap.dedent(EMFILE_SERVER)]
    with running_server(command) as server:
        with open_sockets(server.base_url, 120):
            time.sleep(1.5)  # asyncio retries the accept every second
        wait_until_served(server.base_url)
        # asyncio schedules one retry per failed accept, 1 s later; stopping before they ran
        # would have them fail on the closed socket (an asyncio quirk, not the mock's log)
        time.sleep(1.5)
        server.stop()
    exhausted = [line for line in server.output if "out of resources on accept" in line]
    assert len(exhausted) == 1 and "Too many open files" in exhausted[0], server.output[-5:]
    assert not any("Traceback" in line for line in server.output)


def test_connection_flags_reject_nonsense() -> None:
    for flag, value in (("--idle-timeout", "0"), ("--max-connections", "1.5")):
        result = subprocess.run(
            [sys.executable, "-m", "mock_gateway", "serve", flag, value],
            capture_output=True, text=True, cwd=ROOT, timeout=30,
        )  # fmt: skip
        assert result.returncode == 2 and "Traceback" not in result.stderr


def test_an_exhaustion_episode_is_logged_once_and_its_end_once(
    caplog: pytest.LogCaptureFixture,
) -> None:
    from mock_gateway.web.server import ExhaustionLog

    now = [100.0]
    exhaustion = ExhaustionLog(clock=lambda: now[0])
    with caplog.at_level(logging.WARNING, logger="mock_gateway.server"):
        for _ in range(1000):
            exhaustion.ran_out("out of resources on accept (Too many open files)")
        exhaustion.accepted()  # one accept between refusals is not recovery
        now[0] += 0.5
        exhaustion.ran_out("out of resources on accept (Too many open files)")
        now[0] += exhaustion.QUIET
        exhaustion.accepted()
        now[0] += exhaustion.REPEAT  # a new episode, later
        exhaustion.ran_out("connection limit reached (1000 open)")
    messages = [record.getMessage() for record in caplog.records]
    assert len(messages) == 3, messages
    assert "(1 refused so far)" in messages[0]
    assert messages[1] == "accepting connections again (1001 refused meanwhile)"
    assert messages[2].startswith("connection limit reached")
