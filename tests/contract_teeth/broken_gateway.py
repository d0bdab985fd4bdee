"""Deliberately wrong gateways: the real mock app behind an ASGI wrapper that breaks one
documented behaviour each, served over HTTP on 127.0.0.1 so the contract suite can be run
against it exactly as against the live gateway.

    python tests/contract_teeth/broken_gateway.py BREAKAGE   # or "none" for the real mock

prints ``listening on http://127.0.0.1:PORT`` once ready. The teeth tests check that the
suite fails against each one and that its report names the broken clause.
"""

from __future__ import annotations

import io
import json
import sys
from collections.abc import Awaitable, Callable, MutableMapping
from typing import Any

Scope = MutableMapping[str, Any]
Message = MutableMapping[str, Any]
Receive = Callable[[], Awaitable[Message]]
Send = Callable[[Message], Awaitable[None]]
App = Callable[[Scope, Receive, Send], Awaitable[None]]
# (method, path, status, headers, body) -> (status, headers, body)
Rewrite = Callable[[str, str, int, dict[str, str], bytes], tuple[int, dict[str, str], bytes]]

SUBMIT_PREFIXES = ("/seedream-5-0-lite", "/byteplus/")
STATUS_PREFIX = "/v2/requests/status/"


def _is_submit(method: str, path: str) -> bool:
    return method == "POST" and path.startswith(SUBMIT_PREFIXES)


def _json_edit(body: bytes, edit: Callable[[Any], Any]) -> bytes:
    return json.dumps(edit(json.loads(body)), separators=(",", ":")).encode()


def accepted_200(method: str, path: str, status: int, headers: dict[str, str], body: bytes) -> Any:
    """A valid submit answers 200 instead of the documented 202."""
    return (200 if _is_submit(method, path) and status == 202 else status), headers, body


def no_polling_url(
    method: str, path: str, status: int, headers: dict[str, str], body: bytes
) -> Any:
    """The 202 body lacks polling_url."""
    if _is_submit(method, path) and status == 202:
        body = _json_edit(body, lambda d: {k: v for k, v in d.items() if k != "polling_url"})
    return status, headers, body


def server_error_on_bad_input(
    method: str, path: str, status: int, headers: dict[str, str], body: bytes
) -> Any:
    """An invalid submit crashes (500) instead of the documented 400."""
    if _is_submit(method, path) and status == 400:
        payload = {"error": "Internal Server Error", "message": "unexpected"}
        return 500, headers, json.dumps(payload).encode()
    return status, headers, body


def wrong_402_message(
    method: str, path: str, status: int, headers: dict[str, str], body: bytes
) -> Any:
    """The 402 message is not the documented one."""
    if _is_submit(method, path) and status == 402:
        body = _json_edit(body, lambda d: {**d, "message": "Not enough credit."})
    return status, headers, body


def one_media_url_short(
    method: str, path: str, status: int, headers: dict[str, str], body: bytes
) -> Any:
    """A COMPLETED job lists one media URL fewer than num_images."""
    if method == "GET" and path.startswith(STATUS_PREFIX) and status == 200:

        def edit(data: dict[str, Any]) -> dict[str, Any]:
            if data.get("status") == "COMPLETED" and data.get("output"):
                data["output"]["media_url"] = data["output"]["media_url"][:-1]
            return data

        body = _json_edit(body, edit)
    return status, headers, body


def png_for_jpeg(method: str, path: str, status: int, headers: dict[str, str], body: bytes) -> Any:
    """byteplus outputs are served as PNG where the documentation says JPEG."""
    if method == "GET" and path.startswith("/media/") and path.endswith(".jpg") and status == 200:
        from PIL import Image

        out = io.BytesIO()
        with Image.open(io.BytesIO(body)) as image:
            image.save(out, "PNG")
        headers = {**headers, "content-type": "image/png"}
        body = out.getvalue()
    return status, headers, body


def no_retry_after(
    method: str, path: str, status: int, headers: dict[str, str], body: bytes
) -> Any:
    """A 429 comes without its Retry-After header."""
    if status == 429:
        headers = {k: v for k, v in headers.items() if k != "retry-after"}
    return status, headers, body


