"""The protocol-level fast path (``web/fast.py``) answers exactly as the ASGI path does.

The same corpus of raw HTTP requests goes over real sockets to two servers built alike
(same seed, same frozen clock), one with the fast path and one without
(``ConnectionLimits(fast_path=False)``, what ``--no-fast-path`` sets). Every answer must
be identical (status line, headers except Date, body, whether the connection closed) and
so must the journals. The in-process tests never reach the protocol; this one does.
"""

from __future__ import annotations

import json
import socket
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any

import pytest

from mock_gateway.cli import build_parser, connection_limits
from mock_gateway.config.settings import Settings
from mock_gateway.pipeline.answers import Answer
from mock_gateway.steering.clock import VirtualClock
from mock_gateway.steering.journal import JournalFilter
from mock_gateway.testing.server_thread import ServerThread
from mock_gateway.web.app import create_app
from mock_gateway.web.fast import REPLAY_BYTES
from mock_gateway.web.fast_cycle import FastCycle, HotRoutes, render
from mock_gateway.web.server import ConnectionLimits
from mock_gateway.web.state import MockState

T2I = "/seedream-5-0-lite-text-to-image/v1/seedream-5-0-lite-text-to-image-request"
HOST = "mock.test"
START = 1_800_000_000.0  # both servers' frozen clock starts here


@dataclass
class Server:
    thread: ServerThread
    state: MockState
    commits: list[float] = field(default_factory=list)


@contextmanager
def serving(fast_path: bool, timeout: float = 5.0) -> Iterator[Server]:
    settings = Settings.load(seed=7, timing="manual", max_body_bytes=4096)
    app = create_app(settings, clock=VirtualClock(rate=0.0, start=START))
    limits = ConnectionLimits(idle_timeout=timeout, header_timeout=timeout, fast_path=fast_path)
    thread = ServerThread(app, limits=limits)
    with thread:
        yield Server(thread, app.state.mock)


# --- a raw HTTP/1.1 client: what was answered, byte for byte -------------------------


def request(
    method: str,
    path: str,
    headers: dict[str, str] | None = None,
    body: bytes = b"",
    version: str = "1.1",
) -> bytes:
    lines = [f"{method} {path} HTTP/{version}", f"Host: {HOST}"]
    lines += [f"{name}: {value}" for name, value in (headers or {}).items()]
    if body and not any(name.lower() == "transfer-encoding" for name in headers or {}):
        lines.append(f"Content-Length: {len(body)}")
    return ("\r\n".join(lines) + "\r\n\r\n").encode("latin-1") + body


def submit(key: str = "test-key", body: Any = None, path: str = T2I, **headers: str) -> bytes:
    raw = json.dumps({"prompt": "a fox", "seed": 1} if body is None else body).encode()
    sent = {"Ocp-Apim-Subscription-Key": key, "Content-Type": "application/json", **headers}
    return request("POST", path, sent, raw)


def post(body: bytes, headers: dict[str, str] | None = None, version: str = "1.1") -> bytes:
    """A raw submit with the test key and a JSON type (``headers`` add or replace)."""
    sent = {"Ocp-Apim-Subscription-Key": "test-key", "Content-Type": "application/json"}
    return request("POST", T2I, {**sent, **(headers or {})}, body, version)


def poll(request_id: str, key: str | None = "test-key", **headers: str) -> bytes:
    sent = {"Ocp-Apim-Subscription-Key": key} if key else {}
    return request("GET", f"/v2/requests/status/{request_id}", {**sent, **headers})


class Reader:
    def __init__(self, sock: socket.socket) -> None:
        self.sock = sock
        self.buffer = b""
        self.closed = False

    def fill(self) -> bool:
        try:
            data = self.sock.recv(65536)
        except TimeoutError:
            return False
        if not data:
            self.closed = True
        self.buffer += data
        return bool(data)

    def reply(self, method: str) -> tuple[Any, ...]:
        """One answer: (status line, headers without Date, body), or ("closed",)."""
        while b"\r\n\r\n" not in self.buffer:
            if not self.fill():
                return ("closed", self.buffer)
        head, self.buffer = self.buffer.split(b"\r\n\r\n", 1)
        status, *lines = head.decode("latin-1").split("\r\n")
        headers = [tuple(line.split(": ", 1)) for line in lines]
        kept = tuple(pair for pair in headers if pair[0].lower() != "date")
        named = {name.lower(): value for name, value in headers}
        if status.split()[1] == "100":
            return (status, kept, b"", *self.reply(method))
        if method == "HEAD" or status.split()[1] in ("204", "304"):
            return (status, kept, b"")
        length = int(named.get("content-length", "0"))
        while len(self.buffer) < length and self.fill():
            pass
        body, self.buffer = self.buffer[:length], self.buffer[length:]
        return (status, kept, body)

    def ends(self) -> bool:
        """Whether the server closes the connection (within a second) after its answers."""
        self.sock.settimeout(1.0)
        while not self.closed and self.fill():
            pass
        return self.closed


