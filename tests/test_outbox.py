"""The fast path holds its answers until the loop's round of reads is done (``web/outbox.py``).

Two levels: the outbox alone, with a recording loop; and the server's own protocol class on
a fake transport, fed by hand, so that "within one round" is exact and not a race. Answers
must still go out (each whole, in order per connection) before anything else is written to
their connection or it is closed: a 400 of the parser, a graceful stop, a drop, an idle close.
"""

from __future__ import annotations

import asyncio
import json
import logging
from collections.abc import Callable
from typing import Any

import pytest

from mock_gateway.config.settings import Settings
from mock_gateway.steering.clock import VirtualClock
from mock_gateway.steering.faults import parse_rule
from mock_gateway.web.app import create_app
from mock_gateway.web.outbox import Outbox
from mock_gateway.web.server import ConnectionLimits, GuardedServer

T2I = "/seedream-5-0-lite-text-to-image/v1/seedream-5-0-lite-text-to-image-request"


class RecordingLoop:
    def __init__(self) -> None:
        self.soon: list[Callable[[], None]] = []

    def call_soon(self, callback: Callable[[], None]) -> None:
        self.soon.append(callback)


class Holder:
    def __init__(self, name: str, sent: list[str], fails: bool = False) -> None:
        self.name, self.sent, self.fails = name, sent, fails

    def send_held(self) -> None:
        if self.fails:
            raise OSError("broken pipe")
        self.sent.append(self.name)


def test_one_flush_per_round_in_the_order_held() -> None:
    outbox, loop = Outbox(), RecordingLoop()
    sent: list[str] = []
    for name in "abc":
        outbox.hold(Holder(name, sent), loop)  # type: ignore[arg-type]
    assert len(loop.soon) == 1 and len(outbox) == 3 and sent == []
    loop.soon.pop()()
    assert sent == ["a", "b", "c"] and len(outbox) == 0
    outbox.hold(Holder("d", sent), loop)  # type: ignore[arg-type]
    assert len(loop.soon) == 1  # the next round asks for its own flush


def test_a_broken_connection_does_not_keep_the_others_answers(
    caplog: pytest.LogCaptureFixture,
) -> None:
    outbox, loop = Outbox(), RecordingLoop()
    sent: list[str] = []
    outbox.hold(Holder("a", sent), loop)  # type: ignore[arg-type]
    outbox.hold(Holder("broken", sent, fails=True), loop)  # type: ignore[arg-type]
    outbox.hold(Holder("c", sent), loop)  # type: ignore[arg-type]
    with caplog.at_level(logging.ERROR, logger="mock_gateway"):
        loop.soon.pop()()
    assert sent == ["a", "c"]
    assert "could not send an answer" in caplog.text


# --- the server's protocol on a fake transport ------------------------------------------


class FakeTransport(asyncio.Transport):
    def __init__(self) -> None:
        super().__init__()
        self.events: list[bytes | str] = []  # each write's bytes, and "close"

    def write(self, data: bytes | bytearray | memoryview) -> None:
        assert "close" not in self.events, "written after close"
        self.events.append(bytes(data))

    def close(self) -> None:
        self.events.append("close")

    def is_closing(self) -> bool:
        return "close" in self.events

    def get_extra_info(self, name: str, default: Any = None) -> Any:
        return {"sockname": ("127.0.0.1", 8000), "peername": ("127.0.0.1", 5555)}.get(name, default)

    def pause_reading(self) -> None:
        pass

    def resume_reading(self) -> None:
        pass

    def get_write_buffer_size(self) -> int:
        return 0

    def writes(self) -> list[bytes]:
        return [event for event in self.events if isinstance(event, bytes)]

    def statuses(self) -> list[int]:
        """The status code of every answer written, in order (one write may hold several)."""
        data, codes = b"".join(self.writes()), []
        while data:
            head, _, data = data.partition(b"\r\n\r\n")
            status, *lines = head.decode("latin-1").split("\r\n")
            codes.append(int(status.split()[1]))
            length = [
                line.split(":")[1] for line in lines if line.lower().startswith("content-length")
            ]
            data = data[int(length[0]) if length else 0 :]
        return codes


def poll(request_id: str) -> bytes:
    return (
        f"GET /v2/requests/status/{request_id} HTTP/1.1\r\nHost: 127.0.0.1:8000\r\n"
        "Ocp-Apim-Subscription-Key: test-key\r\n\r\n"
    ).encode()


def submit(prompt: str = "a fox") -> bytes:
    body = json.dumps({"prompt": prompt}).encode()
    return (
        f"POST {T2I} HTTP/1.1\r\nHost: 127.0.0.1:8000\r\nContent-Type: application/json\r\n"
        f"Ocp-Apim-Subscription-Key: test-key\r\nContent-Length: {len(body)}\r\n\r\n"
    ).encode() + body


