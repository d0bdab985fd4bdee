"""What the mock serves besides the gateway API: generated images (standing in for the
gateway's CDN), the bundled sample inputs, and the contract itself."""

from __future__ import annotations

import json
from typing import TYPE_CHECKING

from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from mock_gateway.core import Job, JobStatus
from mock_gateway.web.parse import base_url, mock_state
from mock_gateway.web.responses import JSONBody, not_found_route

if TYPE_CHECKING:
    from mock_gateway.imaging.render import RenderRequest

_IMAGE_TYPES = {"png": "image/png", "jpg": "image/jpeg", "jpeg": "image/jpeg", "webp": "image/webp"}


def render_request(job: Job, filename: str) -> RenderRequest | None:
    """What to render for one of a completed job's outputs (None: no such output)."""
    names = job.media_filenames()
    if job.status is not JobStatus.COMPLETED or filename not in names:
        return None
    from mock_gateway.imaging.render import RenderRequest  # late: loads Pillow

    spec = job.spec
    return RenderRequest(
        model=spec.model,
        prompt=spec.prompt,
        seed=job.seed,
        width=spec.width,
        height=spec.height,
        media_type=spec.media_type,
        watermark=spec.watermark,
        inputs=spec.input_images,
        index=names.index(filename) + 1,
        unfetched_inputs=len(spec.inputs) - len(spec.input_images),
    )


async def rendered_output(request: Request) -> tuple[Job, bytes] | None:
    """The output ``{request_id}/{filename}`` of a completed job, rendered through the media
    cache (the inspector's thumbnails start from it too); None: no such output."""
    state = mock_state(request)
    request_id: str = request.path_params["request_id"]
    filename: str = request.path_params["filename"]
    state.advance()
    job = state.world.completed_job(request_id)
    render = None if job is None else render_request(job, filename)
    if job is None or render is None:
        return None
    return job, await state.images.get_or_render(f"{request_id}/{filename}", render)


async def media(request: Request) -> Response:
    """``/media/{request_id}/output-N.(png|jpg)``: public like a CDN URL, rendered on first use."""
    output = await rendered_output(request)
    if output is None:
        return not_found_route()
    job, data = output
    return Response(
        data,
        media_type=job.spec.media_type,
        headers={"Cache-Control": "public, max-age=86400, immutable"},
    )


async def sample(request: Request) -> Response:
    state = mock_state(request)
    name: str = request.path_params["name"]
    data = state.samples.get(name)
    if data is None:
        return not_found_route()
    extension = name.rsplit(".", 1)[-1].lower()
    return Response(data, media_type=_IMAGE_TYPES.get(extension, "application/octet-stream"))


async def openapi(request: Request) -> Response:
    """The contract, with this mock listed first among the servers."""
    state = mock_state(request)
    document = dict(state.schemas.document)
    document["servers"] = [
        {"url": base_url(request), "description": "this mock"},
        *[s for s in document.get("servers", []) if "127.0.0.1" not in s.get("url", "")],
    ]
    return Response(json.dumps(document), media_type="application/json")


async def health(request: Request) -> Response:
    """Readiness probe for CI jobs (``/_health``; not part of the gateway's contract)."""
    state = mock_state(request)
    return JSONBody({"status": "ok", "jobs": state.world.job_count()})


def media_routes() -> list[Route]:
    return [
        Route("/media/{request_id}/{filename}", media, methods=["GET"]),
        Route("/samples/{name}", sample, methods=["GET"]),
        Route("/openapi.json", openapi, methods=["GET"]),
        Route("/_health", health, methods=["GET"]),
    ]