def exchange(
    port: int, chunks: list[bytes], methods: list[str], *, gap: float = 0.0, ends: bool = False
) -> tuple[Any, ...]:
    with socket.create_connection(("127.0.0.1", port), timeout=10) as sock:
        for chunk in chunks:
            sock.sendall(chunk)
            if gap:
                time.sleep(gap)
        reader = Reader(sock)
        replies = tuple(reader.reply(method) for method in methods)
        closed = reader.ends() if ends else None
        return (*replies, closed, reader.buffer)


def control(port: int, method: str, path: str, body: Any = None) -> Any:
    raw = b"" if body is None else json.dumps(body).encode()
    headers = {"Content-Type": "application/json"} if body is not None else {}
    (status, _, answer), *_ = exchange(port, [request(method, path, headers, raw)], [method])
    return json.loads(answer) if answer else status


# --- the corpus ------------------------------------------------------------------------

Step = Callable[[int, dict[str, str]], Any]


def accepted_id(reply: tuple[Any, ...]) -> str:
    request_id: str = json.loads(reply[2])["request_id"]
    return request_id


def one(chunk: bytes, method: str = "GET", ends: bool = False) -> Step:
    return lambda port, ids: exchange(port, [chunk], [method], ends=ends)


def remember(name: str, chunk: bytes) -> Step:
    def step(port: int, ids: dict[str, str]) -> Any:
        reply = exchange(port, [chunk], ["POST"])
        ids[name] = accepted_id(reply[0])
        return reply

    return step


def polls(name: str, headers: dict[str, str] | None = None) -> Step:
    def step(port: int, ids: dict[str, str]) -> Any:
        return exchange(port, [poll(ids[name], **(headers or {}))], ["GET"])

    return step


def with_ids(build: Callable[[dict[str, str]], tuple[list[bytes], list[str]]], **kw: Any) -> Step:
    def step(port: int, ids: dict[str, str]) -> Any:
        chunks, methods = build(ids)
        return exchange(port, chunks, methods, **kw)

    return step


def fault(rule: dict[str, Any]) -> Step:
    return lambda port, ids: control(port, "POST", "/_mock/faults", rule)


def advance(seconds: float) -> Step:
    return lambda port, ids: control(port, "POST", "/_mock/clock/advance", {"seconds": seconds})


OTHER_SUBMITS = [
    "/seedream-5-0-lite-edit/v1/seedream-5-0-lite-edit-request",
    "/byteplus/v1/getEditImage",
    "/byteplus/v1/getTextToImage",
    "/byteplus/v1/getEditMultiImage",
]
CHUNKED = b'{"prompt":"c","seed":11}'
CHUNKED_TYPE = {"Transfer-Encoding": "chunked"}