class CompletedGoesBack:
    """After a job has been seen COMPLETED once, it reads PROCESSING again."""

    def __init__(self) -> None:
        self.completed: set[str] = set()

    def __call__(
        self, method: str, path: str, status: int, headers: dict[str, str], body: bytes
    ) -> Any:
        if method != "GET" or not path.startswith(STATUS_PREFIX) or status != 200:
            return status, headers, body
        request_id = path.removeprefix(STATUS_PREFIX)

        def edit(data: dict[str, Any]) -> dict[str, Any]:
            if data.get("status") == "COMPLETED":
                if request_id in self.completed:
                    return {**data, "status": "PROCESSING", "output": None, "completed_at": None}
                self.completed.add(request_id)
            return data

        return status, headers, _json_edit(body, edit)


BREAKAGES: dict[str, Callable[[], Rewrite | None]] = {
    "none": lambda: None,
    "accepted-200": lambda: accepted_200,
    "completed-goes-back": CompletedGoesBack,
    "no-polling-url": lambda: no_polling_url,
    "500-on-bad-input": lambda: server_error_on_bad_input,
    "wrong-402-message": lambda: wrong_402_message,
    "one-media-url-short": lambda: one_media_url_short,
    "png-for-jpeg": lambda: png_for_jpeg,
    "429-without-retry-after": lambda: no_retry_after,
}


def ignoring_outcome_faults(app: App) -> App:
    """The control API accepts a fault rule with an ``outcome`` (201) and drops it."""

    async def wrapped(scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or (scope["method"], scope["path"]) != ("POST", "/_mock/faults"):
            await app(scope, receive, send)
            return
        chunks = []
        while True:
            message = await receive()
            chunks.append(message.get("body", b""))
            if not message.get("more_body"):
                break
        body = b"".join(chunks)
        if b'"outcome"' not in body:
            replay = iter([{"type": "http.request", "body": body, "more_body": False}])

            async def again() -> Message:
                return next(replay, {"type": "http.disconnect"})

            await app(scope, again, send)
            return
        answer = json.dumps({"id": "ignored"}).encode()
        headers = [(b"content-type", b"application/json"), (b"content-length", b"%d" % len(answer))]
        await send({"type": "http.response.start", "status": 201, "headers": headers})
        await send({"type": "http.response.body", "body": answer})

    return wrapped


# Breakages of the control API itself (the rewrites above leave /_mock/ alone).
APP_BREAKAGES: dict[str, Callable[[App], App]] = {
    "outcome-faults-ignored": ignoring_outcome_faults,
}


def breaking(app: App, rewrite: Rewrite) -> App:
    """An ASGI app answering like ``app``, with every HTTP response passed through
    ``rewrite`` (the control API under /_mock/ is left alone)."""

    async def wrapped(scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or scope["path"].startswith("/_mock/"):
            await app(scope, receive, send)
            return
        started: dict[str, Any] = {}
        chunks: list[bytes] = []

        async def capture(message: Message) -> None:
            if message["type"] == "http.response.start":
                started.update(message)
            elif message["type"] == "http.response.body":
                chunks.append(message.get("body", b""))

        await app(scope, receive, capture)
        headers = {k.decode().lower(): v.decode() for k, v in started.get("headers", [])}
        status, headers, body = rewrite(
            scope["method"], scope["path"], int(started["status"]), headers, b"".join(chunks)
        )
        headers["content-length"] = str(len(body))
        raw = [(k.encode(), v.encode()) for k, v in headers.items()]
        await send({"type": "http.response.start", "status": status, "headers": raw})
        await send({"type": "http.response.body", "body": body})

    return wrapped


def main(argv: list[str]) -> int:
    import uvicorn

    from mock_gateway.config.settings import Settings
    from mock_gateway.web.app import create_app
    from mock_gateway.web.server import listening_socket

    name = argv[0] if argv else "none"
    app: App = create_app(Settings.load(timing="fast"))
    if name in APP_BREAKAGES:
        app = APP_BREAKAGES[name](app)
    elif (rewrite := BREAKAGES[name]()) is not None:
        app = breaking(app, rewrite)
    sock = listening_socket("127.0.0.1", 0)
    print(f"listening on http://127.0.0.1:{sock.getsockname()[1]}", flush=True)
    config = uvicorn.Config(app, log_level="warning", lifespan="on")
    uvicorn.Server(config).run(sockets=[sock])
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