class Connections:
    """Connections to one server's protocol class, made and fed by the test."""

    def __init__(self, server: GuardedServer, loop: asyncio.AbstractEventLoop) -> None:
        self.server, self.loop = server, loop

    def open(self) -> tuple[Any, FakeTransport]:
        config = self.server.config
        protocol = config.http_protocol_class(  # type: ignore[call-arg]
            config=config, server_state=self.server.server_state, app_state={}, _loop=self.loop
        )
        transport = FakeTransport()
        protocol.connection_made(transport)
        return protocol, transport

    async def next_round(self) -> None:
        """Let the loop run what the reads of this round asked for (the outbox's flush)."""
        for _ in range(3):
            await asyncio.sleep(0)


def run(test: Callable[[Connections], Any]) -> None:
    """Run ``test`` on a loop of its own, with connections to a new mock's protocol class."""
    settings = Settings.load(seed=7, timing="manual")
    app = create_app(settings, clock=VirtualClock(rate=0.0, start=1_800_000_000.0))
    server = GuardedServer(app, ConnectionLimits())
    server.config.load()
    assert server.config.http_protocol_class.hot is not None  # type: ignore[attr-defined]

    async def main() -> None:
        await test(Connections(server, asyncio.get_running_loop()))

    asyncio.run(main())


def test_a_rounds_answers_go_out_once_its_reads_are_done() -> None:
    async def test(made: Connections) -> None:
        opened = [made.open() for _ in range(3)]
        for protocol, _ in opened:
            protocol.data_received(submit())
        assert all(transport.events == [] for _, transport in opened)  # held
        await made.next_round()
        for _, transport in opened:
            assert len(transport.writes()) == 1 and transport.statuses() == [202]

    run(test)


def test_pipelined_answers_go_out_in_order_in_one_write() -> None:
    async def test(made: Connections) -> None:
        protocol, transport = made.open()
        protocol.data_received(submit("one") + poll("nope") + submit("two"))
        await made.next_round()
        await made.next_round()
        assert transport.statuses() == [202, 404, 202]
        assert not transport.is_closing()

    run(test)


@pytest.mark.parametrize(
    ("bad", "status"),
    [
        (b"GET /v2/requests/status/x HTTP/1.1\r\nBad Header\r\n\r\n", 400),
        (b"GET /v2/requests/status/x HTTP/1.1\r\nB(d: 1\r\n\r\n", 400),
        (b"GET /v2/x HTTP/2.0\r\nHost: h\r\n\r\n", 505),  # parsed, then refused
    ],
)
def test_a_held_answer_goes_out_before_the_parsers_own(bad: bytes, status: int) -> None:
    """A hot request and a malformed one in one packet: the hot answer first, then the
    parser's error, then the close (nothing written after it)."""

    async def test(made: Connections) -> None:
        protocol, transport = made.open()
        protocol.data_received(poll("nope") + bad)
        assert transport.statuses() == [404, status]
        assert transport.events[-1] == "close"
        await made.next_round()
        assert transport.statuses() == [404, status]

    run(test)


def test_a_graceful_stop_sends_what_was_answered() -> None:
    async def test(made: Connections) -> None:
        protocol, transport = made.open()
        protocol.data_received(submit())
        protocol.shutdown()  # before the flush: the answer still goes, then the close
        assert transport.statuses() == [202] and transport.events[-1] == "close"
        await made.next_round()
        assert len(transport.writes()) == 1

    run(test)


def test_a_drop_sends_the_answers_before_it() -> None:
    async def test(made: Connections) -> None:
        protocol, transport = made.open()
        state = protocol.hot.state
        rule = {"drop_connection": True, "times": 1, "endpoint": "status"}
        state.faults.add(parse_rule(rule, state.fault_endpoints))
        protocol.data_received(submit() + poll("nope"))  # the submit's 202 is held
        assert transport.statuses() == [202] and transport.events[-1] == "close"
        await made.next_round()
        assert len(transport.writes()) == 1

    run(test)


def test_a_connection_gone_before_the_flush_gets_nothing() -> None:
    async def test(made: Connections) -> None:
        (gone, gone_transport), (kept, kept_transport) = made.open(), made.open()
        gone.data_received(poll("nope"))
        kept.data_received(poll("nope"))
        gone_transport.close()  # the client hung up meanwhile
        gone.connection_lost(None)
        await made.next_round()
        assert gone_transport.writes() == [] and kept_transport.statuses() == [404]

    run(test)


def test_an_idle_close_sends_the_answer_first() -> None:
    async def test(made: Connections) -> None:
        protocol, transport = made.open()
        protocol.data_received(submit())
        protocol._deadline = made.loop.time() - 1  # as if the idle timeout had run out
        protocol._expire()
        assert transport.statuses() == [202] and transport.events[-1] == "close"

    run(test)