CORPUS: list[tuple[str, Step]] = [
    ("submit, queued", remember("a", submit())),
    ("poll QUEUED", polls("a")),
    ("submit that will fail", fault({"outcome": "FAILED", "times": 1, "endpoint": "submit"})),
    ("failing job", remember("failed", submit(body={"prompt": "x", "seed": 2}))),
    ("submit that will error", fault({"outcome": "ERROR", "times": 1, "endpoint": "submit"})),
    ("erroring job", remember("errored", submit(body={"prompt": "y", "seed": 3}))),
    *[
        step
        for seconds in (0.5, 1, 2, 4, 8)
        for step in ((f"{seconds} s on", advance(seconds)), ("poll on the way", polls("a")))
    ],
    ("more time", advance(60)),
    ("poll COMPLETED", polls("a")),
    ("poll FAILED", polls("failed")),
    ("poll ERROR", polls("errored")),
    ("key in the query", one(request("GET", "/v2/requests/status/nope?subscription-key=test-key"))),
    ("empty query key", one(request("GET", "/v2/requests/status/nope?subscription-key="))),
    ("no key", one(poll("nope", None))),
    ("invalid key", one(poll("nope", "wrong-key"))),
    ("forbidden key", one(poll("nope", "forbidden-key"))),
    ("unknown id", one(poll("nope"))),
    ("long unknown id", one(poll("x" * 300))),
    ("id with a slash", one(poll("a/b"))),
    ("escaped id", one(poll("%61bc"))),
    ("escaped slash", one(poll("a%2Fb"))),
    ("non-ASCII path", one(b"GET /v2/requests/status/\xc3\xa9 HTTP/1.1\r\nHost: x\r\n\r\n")),
    (
        "pipelined polls to a 429",
        lambda port, ids: exchange(port, [poll("nope", "limited-key") * 12], ["GET"] * 12),
    ),
    ("broke key (402)", one(submit("broke-key"), "POST")),
    (
        "bad JSON (400)",
        one(post(b"{no"), "POST"),
    ),
    ("schema violation (400)", one(submit(body={"prompt": 5}), "POST")),
    *[
        (f"other submit path {path[:30]}", one(submit(body={}, path=path), "POST"))
        for path in OTHER_SUBMITS
    ],
    ("bad webhook URL (400)", one(submit(**{"X-Webhook-URL": "ftp://nowhere"}), "POST")),
    (
        "wrong content type (400)",
        one(post(b"{}", {"Content-Type": "text/plain"}), "POST"),
    ),
    ("too large (413)", one(submit(body={"prompt": "z" * 5000}), "POST")),
    (
        "declared too large (413)",
        one(post(b"", {"Content-Length": "99999999"}), "POST"),
    ),
    (
        "chunked body",
        one(post(b"%x\r\n%s\r\n0\r\n\r\n" % (len(CHUNKED), CHUNKED), CHUNKED_TYPE), "POST"),
    ),
    (
        "expect 100-continue",
        one(submit(body={"prompt": "e", "seed": 12}, Expect="100-continue"), "POST"),
    ),
    (
        "body worked off the loop (data:)",
        one(submit(body={"prompt": "data: x", "seed": 13}), "POST"),
    ),
    ("behind a proxy", polls("a", {"X-Forwarded-Proto": "https"})),
    ("HEAD", with_ids(lambda ids: ([poll(ids["a"]).replace(b"GET", b"HEAD", 1)], ["HEAD"]))),
    (
        "poll with a body",
        one(request("GET", "/v2/requests/status/nope", {"Ocp-Apim-Subscription-Key": "k"}, b"{}")),
    ),
    (
        "poll declaring a huge body",
        one(request("GET", "/v2/requests/status/nope", {"Content-Length": "1000000000"})),
    ),
    ("POST to status", one(request("POST", "/v2/requests/status/x", {}, b"{}"), "POST")),
    ("GET a submit path", one(request("GET", T2I))),
    (
        "keep-alive: three in turn",
        with_ids(
            lambda ids: (
                [poll(ids["a"]), poll("nope"), submit(body={"prompt": "k"})],
                ["GET", "GET", "POST"],
            ),
            gap=0.05,
        ),
    ),
    (
        "pipelined: polls, submit, health",
        with_ids(
            lambda ids: (
                [
                    poll(ids["a"])
                    + poll("nope")
                    + submit(body={"prompt": "p"})
                    + request("GET", "/_health")
                    + poll(ids["failed"], None)
                ],
                ["GET", "GET", "POST", "GET", "GET"],
            )
        ),
    ),
    (
        "Connection: close",
        with_ids(lambda ids: ([poll(ids["a"], Connection="close")], ["GET"]), ends=True),
    ),
    (
        "HTTP/1.0",
        with_ids(
            lambda ids: (
                [
                    request(
                        "GET",
                        f"/v2/requests/status/{ids['a']}",
                        {"Ocp-Apim-Subscription-Key": "test-key"},
                        version="1.0",
                    )
                ],
                ["GET"],
            ),
            ends=True,
        ),
    ),
    (
        "HTTP/1.0 submit",
        one(post(b'{"prompt":"old"}', version="1.0"), "POST", ends=True),
    ),
    # what the fast path remembers per connection (the route of the last URL, the base URL
    # of the last Host) must never leak into the next request's answer
    (
        "pipelined: the same URL, another id, the same again",
        with_ids(
            lambda ids: (
                [poll(ids["a"]) * 2 + poll(ids["failed"]) + poll(ids["a"]) + poll("nope")],
                ["GET"] * 5,
            )
        ),
    ),
    (
        "pipelined: one URL by GET, POST, GET",
        with_ids(
            lambda ids: (
                [
                    poll(ids["a"])
                    + request("POST", f"/v2/requests/status/{ids['a']}")
                    + poll(ids["a"])
                ],
                ["GET", "POST", "GET"],
            )
        ),
    ),
    (
        "pipelined: a new Host, then the first again",
        with_ids(
            lambda ids: (
                [
                    poll(ids["a"])
                    + poll(ids["a"]).replace(HOST.encode(), b"other.test:8443")
                    + poll(ids["a"])
                ],
                ["GET"] * 3,
            )
        ),
    ),
    (
        "pipelined: hot, then not, then hot",
        with_ids(
            lambda ids: (
                [
                    poll(ids["a"])
                    + request("GET", "/_health")
                    + poll(ids["a"]).replace(b"/v2/", b"/v2/requests/../v2/", 1)
                    + poll("%61bc")
                    + request("GET", T2I)
                    + poll(ids["a"], **{"X-Forwarded-Proto": "https"})
                    + submit(body={"prompt": "after"})
                    + poll(ids["a"])
                ],
                ["GET", "GET", "GET", "GET", "GET", "GET", "POST", "GET"],
            )
        ),
    ),
    (
        "keys: empty header, then the query's",
        with_ids(
            lambda ids: (
                [
                    request(
                        "GET",
                        f"/v2/requests/status/{ids['a']}?subscription-key=test-key",
                        {"Ocp-Apim-Subscription-Key": ""},
                    )
                    + poll(ids["a"]).replace(
                        b"Ocp-Apim-Subscription-Key: test-key",
                        b"Ocp-Apim-Subscription-Key: \r\nOcp-Apim-Subscription-Key: test-key",
                    )
                    + poll(ids["a"], "wrong-key").replace(
                        b"\r\n\r\n", b"\r\nOcp-Apim-Subscription-Key: test-key\r\n\r\n"
                    )
                    + poll(ids["a"], "test-key").replace(
                        b"Ocp-Apim-Subscription-Key", b"OCP-APIM-SUBSCRIPTION-KEY"
                    )
                ],
                ["GET"] * 4,
            )
        ),
    ),
    (
        "HTTP/1.0 asking for keep-alive",
        with_ids(
            lambda ids: (
                [
                    request(
                        "GET",
                        f"/v2/requests/status/{ids['a']}",
                        {"Connection": "keep-alive", "Ocp-Apim-Subscription-Key": "test-key"},
                        version="1.0",
                    )
                ],
                ["GET"],
            ),
            ends=True,
        ),
    ),
    (
        "a hot poll, then (once answered) a bad header line",
        with_ids(
            lambda ids: (
                [poll(ids["a"]), b"GET /v2/requests/status/x HTTP/1.1\r\nBad Header\r\n\r\n"],
                ["GET", "GET"],
            ),
            gap=0.05,
            ends=True,
        ),
    ),
    (
        "a hot poll, then a bad header name",
        with_ids(
            lambda ids: (
                [poll(ids["a"]), b"GET /v2/requests/status/x HTTP/1.1\r\nB(d: 1\r\n\r\n"],
                ["GET", "GET"],
            ),
            gap=0.05,
            ends=True,
        ),
    ),
    (
        "a hot poll, then a bad version",
        with_ids(
            lambda ids: ([poll(ids["a"]), request("GET", "/v2/x", version="2.7")], ["GET", "GET"]),
            gap=0.05,
            ends=True,
        ),
    ),
    ("fault on polls (503)", fault({"status": 503, "times": 1, "endpoint": "status"})),
    ("poll answered by the fault", polls("a")),
    (
        "fault with headers",
        fault(
            {
                "status": 429,
                "retry_after": 7,
                "times": 1,
                "headers": {"X-Trace": "t1"},
                "endpoint": "status",
            }
        ),
    ),
    ("poll answered 429", polls("a")),
    ("fault 204", fault({"status": 204, "times": 1, "endpoint": "status"})),
    ("poll answered 204", one(poll("nope"), ends=True)),
    ("submit fault 500", fault({"status": 500, "times": 1, "endpoint": "submit"})),
    ("submit answered 500", one(submit(body={"prompt": "f"}), "POST")),
    ("latency", fault({"latency_ms": 150, "times": 1, "endpoint": "status"})),
    (
        "pipelined behind a delay",
        with_ids(lambda ids: ([poll(ids["a"]) + poll("nope")], ["GET", "GET"])),
    ),
    ("submit latency", fault({"latency_ms": 100, "times": 1, "endpoint": "submit"})),
    (
        "delayed submit then poll",
        with_ids(lambda ids: ([submit(body={"prompt": "d"}) + poll(ids["a"])], ["POST", "GET"])),
    ),
    ("drop", fault({"drop_connection": True, "times": 1, "endpoint": "status"})),
    (
        "dropped poll",
        with_ids(lambda ids: ([poll(ids["a"]) + poll("nope")], ["GET", "GET"]), ends=True),
    ),
    ("after the drop", polls("a")),
    ("submit drop", fault({"drop_connection": True, "times": 1, "endpoint": "submit"})),
    ("dropped submit", one(submit(body={"prompt": "q"}), "POST", ends=True)),
    ("bad version (505)", one(request("GET", "/v2/requests/status/x", version="9.9"), ends=True)),
    # the same bytes again on one connection are answered from their parse (a replay):
    # decided anew every time, and parsed again when anything differs
    (
        "the same poll thrice, in turn",
        with_ids(lambda ids: ([poll(ids["a"])] * 3, ["GET"] * 3), gap=0.05),
    ),
    (
        "the same submit thrice, in turn",
        lambda port, ids: exchange(
            port, [submit(body={"prompt": "again"})] * 3, ["POST"] * 3, gap=0.05
        ),
    ),
    ("a job to poll again", remember("again", submit(body={"prompt": "replayed", "seed": 21}))),
    ("the same bytes while the world changes", lambda port, ids: same_bytes_again(port, ids)),
    ("the journal", lambda port, ids: control(port, "GET", "/_mock/requests?limit=1000")),
]


