"""Gateway and Job: the blocking client, a thin I/O loop over the shared logic in ``_base``."""

from __future__ import annotations

import os
import time
from collections.abc import Callable, Iterator, Mapping, Sequence
from pathlib import Path
from typing import Any

import httpx

from seedream_client._base import BaseGateway
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


class Job(BaseJob):
    """A submitted request. ``wait()`` polls until it ends; ``download()`` saves its images."""

    def __init__(self, gateway: Gateway, request_id: str, **info: Any) -> None:
        super().__init__(request_id, **info)
        self._gateway = gateway

    def status(self) -> JobStatus:
        self.last_status = self._gateway.status(self.request_id)
        return self.last_status

    def updates(self, timeout: float | None = None) -> Iterator[JobStatus]:
        """Each new status until the job ends (the first poll's answer included)."""
        for status in self._gateway.updates(self.request_id, timeout=timeout):
            self.last_status = status
            yield status

    def wait(self, timeout: float | None = None, *, on_update: OnUpdate | None = None) -> JobStatus:
        """Poll until COMPLETED; raise JobFailedError, JobErrorError or WaitTimeoutError."""
        self.last_status = self._gateway.wait(self.request_id, timeout=timeout, on_update=on_update)
        return self.last_status

    def download(self, directory: PathArg, *, timeout: float | None = None) -> list[Path]:
        """Wait if needed, then save every output image into ``directory``."""
        if self.last_status is None or not self.last_status.is_terminal:
            self.wait(timeout)
        assert self.last_status is not None
        return self._gateway.download(self.last_status, directory)


