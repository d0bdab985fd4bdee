"""``kill -9`` of a real ``mock-gateway serve --state FILE`` while submits, polls and webhook
retries run; then a restart on the same file.

Every job whose 202 reached the client is there after the restart, charged once (the
balance is the start balance less one price per job the file holds), its images have the
same bytes, and every webhook is delivered at least once (the receiver refuses each first
attempt, so retries are pending when the process dies).
"""

from __future__ import annotations

import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from decimal import Decimal
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import httpx
import pytest

from gateway_helpers import KEY, T2I
from server_process import running_mock

pytestmark = pytest.mark.slow  # two server processes and a few seconds of load

PRICE = Decimal("0.035")  # one 5.0 Lite text-to-image job


class Receiver:
    """A loopback webhook receiver that answers 500 to the first attempt of each job."""

    def __init__(self) -> None:
        self.lock = threading.Lock()
        self.attempts: dict[str, int] = {}
        self.delivered: set[str] = set()
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                body = self.rfile.read(int(self.headers["content-length"]))
                request_id = httpx.Response(200, content=body).json()["request_id"]
                with receiver.lock:
                    seen = receiver.attempts.get(request_id, 0) + 1
                    receiver.attempts[request_id] = seen
                    if seen > 1:
                        receiver.delivered.add(request_id)
                self.send_response(500 if seen == 1 else 204)
                self.send_header("content-length", "0")
                self.end_headers()

            def log_message(self, *args: Any) -> None:
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}/hook"

    @contextmanager
    def running(self) -> Iterator[Receiver]:
        thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        thread.start()
        try:
            yield self
        finally:
            self.server.shutdown()
            self.server.server_close()


SUBMITS = 80  # per load thread, paced: the kill comes while they still arrive


def _load(
    base: str, hook: str, stop: threading.Event, acknowledged: list[tuple[str, bool]]
) -> None:
    """Submit (half with a webhook) and poll, until ``stop`` or the server dies."""
    with httpx.Client(base_url=base, headers=KEY, timeout=5, trust_env=False) as http:
        for n in range(SUBMITS):
            if stop.is_set():
                return
            headers = {"X-Webhook-URL": hook} if n % 2 else {}
            try:
                answer = http.post(T2I, json={"prompt": f"crash {n}"}, headers=headers)
                if answer.status_code == 202:
                    acknowledged.append((answer.json()["request_id"], n % 2 == 1))
                http.get(f"/v2/requests/status/{acknowledged[-1][0]}")
            except httpx.HTTPError:
                return  # the process is gone
            time.sleep(0.01)


def test_kill_9_loses_nothing_acknowledged(tmp_path: Path) -> None:
    db = tmp_path / "mock.db"
    args = ("--state", str(db), "--workers", "100", "--webhook-attempts", "20")
    acknowledged: list[tuple[str, bool]] = []
    with Receiver().running() as receiver:
        with running_mock(*args) as first:
            base = first.base_url
            with httpx.Client(base_url=base, headers=KEY, trust_env=False) as http:
                early = http.post(T2I, json={"prompt": "kept bytes"}).json()["request_id"]
                deadline = time.monotonic() + 10
                while http.get(f"/v2/requests/status/{early}").json()["status"] != "COMPLETED":
                    assert time.monotonic() < deadline
                    time.sleep(0.05)
                body = http.get(f"/v2/requests/status/{early}").json()
                path = httpx.URL(body["output"]["media_url"][0]).path
                image = http.get(path).content
            stop = threading.Event()
            workers = [
                threading.Thread(target=_load, args=(base, receiver.url, stop, acknowledged))
                for _ in range(3)
            ]
            for worker in workers:
                worker.start()
            deadline = time.monotonic() + 10
            while not receiver.attempts:  # a first attempt refused: its retry is pending
                assert time.monotonic() < deadline, "no webhook attempt was made"
                time.sleep(0.02)
            time.sleep(0.1)  # submits and polls still arrive
            assert first.process is not None
            first.process.kill()  # SIGKILL: no clean stop, no last commit
            first.process.wait(timeout=10)
            stop.set()
            for worker in workers:
                worker.join(timeout=10)
        assert len(acknowledged) > 10
        hooked = {request_id for request_id, hook in acknowledged if hook}
        assert hooked & set(receiver.attempts), "no attempt was made before the kill"
        assert not hooked <= receiver.delivered, "nothing was left to deliver after the kill"

        with (
            running_mock(*args) as second,
            httpx.Client(base_url=second.base_url, headers=KEY, trust_env=False) as http,
        ):
            for request_id in [early, *(request_id for request_id, _ in acknowledged)]:
                answer = http.get(f"/v2/requests/status/{request_id}")
                assert answer.status_code == 200, (request_id, answer.text)
            held = http.get("/_mock/jobs", params={"key": "test-key", "limit": 0}).json()
            balance = Decimal(http.get("/_mock/keys/test-key").json()["balance_usd"])
            assert balance == Decimal(100) - PRICE * held["total"]  # nobody charged twice
            assert http.get(path).content == image  # the same bytes after the restart
            deadline = time.monotonic() + 30
            while not hooked <= receiver.delivered:  # at least once, never zero times
                assert time.monotonic() < deadline, sorted(hooked - receiver.delivered)
                time.sleep(0.1)


def test_a_refused_file_exits_2_with_one_line(tmp_path: Path) -> None:
    path = tmp_path / "notes.db"
    path.write_bytes(b"not a database at all\n" * 50)
    done = subprocess.run(
        [sys.executable, "-m", "mock_gateway", "serve", "--port", "0", "--state", str(path)],
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert done.returncode == 2
    lines = done.stderr.strip().splitlines()
    assert len(lines) == 1 and str(path) in lines[0] and "Traceback" not in done.stderr, lines
    assert path.read_bytes() == b"not a database at all\n" * 50


def test_a_clean_stop_keeps_the_exact_moment(tmp_path: Path) -> None:
    args = ("--state", str(tmp_path / "mock.db"), "--timing", "manual")
    with running_mock(*args) as first:
        with httpx.Client(base_url=first.base_url, headers=KEY, trust_env=False) as http:
            http.post("/_mock/clock/advance", json={"seconds": 3600})
            moment = http.get("/_mock/clock").json()["time"]
            request_id = http.post(T2I, json={"prompt": "kept"}).json()["request_id"]
        assert first.process is not None
        first.stop()  # SIGTERM: the last commit, then exit 0
        assert first.process.returncode == 0
    with (
        running_mock(*args) as second,
        httpx.Client(base_url=second.base_url, headers=KEY, trust_env=False) as http,
    ):
        assert http.get("/_mock/clock").json()["time"] == moment
        assert http.get(f"/v2/requests/status/{request_id}").json()["status"] == "QUEUED"