def same_bytes_again(port: int, ids: dict[str, str]) -> list[Any]:
    """One connection polls one job with the same bytes while the clock moves, a fault
    fires and the key runs out of rate; then sends those bytes split, and twice at once."""
    chunk = poll(ids["again"])
    seen: list[Any] = []
    with socket.create_connection(("127.0.0.1", port), timeout=10) as sock:
        reader = Reader(sock)

        def ask(*parts: bytes, answers: int = 1) -> None:
            for part in parts:
                sock.sendall(part)
                time.sleep(0.05)
            seen.extend(reader.reply("GET") for _ in range(answers))

        ask(chunk)
        for between in (
            advance(0.5),
            advance(5),
            fault({"status": 503, "times": 1, "endpoint": "status"}),
            fault({"latency_ms": 100, "times": 1, "endpoint": "status"}),
            fault({"status": 429, "retry_after": 3, "times": 1, "endpoint": "status"}),
        ):
            seen.append(between(port, ids))
            ask(chunk)
            ask(chunk)
        ask(chunk[:10], chunk[10:])
        ask(chunk)
        ask(chunk * 2, answers=2)
        ask(chunk)
        ask(chunk[:-2], answers=0)  # no answer yet: the head is not complete
        seen.append(reader.buffer)
        ask(chunk[-2:] + chunk, answers=0)
        seen.extend(reader.reply("GET") for _ in range(2))
    return seen


