"""One hot request as the fast path holds it, the routes it knows, and the answer's bytes.

``FastCycle`` has the attributes uvicorn's protocol reads of its own request cycle, so the
protocol's pipelining, shutdown and disconnect handling work on it unchanged. ``render``
writes what uvicorn would write for the ``Response`` that ``web.responses.answer_response``
makes of an ``Answer``: the same header names, order and framing.
"""

from __future__ import annotations

import httptools
from uvicorn.protocols.http.httptools_impl import STATUS_LINE

from mock_gateway import pipeline
from mock_gateway.pipeline import Outcome, Pending, StatusCall, SubmitCall
from mock_gateway.pipeline.answers import Answer
from mock_gateway.validation.contract import Operation
from mock_gateway.validation.request import check_content_type
from mock_gateway.web.state import MockState
from seedream_contracts.document import STATUS_PREFIX

JSON_TYPE = b"content-type: application/json\r\n"
JSON_END = b"\r\n" + JSON_TYPE  # ends the content-length line
LENGTH = b"content-length: "
CLOSE = b"connection: close\r\n"
# (path, query, operation, target): a status poll's request id is ``target`` (``operation``
# None), a submit has its operation
HotRoute = tuple[str, bytes, Operation | None, str]


class HotRoutes:
    """What the fast path needs to know about one mock: its state and its submit paths."""

    def __init__(self, state: MockState) -> None:
        self.state = state
        self.submits: dict[bytes, Operation] = {
            operation.path.encode("ascii"): operation
            for operation in state.schemas.submit_operations()
        }
        self.max_body = state.settings.max_body_bytes
        self._defaults: list[tuple[bytes, bytes]] | None = None
        self._default_lines = b""
        # The last plain answer rendered (its body object, status and bytes): the polls of
        # one job get the very same body bytes (``StatusBodies``) until the job changes, and
        # uvicorn's default headers change once a second (the Date).
        self._last_body = b""
        self._last_status = 0
        self._last_rendered = b""

    def default_lines(self, defaults: list[tuple[bytes, bytes]]) -> bytes:
        """uvicorn's default headers as lines; it replaces the list when the Date changes."""
        if defaults is not self._defaults:
            self._defaults = defaults
            self._default_lines = b"".join(b"%s: %s\r\n" % pair for pair in defaults)
            self._last_status = 0  # the last rendering has the old Date
        return self._default_lines

    def rendered(
        self, answer: Answer, keep_alive: bool, defaults: list[tuple[bytes, bytes]]
    ) -> bytes:
        """``render`` with the server's default headers, reusing the last rendering when
        the same plain answer is given again on a kept-alive connection."""
        lines = self.default_lines(defaults)
        plain = keep_alive and not answer.headers
        if plain and answer.body is self._last_body and answer.status == self._last_status:
            return self._last_rendered
        rendered = render(answer, keep_alive, lines)
        if plain:
            self._last_body, self._last_status, self._last_rendered = (
                answer.body,
                answer.status,
                rendered,
            )
        return rendered

    def route(self, method: bytes, raw_url: bytes) -> HotRoute | None:
        """The ``HotRoute`` of a hot route's URL, else None."""
        try:
            url = httptools.parse_url(raw_url)
            path = url.path.decode("ascii")
        except (httptools.HttpParserInvalidURLError, UnicodeDecodeError):
            return None  # uvicorn's path says what is wrong with it
        if "%" in path:
            return None
        query = url.query or b""
        if method == b"GET":
            if not path.startswith(STATUS_PREFIX):
                return None
            target = path[len(STATUS_PREFIX) :]
            if not target or "/" in target:
                return None
            return path, query, None, target
        operation = self.submits.get(url.path)
        return None if operation is None else (path, query, operation, "")

    def plain_body(self, content_type: bytes | None, length: bytes | None) -> bool:
        """A declared JSON body within the limit (``web.parse`` answers anything else)."""
        if length is None or not length.isdigit() or int(length) > self.max_body:
            return False
        text = "" if content_type is None else content_type.decode("latin-1")
        return check_content_type(text) is None

    def decide(self, cycle: FastCycle, now: float) -> Outcome | Pending:
        world = self.state.world
        if cycle.operation is None:
            return pipeline.status(world, StatusCall(cycle.key, cycle.target, cycle.base), now)
        call = SubmitCall(cycle.key, cycle.operation, bytes(cycle.body), cycle.webhook, cycle.base)
        return pipeline.submit(world, call, now)


class _NoSignal:
    """Stands in for the request cycle's ``asyncio.Event``: nothing awaits a hot request's
    body (the protocol only ever calls ``set``)."""

    __slots__ = ()

    def set(self) -> None:
        return None


NO_SIGNAL = _NoSignal()


class FastCycle:
    """One hot request, with the attributes uvicorn's protocol reads of a request cycle."""

    __slots__ = (
        "base",
        "body",
        "disconnected",
        "http_version",
        "keep_alive",
        "key",
        "message_event",
        "method",
        "more_body",
        "operation",
        "path",
        "query",
        "response_complete",
        "started",
        "target",
        "turn",
        "webhook",
    )

    def __init__(
        self,
        method: str,
        path: str,
        query: bytes,
        operation: Operation | None,
        target: str,
        key: str | None,
        base: str,
        webhook: str | None,
        http_version: str,
        keep_alive: bool,
    ) -> None:
        self.method, self.path, self.query = method, path, query
        self.operation = operation  # None: a status poll of request ``target``
        self.target, self.key, self.base, self.webhook = target, key, base, webhook
        self.http_version, self.keep_alive = http_version, keep_alive
        self.body: bytes | bytearray = bytearray()  # bytes: a replayed request's (fast.py)
        self.more_body = True
        self.response_complete = self.disconnected = False
        self.turn = False  # no earlier answer on this connection is outstanding
        self.started = 0.0  # mock time it got its turn (the journal's time)
        self.message_event = NO_SIGNAL


def render(answer: Answer, keep_alive: bool, defaults: bytes) -> bytes:
    """The answer as uvicorn writes what ``responses.answer_response`` makes of it;
    ``defaults`` are the server's own header lines (Date, Server)."""
    status = answer.status
    if not answer.headers and status not in (204, 304):  # nearly every answer
        length = str(len(answer.body)).encode("ascii")
        close = b"" if keep_alive else CLOSE
        return b"".join(
            (STATUS_LINE[status], defaults, LENGTH, length, JSON_END, close, b"\r\n", answer.body)
        )
    parts = [STATUS_LINE[status], defaults]
    named: set[bytes] = set()
    for text, value_text in dict(answer.headers).items():  # Starlette: a later one wins
        name = text.lower().encode("latin-1")
        named.add(name)
        parts += (name, b": ", value_text.encode("latin-1"), b"\r\n")
    if b"content-length" not in named and status not in (204, 304):
        parts += (LENGTH, str(len(answer.body)).encode("ascii"), b"\r\n")
    if b"content-type" not in named:
        parts.append(JSON_TYPE)
    if not keep_alive and b"connection" not in named:
        parts.append(CLOSE)
    parts.append(b"\r\n")
    if status not in (204, 304):
        parts.append(answer.body)
    return b"".join(parts)
