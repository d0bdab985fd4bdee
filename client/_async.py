"""AsyncGateway and AsyncJob: the async mirror of ``_sync`` (kept in step by a parity test).

Nothing here blocks the event loop: sleeps are ``anyio.sleep``, local image files are read and
encoded in a worker thread, and downloads are written through anyio's thread-backed files.
"""

from __future__ import annotations

import os
from collections.abc import AsyncIterator, Awaitable, Callable, Mapping, Sequence
from pathlib import Path
from typing import Any

import anyio
import anyio.to_thread
import httpx

from seedream_client._base import BaseGateway, needs_thread
from seedream_client._build import (
    EditModel,
    ImageInput,
    ImageSize,
    Kind,
    Money,
    MultiEditModel,
    TextModel,
    kind_for,
)
from seedream_client._jobs import BaseJob, Waiter, download_path, finish, partial_path
from seedream_client._models import JobStatus, PriceTable, Result, Submitted
from seedream_client._retry import CallKind, PollPolicy, RetryPolicy, body_of

OnUpdate = Callable[[JobStatus], object]
PathArg = str | os.PathLike[str]


class AsyncJob(BaseJob):
    """A submitted request. ``await wait()`` polls until it ends; ``async for`` its updates."""

    def __init__(self, gateway: AsyncGateway, request_id: str, **info: Any) -> None:
        super().__init__(request_id, **info)
        self._gateway = gateway

    async def status(self) -> JobStatus:
        self.last_status = await self._gateway.status(self.request_id)
        return self.last_status

    async def updates(self, timeout: float | None = None) -> AsyncIterator[JobStatus]:
        """Each new status until the job ends (the first poll's answer included)."""
        async for status in self._gateway.updates(self.request_id, timeout=timeout):
            self.last_status = status
            yield status

    async def wait(
        self, timeout: float | None = None, *, on_update: OnUpdate | None = None
    ) -> JobStatus:
        """Poll until COMPLETED; raise JobFailedError, JobErrorError or WaitTimeoutError."""
        self.last_status = await self._gateway.wait(
            self.request_id, timeout=timeout, on_update=on_update
        )
        return self.last_status

    async def download(self, directory: PathArg, *, timeout: float | None = None) -> list[Path]:
        """Wait if needed, then save every output image into ``directory``."""
        if self.last_status is None or not self.last_status.is_terminal:
            await self.wait(timeout)
        assert self.last_status is not None
        return await self._gateway.download(self.last_status, directory)