@contextmanager
def counting_feeds(server: Server) -> Iterator[list[bytes]]:
    """Every chunk the server's protocol feeds its parser, while the block runs."""
    fed: list[bytes] = []
    protocol_class: Any = server.thread.server.config.http_protocol_class
    original = protocol_class.data_received

    def counting(self: Any, data: bytes) -> None:
        parser = self.parser
        feed = parser.feed_data

        class Counting:
            def __getattr__(self, name: str) -> Any:
                return getattr(parser, name)

            def feed_data(self, chunk: bytes) -> None:
                fed.append(chunk)
                feed(chunk)

        self.parser = Counting()
        try:
            original(self, data)
        finally:
            self.parser = parser

    protocol_class.data_received = counting
    try:
        yield fed
    finally:
        protocol_class.data_received = original


def test_the_same_bytes_again_are_not_parsed_again() -> None:
    """Without feeding the parser: a replay is what the differential corpus cannot see."""
    with serving(fast_path=True) as server, counting_feeds(server) as fed:
        (reply,) = exchange(server.thread.port, [submit(body={"prompt": "r"})], ["POST"])[:1]
        chunk = poll(accepted_id(reply))
        replies = exchange(server.thread.port, [chunk] * 3, ["GET"] * 3, gap=0.05)
        assert [reply[0] for reply in replies[:3]] == ["HTTP/1.1 200 OK"] * 3
        assert fed.count(chunk) == 1  # the two after it were replayed
        polled = server.state.journal.select(JournalFilter(path="/v2/requests/status/"))
        assert len(polled) == 3  # each one journaled