class Gateway(BaseGateway):
    """Blocking client of the Seedream gateway. Use as a context manager to close connections.

    ``api_key`` and ``base_url`` default to ``$PIXAZO_API_KEY`` and ``$PIXAZO_BASE_URL`` (else
    the live gateway). ``timeout`` applies to each HTTP request; ``max_retries`` to 429, 5xx and
    connection failures (see RetryPolicy for what a submit may retry); ``http_client`` is yours
    to close; ``poll`` paces ``wait``; ``prices`` feeds estimates and ``max_cost``;
    ``webhook_secret`` lets ``gateway.webhooks`` verify callbacks; ``sleep`` is for tests.
    """

    def __init__(
        self,
        api_key: str | None = None,
        base_url: str | None = None,
        *,
        timeout: float | httpx.Timeout | None = None,
        max_retries: int = 2,
        http_client: httpx.Client | None = None,
        poll: PollPolicy | None = None,
        retry: RetryPolicy | None = None,
        prices: PriceTable | None = None,
        webhook_secret: str | None = None,
        sleep: Callable[[float], None] | None = None,
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
        self._http = http_client or httpx.Client(timeout=self.timeout)
        self._sleep = sleep or time.sleep

    def close(self) -> None:
        """Close the connections (not those of an ``http_client`` you passed in)."""
        if self._owns_http:
            self._http.close()

    def __enter__(self) -> Gateway:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.close()

    def _call(
        self, kind: CallKind, what: str, send: Callable[[], httpx.Response], rid: str | None = None
    ) -> httpx.Response:
        attempt = 0
        while True:
            try:
                response = send()
            except httpx.TransportError as exc:
                delay = self._next_delay(kind, attempt, what, exc=exc)
            else:
                delay = self._next_delay(kind, attempt, what, response=response, request_id=rid)
            if delay is None:
                return response
            self._sleep(delay)
            attempt += 1

    def _submit(self, kind: Kind, args: Mapping[str, Any]) -> Job:
        prepared = self._prepare(kind, args)
        request = self._submit_request(self._http, prepared)
        response = self._call(CallKind.SUBMIT, f"submit {prepared.operation.path}",
                              lambda: self._http.send(request))  # fmt: skip
        submitted = Submitted.from_body(body_of(response))
        return Job(self, submitted.request_id, model=prepared.model,
                   estimated_cost=prepared.estimated_cost,
                   polling_url=submitted.polling_url)  # fmt: skip

    def text_to_image(
        self, prompt: str, *, model: TextModel = "seedream-5-0-lite",
        image_size: ImageSize | None = None, num_images: int | None = None,
        seed: int | None = None, enable_safety_checker: bool | None = None,
        size: str | None = None, watermark: bool | None = None,
        webhook_url: str | None = None, max_cost: Money | None = None,
    ) -> Job:  # fmt: skip
        """Submit a text-to-image request (5.0 Lite: image_size, num_images, enable_safety_checker;
        4.5: size, watermark)."""
        return self._submit("text_to_image", locals())

    def edit(
        self, prompt: str, image: ImageInput | Sequence[ImageInput], *,
        model: EditModel = "seedream-5-0-lite", image_size: ImageSize | None = None,
        num_images: int | None = None, seed: int | None = None,
        enable_safety_checker: bool | None = None, size: str | None = None,
        guidance_scale: float | None = None, watermark: bool | None = None,
        webhook_url: str | None = None, max_cost: Money | None = None,
    ) -> Job:  # fmt: skip
        """Submit an edit. 5.0 Lite takes image URLs; 4.5 and SeedEdit 3.0 take one URL, a local
        file (Path) or bytes, sent as a data URL."""
        return self._submit("edit", locals())

    def multi_edit(
        self, prompt: str, images: Sequence[str], *, model: MultiEditModel | None = None,
        size: str | None = None, seed: int | None = None, watermark: bool | None = None,
        webhook_url: str | None = None, max_cost: Money | None = None,
    ) -> Job:  # fmt: skip
        """Submit a multi-image edit (2+ image URLs; the gateway's default model unless given)."""
        return self._submit("multi_edit", locals())

    def job(self, request_id: str) -> Job:
        """A handle on an existing request, e.g. to resume waiting after a WaitTimeoutError."""
        return Job(self, request_id)

    def status(self, request_id: str) -> JobStatus:
        """The job's current status (polls are always safe to retry)."""
        request = self._status_request(self._http, request_id)
        response = self._call(CallKind.POLL, f"status {request_id}",
                              lambda: self._http.send(request), request_id)  # fmt: skip
        return JobStatus.from_body(body_of(response))

    def updates(self, request_id: str, *, timeout: float | None = None) -> Iterator[JobStatus]:
        """Poll and yield each new status until the job ends or ``timeout`` passes."""
        waiter = Waiter(request_id, timeout, self.poll)
        while True:
            status = self.status(request_id)
            if waiter.observe(status):
                yield status
            if status.is_terminal:
                return
            self._sleep(waiter.next_delay())

    def wait(
        self, request_id: str, *, timeout: float | None = None, on_update: OnUpdate | None = None
    ) -> JobStatus:
        """Poll until COMPLETED; raise JobFailedError, JobErrorError or WaitTimeoutError."""
        last: JobStatus | None = None
        for last in self.updates(request_id, timeout=timeout):
            if on_update is not None:
                on_update(last)
        assert last is not None
        return finish(last)

    def download(self, status: JobStatus | str, directory: PathArg) -> list[Path]:
        """Save a finished job's images into ``directory`` (waiting first if given an id)."""
        status = self.wait(status) if isinstance(status, str) else finish(status)
        folder = Path(directory)
        folder.mkdir(parents=True, exist_ok=True)
        return [self._download_one(status, i, folder) for i in range(len(status.media_urls))]

    def _download_one(self, status: JobStatus, index: int, folder: Path) -> Path:
        url, saved = status.media_urls[index], []

        def send() -> httpx.Response:
            request = self._download_request(self._http, url)
            response = self._http.send(request, stream=True, follow_redirects=True)
            try:
                if response.status_code >= 400:
                    response.read()
                    return response
                path = download_path(
                    folder, status, index, url, response.headers.get("content-type")
                )
                part = partial_path(path)
                try:
                    with part.open("wb") as file:
                        for chunk in response.iter_bytes():
                            file.write(chunk)
                except BaseException:
                    part.unlink(missing_ok=True)
                    raise
                saved.append(part.replace(path))
                return response
            finally:
                response.close()

        self._call(CallKind.DOWNLOAD, f"download {url}", send, status.request_id)
        return saved[-1]

    def run(
        self, prompt: str, images: ImageInput | Sequence[ImageInput] | None = None, *,
        model: str | None = None, timeout: float | None = None,
        download_to: PathArg | None = None, on_update: OnUpdate | None = None,
        webhook_url: str | None = None, max_cost: Money | None = None, **options: Any,
    ) -> Result:  # fmt: skip
        """Submit (text_to_image, edit or multi_edit, from the images and model), wait, and
        optionally download; return the final status, the saved files and the estimated cost."""
        kind = kind_for(images, model)
        args = {**options, "prompt": prompt, "images": images, "model": model,
                "webhook_url": webhook_url, "max_cost": max_cost}  # fmt: skip
        job = self._submit(kind, args)
        status = job.wait(timeout, on_update=on_update)
        files = self.download(status, download_to) if download_to is not None else []
        return Result(status, tuple(files), job.estimated_cost)