class AsyncGateway(BaseGateway):
    """Async client of the Seedream gateway (asyncio or trio, through anyio); the arguments
    are those of ``Gateway``, with an ``httpx.AsyncClient`` and an async ``sleep``."""

    def __init__(
        self,
        api_key: str | None = None,
        base_url: str | None = None,
        *,
        timeout: float | httpx.Timeout | None = None,
        max_retries: int = 2,
        http_client: httpx.AsyncClient | None = None,
        poll: PollPolicy | None = None,
        retry: RetryPolicy | None = None,
        prices: PriceTable | None = None,
        webhook_secret: str | None = None,
        sleep: Callable[[float], Awaitable[None]] | None = None,
    ) -> None:
        super().__init__(
            api_key,
            base_url,
            timeout=timeout,
            max_retries=max_retries,
            poll=poll,
            retry=retry,
            prices=prices,
            webhook_secret=webhook_secret,
            client_timeout=http_client.timeout if http_client is not None else None,
        )
        self._owns_http = http_client is None
        self._http = http_client or httpx.AsyncClient(timeout=self.timeout)
        self._sleep = sleep or anyio.sleep

    async def close(self) -> None:
        """Close the connections (not those of an ``http_client`` you passed in)."""
        if self._owns_http:
            await self._http.aclose()

    async def __aenter__(self) -> AsyncGateway:
        return self

    async def __aexit__(self, *exc_info: object) -> None:
        await self.close()

    async def _call(
        self,
        kind: CallKind,
        what: str,
        send: Callable[[], Awaitable[httpx.Response]],
        rid: str | None = None,
    ) -> httpx.Response:
        attempt = 0
        while True:
            try:
                response = await send()
            except httpx.TransportError as exc:
                delay = self._next_delay(kind, attempt, what, exc=exc)
            else:
                delay = self._next_delay(kind, attempt, what, response=response, request_id=rid)
            if delay is None:
                return response
            await self._sleep(delay)
            attempt += 1

    async def _submit(self, kind: Kind, args: Mapping[str, Any]) -> AsyncJob:
        if needs_thread(args.get("images", args.get("image"))):
            prepared = await anyio.to_thread.run_sync(self._prepare, kind, args)
        else:
            prepared = self._prepare(kind, args)
        request = self._submit_request(self._http, prepared)
        response = await self._call(CallKind.SUBMIT, f"submit {prepared.operation.path}",
                                    lambda: self._http.send(request))  # fmt: skip
        submitted = Submitted.from_body(body_of(response))
        return AsyncJob(self, submitted.request_id, model=prepared.model,
                        estimated_cost=prepared.estimated_cost,
                        polling_url=submitted.polling_url)  # fmt: skip

    async def text_to_image(
        self, prompt: str, *, model: TextModel = "seedream-5-0-lite",
        image_size: ImageSize | None = None, num_images: int | None = None,
        seed: int | None = None, enable_safety_checker: bool | None = None,
        size: str | None = None, watermark: bool | None = None,
        webhook_url: str | None = None, max_cost: Money | None = None,
    ) -> AsyncJob:  # fmt: skip
        """Submit a text-to-image request (see ``Gateway.text_to_image``)."""
        return await self._submit("text_to_image", locals())

    async def edit(
        self, prompt: str, image: ImageInput | Sequence[ImageInput], *,
        model: EditModel = "seedream-5-0-lite", image_size: ImageSize | None = None,
        num_images: int | None = None, seed: int | None = None,
        enable_safety_checker: bool | None = None, size: str | None = None,
        guidance_scale: float | None = None, watermark: bool | None = None,
        webhook_url: str | None = None, max_cost: Money | None = None,
    ) -> AsyncJob:  # fmt: skip
        """Submit an edit (see ``Gateway.edit``); local files are read in a worker thread."""
        return await self._submit("edit", locals())

    async def multi_edit(
        self, prompt: str, images: Sequence[str], *, model: MultiEditModel | None = None,
        size: str | None = None, seed: int | None = None, watermark: bool | None = None,
        webhook_url: str | None = None, max_cost: Money | None = None,
    ) -> AsyncJob:  # fmt: skip
        """Submit a multi-image edit (see ``Gateway.multi_edit``)."""
        return await self._submit("multi_edit", locals())

    def job(self, request_id: str) -> AsyncJob:
        """A handle on an existing request, e.g. to resume waiting after a WaitTimeoutError."""
        return AsyncJob(self, request_id)

    async def status(self, request_id: str) -> JobStatus:
        """The job's current status (polls are always safe to retry)."""
        request = self._status_request(self._http, request_id)
        response = await self._call(CallKind.POLL, f"status {request_id}",
                                    lambda: self._http.send(request), request_id)  # fmt: skip
        return JobStatus.from_body(body_of(response))

    async def updates(
        self, request_id: str, *, timeout: float | None = None
    ) -> AsyncIterator[JobStatus]:
        """Poll and yield each new status until the job ends or ``timeout`` passes."""
        waiter = Waiter(request_id, timeout, self.poll)
        while True:
            status = await self.status(request_id)
            if waiter.observe(status):
                yield status
            if status.is_terminal:
                return
            await self._sleep(waiter.next_delay())

    async def wait(
        self, request_id: str, *, timeout: float | None = None, on_update: OnUpdate | None = None
    ) -> JobStatus:
        """Poll until COMPLETED; raise JobFailedError, JobErrorError or WaitTimeoutError."""
        last: JobStatus | None = None
        async for last in self.updates(request_id, timeout=timeout):
            if on_update is not None:
                on_update(last)
        assert last is not None
        return finish(last)

    async def download(self, status: JobStatus | str, directory: PathArg) -> list[Path]:
        """Save a finished job's images into ``directory`` (waiting first if given an id)."""
        status = await self.wait(status) if isinstance(status, str) else finish(status)
        folder = Path(directory)
        await anyio.Path(folder).mkdir(parents=True, exist_ok=True)
        return [await self._download_one(status, i, folder) for i in range(len(status.media_urls))]

    async def _download_one(self, status: JobStatus, index: int, folder: Path) -> Path:
        url, saved = status.media_urls[index], []

        async def send() -> httpx.Response:
            request = self._download_request(self._http, url)
            response = await self._http.send(request, stream=True, follow_redirects=True)
            try:
                if response.status_code >= 400:
                    await response.aread()
                    return response
                path = download_path(
                    folder, status, index, url, response.headers.get("content-type")
                )
                part = anyio.Path(partial_path(path))
                try:
                    async with await anyio.open_file(part, "wb") as file:
                        async for chunk in response.aiter_bytes():
                            await file.write(chunk)
                except BaseException:
                    with anyio.CancelScope(shield=True):
                        await part.unlink(missing_ok=True)
                    raise
                saved.append(Path(await part.replace(path)))
                return response
            finally:
                await response.aclose()

        await self._call(CallKind.DOWNLOAD, f"download {url}", send, status.request_id)
        return saved[-1]

    async def run(
        self, prompt: str, images: ImageInput | Sequence[ImageInput] | None = None, *,
        model: str | None = None, timeout: float | None = None,
        download_to: PathArg | None = None, on_update: OnUpdate | None = None,
        webhook_url: str | None = None, max_cost: Money | None = None, **options: Any,
    ) -> Result:  # fmt: skip
        """Submit, wait and optionally download (see ``Gateway.run``)."""
        kind = kind_for(images, model)
        args = {**options, "prompt": prompt, "images": images, "model": model,
                "webhook_url": webhook_url, "max_cost": max_cost}  # fmt: skip
        job = await self._submit(kind, args)
        status = await job.wait(timeout, on_update=on_update)
        files = await self.download(status, download_to) if download_to is not None else []
        return Result(status, tuple(files), job.estimated_cost)