def test_a_big_request_is_parsed_every_time() -> None:
    """A connection keeps at most REPLAY_BYTES of its last data to compare the next with."""
    settings = Settings.load(seed=7, timing="manual")
    app = create_app(settings, clock=VirtualClock(rate=0.0, start=START))
    with ServerThread(app) as thread:
        server = Server(thread, app.state.mock)
        big = submit(body={"prompt": "big", "padding": "x" * 20_000})
        assert len(big) > REPLAY_BYTES
        with counting_feeds(server) as fed:
            replies = exchange(thread.port, [big] * 2, ["POST"] * 2, gap=0.1)
        assert [reply[0] for reply in replies[:2]] == ["HTTP/1.1 202 Accepted"] * 2
        assert b"".join(fed) == big * 2


def hot_routes(server: Server) -> Any:
    protocol: Any = server.thread.server.config.http_protocol_class
    return protocol.hot


def run_corpus(port: int) -> list[tuple[str, Any]]:
    ids: dict[str, str] = {}
    return [(name, step(port, ids)) for name, step in CORPUS]


@pytest.fixture(scope="module")
def transcripts() -> tuple[list[tuple[str, Any]], list[tuple[str, Any]]]:
    with serving(fast_path=True) as fast:
        # the fast server really answers through the fast path (not via ASGI)
        assert hot_routes(fast) is not None
        fast_run = run_corpus(fast.thread.port)
    with serving(fast_path=False) as slow:
        assert hot_routes(slow) is None
        slow_run = run_corpus(slow.thread.port)
    return fast_run, slow_run


def test_every_answer_is_identical(
    transcripts: tuple[list[tuple[str, Any]], list[tuple[str, Any]]],
) -> None:
    fast_run, slow_run = transcripts
    for (name, fast), (_, slow) in zip(fast_run, slow_run, strict=True):
        assert fast == slow, name


def test_the_corpus_covers_the_gateway(
    transcripts: tuple[list[tuple[str, Any]], list[tuple[str, Any]]],
) -> None:
    """A differential test is only as good as its corpus: it must reach every answer."""
    text = repr(transcripts[0])
    for status in (
        "200 OK",
        "202 Accepted",
        "400 Bad Request",
        "401 Unauthorized",
        "402 Payment Required",
        "403 Forbidden",
        "404 Not Found",
        "413 ",
        "429 Too Many Requests",
        "500 Internal",
        "503 Service",
        "100 Continue",
        "204 No Content",
        "505 ",
    ):
        assert status in text, status
    for job_status in ("QUEUED", "PROCESSING", "COMPLETED", "FAILED", "ERROR"):
        assert f'"status":"{job_status}"' in text, job_status
    assert "retry-after" in text.lower()
    journal = dict(transcripts[0])["the journal"]
    assert len(journal["requests"]) > 40
    answered = {entry["status"] for entry in journal["requests"]}
    assert None in answered  # the drops


def test_pipelined_answers_keep_their_order(
    transcripts: tuple[list[tuple[str, Any]], list[tuple[str, Any]]],
) -> None:
    replies = dict(transcripts[0])["pipelined behind a delay"]
    assert [reply[0] for reply in replies[:2]] == ["HTTP/1.1 200 OK", "HTTP/1.1 404 Not Found"]
    dropped = dict(transcripts[0])["dropped poll"]
    assert dropped[0] == ("closed", b"") and dropped[2] is True


@pytest.mark.parametrize("fast_path", [True, False])
def test_hot_requests_skip_asgi(fast_path: bool) -> None:
    """With the fast path a poll never reaches the ASGI app; without it, it does."""
    with serving(fast_path) as server:
        calls: list[str] = []
        middleware: Any = server.thread.server.config.loaded_app  # uvicorn's, around the app
        app = middleware.app

        async def counting(scope: Any, receive: Any, send: Any) -> None:
            calls.append(scope["path"])
            await app(scope, receive, send)

        middleware.app = counting
        exchange(server.thread.port, [poll("nope"), request("GET", "/_health")], ["GET", "GET"])
        assert calls == (["/_health"] if fast_path else ["/v2/requests/status/nope", "/_health"])


def test_a_commit_is_awaited_before_the_202() -> None:
    """The durability seam: with persistent state a 202 waits for the commit."""

    class SlowDisk:
        def __init__(self) -> None:
            self.waits = 0

        async def wait(self) -> None:
            import asyncio

            await asyncio.sleep(0.05)
            self.waits += 1

        async def commit_all(self) -> None:
            return None

        def touch(self, job: Any) -> None:
            return None

    for fast_path in (True, False):
        with serving(fast_path) as server:
            disk = SlowDisk()
            server.state.durability = disk
            reply = exchange(server.thread.port, [submit(), poll("nope")], ["POST", "GET"])
            assert reply[0][0] == "HTTP/1.1 202 Accepted"
            assert disk.waits == 1


def test_a_client_hanging_up_mid_body_is_journaled_alike() -> None:
    entries = []
    for fast_path in (True, False):
        with serving(fast_path) as server:
            head = post(b"", {"Content-Length": "100"})
            with socket.create_connection(("127.0.0.1", server.thread.port)) as sock:
                sock.sendall(head + b'{"prompt"')
                time.sleep(0.2)
            deadline = time.monotonic() + 5
            while not server.state.journal.recorded and time.monotonic() < deadline:
                time.sleep(0.01)
            entries.append(control(server.thread.port, "GET", "/_mock/requests")["requests"])
    assert entries[0] == entries[1]
    assert entries[0][0]["error"] == "client disconnected"


def test_the_flag_turns_it_off() -> None:
    on = connection_limits(build_parser().parse_args(["serve"]))
    off = connection_limits(build_parser().parse_args(["serve", "--no-fast-path"]))
    assert on.fast_path and not off.fast_path


def test_a_cycle_looks_like_uvicorns_to_the_protocol() -> None:
    cycle = FastCycle("GET", "/", b"", None, "x", None, "http://h", None, "1.1", True)
    cycle.message_event.set()  # what connection_lost does
    assert not cycle.response_complete and not cycle.disconnected and cycle.more_body


def stop_during_a_delay(fast_path: bool, delay_ms: int, grace: float) -> tuple[Any, Any]:
    """Stop the server while a poll's injected latency runs; what the client and the
    journal got."""
    with serving(fast_path) as server:
        server.thread.server.config.timeout_graceful_shutdown = grace  # type: ignore[assignment]
        control(server.thread.port, "POST", "/_mock/faults", {"latency_ms": delay_ms})
        with socket.create_connection(("127.0.0.1", server.thread.port), timeout=10) as sock:
            sock.sendall(poll("nope"))
            time.sleep(0.2)
            server.thread.stop()
            reader = Reader(sock)
            reply = (reader.reply("GET"), reader.ends())
        journal = server.state.journal.select(JournalFilter())
        return reply, [
            {**entry, "time": None} for entry in journal if "faults" not in entry["path"]
        ]


@pytest.mark.parametrize(("delay_ms", "grace"), [(400, 5.0), (3000, 0.3)])
def test_stopping_answers_like_the_asgi_path(delay_ms: int, grace: float) -> None:
    """SIGTERM's graceful stop: an answer due within the grace period is sent (and the
    connection closed); one still waiting when it ends gets 503, journaled as stopped."""
    fast, slow = (stop_during_a_delay(mode, delay_ms, grace) for mode in (True, False))
    assert fast == slow
    (status, headers, _), closed = fast[0]
    assert closed and ("connection", "close") in headers
    assert status == ("HTTP/1.1 404 Not Found" if grace > 1 else "HTTP/1.1 503 Service Unavailable")


@pytest.mark.parametrize(
    "where", ["mock_gateway.pipeline.status", "mock_gateway.web.state.MockState.carry_out"]
)
def test_a_bug_is_a_500_either_way(monkeypatch: pytest.MonkeyPatch, where: str) -> None:
    """Not a 400 from the parser (an exception out of an httptools callback would be)."""

    def broken(*args: Any) -> Any:
        raise RuntimeError("a bug")

    monkeypatch.setattr(where, broken)
    seen = []
    for fast_path in (True, False):
        with serving(fast_path) as server:
            reply = exchange(server.thread.port, [poll("nope")], ["GET"], ends=True)
            journal = control(server.thread.port, "GET", "/_mock/requests")["requests"]
            seen.append((reply, journal))
    assert seen[0] == seen[1]
    (status, _, body), closed, _ = seen[0][0]
    assert status == "HTTP/1.1 500 Internal Server Error" and closed
    assert json.loads(body)["message"] == "The mock failed unexpectedly."
    assert seen[0][1][0]["status"] == 500


@pytest.mark.parametrize("fast_path", [True, False])
def test_the_timeouts_hold_around_fast_answers(fast_path: bool) -> None:
    """Quiet after an answer: closed after the idle timeout. A slow request that arrives
    with a fast answer's request (its body still to come) is not cut off by that timeout."""
    with serving(fast_path, timeout=0.3) as server:
        port = server.thread.port
        started = time.monotonic()
        replies = exchange(port, [poll("nope")], ["GET"], ends=True)
        assert replies[0][0] == "HTTP/1.1 404 Not Found" and replies[1] is True
        assert time.monotonic() - started < 1.5
        body = b'{"prompt":"slow","seed":5}'
        chunked = post(b"", CHUNKED_TYPE) + b"%x\r\n%s" % (len(body), body[:5])
        rest = body[5:] + b"\r\n0\r\n\r\n"
        replies = exchange(port, [poll("nope") + chunked, rest], ["GET", "POST"], gap=0.6)
        assert [reply[0] for reply in replies[:2]] == [
            "HTTP/1.1 404 Not Found",
            "HTTP/1.1 202 Accepted",
        ]


def test_a_failed_commit_is_refused_as_web_persisted_words_it() -> None:
    """A commit that fails (a full disk): the fast path answers what ``--state``'s handler
    answers on the ASGI path (``web.persisted.unsaved_answer``): 503, nothing charged."""
    from mock_gateway.persistence.options import StateWriteError

    class FullDisk:
        async def wait(self) -> None:
            raise StateWriteError("no space left on device")

        async def commit_all(self) -> None:
            return None

        def touch(self, job: Any) -> None:
            return None

    with serving(True) as server:
        server.state.durability = FullDisk()
        reply = exchange(server.thread.port, [submit(), poll("nope")], ["POST", "GET"])
    (status, headers, body), (next_status, _, _) = reply[0], reply[1]
    assert status == "HTTP/1.1 503 Service Unavailable" and ("retry-after", "1") in headers
    assert b"nothing was charged" in body
    assert next_status == "HTTP/1.1 404 Not Found"  # the connection goes on


def test_a_reused_rendering_is_the_rendering() -> None:
    """``HotRoutes.rendered`` reuses the last bytes only for the same plain answer under
    the same default headers: another status, a closing connection, headers, a new Date or
    another body object each get their own rendering."""
    state = create_app(Settings.load(seed=7)).state.mock
    hot = HotRoutes(state)
    body = b'{"status":"COMPLETED"}'
    monday = [(b"date", b"Mon, 01 Jan 2029 00:00:00 GMT"), (b"server", b"uvicorn")]
    tuesday = [(b"date", b"Tue, 02 Jan 2029 00:00:00 GMT"), (b"server", b"uvicorn")]
    cases = [
        (Answer(200, body), True, monday),
        (Answer(200, body), True, monday),  # the same again: reused
        (Answer(200, body), True, tuesday),  # the Date moved on
        (Answer(404, body), True, tuesday),  # the same body object, another status
        (Answer(200, body), True, tuesday),
        (Answer(200, body), False, tuesday),  # the connection closes after it
        (Answer(200, body), True, tuesday),
        (Answer(200, body, (("x-trace", "t1"),)), True, tuesday),
        (Answer(200, b'{"status":"FAILED"}'), True, tuesday),
        (Answer(200, body), True, tuesday),
    ]
    for answer, keep_alive, defaults in cases:
        lines = b"".join(b"%s: %s\r\n" % pair for pair in defaults)
        assert hot.rendered(answer, keep_alive, defaults) == render(answer, keep_alive, lines)
