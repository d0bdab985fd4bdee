"""Bad input always gets a clear 400 (or 413) in the documented shape, never a 500."""

from __future__ import annotations

import asyncio
import base64
import io
import json
from typing import Any

import httpx
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from PIL import Image

from gateway_helpers import BP_EDIT, BP_MULTI, BP_T2I, CAT, EDIT, KEY, T2I
from url_strategies import url_like

pytestmark = pytest.mark.anyio


def data_url(fmt: str = "PNG", size: tuple[int, int] = (64, 48), mime: str = "png") -> str:
    buffer = io.BytesIO()
    Image.new("RGB", size, (200, 30, 30)).save(buffer, fmt)
    return f"data:image/{mime};base64," + base64.b64encode(buffer.getvalue()).decode()


CASES: list[tuple[str, str, Any, str]] = [
    ("missing prompt", T2I, {"num_images": 1}, "prompt: is required"),
    ("blank prompt", T2I, {"prompt": "   "}, "prompt: must not be blank"),
    ("prompt not a string", T2I, {"prompt": 5}, "prompt: must be a string"),
    ("num_images 0", T2I, {"prompt": "x", "num_images": 0}, "num_images: must be between 1 and 4"),
    ("num_images 5", T2I, {"prompt": "x", "num_images": 5}, "num_images: must be between 1 and 4"),
    ("num_images bool", T2I, {"prompt": "x", "num_images": True}, "num_images: must be an integer"),
    ("seed -2", BP_T2I, {"prompt": "x", "seed": -2}, "seed: must be between -1 and 2147483647"),
    ("seed too big", T2I, {"prompt": "x", "seed": 2147483648}, "seed: must be between -1 and"),
    (
        "guidance low",
        BP_EDIT,
        {"prompt": "x", "image": CAT, "guidance_scale": 0.5},
        "guidance_scale",
    ),
    (
        "guidance high",
        BP_EDIT,
        {"prompt": "x", "image": CAT, "guidance_scale": 11},
        "guidance_scale",
    ),
    ("multi with one", BP_MULTI, {"prompt": "x", "image": [CAT]}, "image: must contain at least 2"),
    ("edit without images", EDIT, {"prompt": "x", "image_urls": []}, "image_urls: must contain at"),
    ("bad preset", T2I, {"prompt": "x", "image_size": "huge"}, "image_size: must be one of the"),
    (
        "zero custom size",
        T2I,
        {"prompt": "x", "image_size": {"width": 0, "height": 512}},
        "image_size",
    ),
    (
        "negative custom size",
        EDIT,
        {"prompt": "x", "image_urls": [CAT], "image_size": {"width": 512, "height": -1}},
        "image_size",
    ),
    ("gif url", EDIT, {"prompt": "x", "image_urls": ["https://a.example/x.gif"]}, "format '.gif'"),
    ("not a url", EDIT, {"prompt": "x", "image_urls": ["cat.jpg"]}, "must be an http(s) URL"),
    ("bad data url", BP_EDIT, {"prompt": "x", "image": "data:image/png;base64,!!!"}, "image"),
    (
        "data url not an image",
        BP_EDIT,
        {"prompt": "x", "image": "data:image/png;base64," + base64.b64encode(b"hello").decode()},
        "image:",
    ),
    ("data url gif", BP_EDIT, {"prompt": "x", "image": data_url("GIF", mime="svg")}, "image"),
    ("size for 4.5", BP_EDIT, {"prompt": "x", "image": CAT, "size": "8K"}, "size: must be one of"),
    (
        "adaptive on 4.5",
        BP_EDIT,
        {"prompt": "x", "image": CAT, "size": "adaptive", "model": "seedream-4-5-251128"},
        "size: must be one of 2K, 4K",
    ),
    ("array body", T2I, [{"prompt": "x"}], "body: must be a JSON object"),
    ("string body", T2I, "prompt", "body: must be a JSON object"),
]


@pytest.mark.parametrize(
    ("path", "body", "fragment"), [c[1:] for c in CASES], ids=[c[0] for c in CASES]
)
async def test_invalid_body_gets_400_naming_field_and_rule(
    client: httpx.AsyncClient, path: str, body: Any, fragment: str
) -> None:
    response = await client.post(path, json=body, headers=KEY)
    assert response.status_code == 400, response.text
    payload = response.json()
    assert set(payload) == {"error", "message"}
    assert payload["error"] == "Bad Request"
    assert fragment in payload["message"]


async def test_unknown_model_is_documented_model_not_found(client: httpx.AsyncClient) -> None:
    response = await client.post(BP_T2I, json={"prompt": "x", "model": "gpt-image"}, headers=KEY)
    assert response.status_code == 400
    assert response.json() == {
        "error": "Model not found",
        "message": "Model 'gpt-image' not found or is disabled",
    }


async def test_valid_data_url_edit_is_accepted_and_sized_from_input(
    client: httpx.AsyncClient, clock: Any
) -> None:
    body = {"prompt": "x", "image": data_url(size=(300, 200)), "model": "seededit-3-0-i2i-250628"}
    response = await client.post(BP_EDIT, json=body, headers=KEY)
    assert response.status_code == 202, response.text
    clock.advance(60)
    status = (await client.get(response.json()["polling_url"], headers=KEY)).json()
    image = await client.get(status["output"]["media_url"][0])
    assert Image.open(io.BytesIO(image.content)).size == (300, 200)


async def test_unknown_fields_are_ignored(client: httpx.AsyncClient) -> None:
    body = {"prompt": "x", "style": "anime", "response_format": "b64_json"}
    assert (await client.post(BP_T2I, json=body, headers=KEY)).status_code == 202


@pytest.mark.parametrize(
    ("content", "content_type", "fragment"),
    [
        (b'{"prompt": "x"', "application/json", "body: malformed JSON"),
        (b"\xff\xfe", "application/json", "body:"),
        (b"", "application/json", "body: malformed JSON"),
        (b'{"prompt": "x"}', "text/plain", "Content-Type: must be application/json"),
        (b'{"prompt": "x"}', "", "Content-Type: must be application/json"),
        (b"[" * 100_000, "application/json", "body:"),
    ],
)
async def test_unparseable_requests_get_400(
    client: httpx.AsyncClient, content: bytes, content_type: str, fragment: str
) -> None:
    headers = {**KEY, "Content-Type": content_type} if content_type else KEY
    response = await client.post(T2I, content=content, headers=headers)
    assert response.status_code == 400
    assert fragment in response.json()["message"]


async def test_oversized_body_gets_413(client: httpx.AsyncClient) -> None:
    huge = json.dumps({"prompt": "x", "pad": "a" * (21 * 1024 * 1024)})
    response = await client.post(
        T2I, content=huge, headers={**KEY, "Content-Type": "application/json"}
    )
    assert response.status_code == 413
    assert response.json()["error"] == "Payload Too Large"


@pytest.mark.parametrize("url", ["ftp://x/y", "not a url", "http://", "https://host:99999/x"])
async def test_invalid_webhook_url_is_400(client: httpx.AsyncClient, url: str) -> None:
    response = await client.post(T2I, json={"prompt": "x"}, headers={**KEY, "X-Webhook-URL": url})
    assert response.status_code == 400
    assert "X-Webhook-URL" in response.json()["message"]


# Strings sometimes carry lone surrogates, which json.dumps escapes as "\udxxx"; and often
# look like URLs (brackets, IDNA hosts, bad ports, userinfo, other schemes): urlsplit raised
# on some of those, which once made the image fields answer 500.
texts = (
    st.text(alphabet=st.characters() | st.integers(0xD800, 0xDFFF).map(chr), max_size=20) | url_like
)
json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats() | texts,
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(texts, inner, max_size=5),
    max_leaves=20,
)
fields = st.sampled_from(
    [
        "prompt",
        "image",
        "image_urls",
        "image_size",
        "num_images",
        "seed",
        "size",
        "model",
        "guidance_scale",
        "watermark",
        "enable_safety_checker",
    ]
)
bodies = st.dictionaries(fields, json_values, max_size=6) | json_values


@settings(max_examples=150, deadline=None, suppress_health_check=list(HealthCheck))
@given(path=st.sampled_from([T2I, EDIT, BP_EDIT, BP_T2I, BP_MULTI]), body=bodies)
def test_no_input_produces_a_server_error(app: Any, path: str, body: Any) -> None:
    async def call() -> httpx.Response:
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url="http://m") as http:
            return await http.post(
                path, content=json.dumps(body), headers={**KEY, "Content-Type": "application/json"}
            )

    import asyncio

    response = asyncio.run(call())
    assert response.status_code in (202, 400, 402), response.text
    if response.status_code != 202:
        assert set(response.json()) == {"error", "message"}


@settings(max_examples=150, deadline=None, suppress_health_check=list(HealthCheck))
@given(path=st.sampled_from([T2I, BP_EDIT, BP_MULTI]), url=url_like, image=url_like)
def test_no_url_produces_a_server_error(app: Any, path: str, url: str, image: str) -> None:
    """URL-shaped strings in X-Webhook-URL and in the image fields: a 202 or a clear 400."""
    body: dict[str, Any] = {"prompt": "x"}
    if path == BP_EDIT:
        body["image"] = image
    elif path == BP_MULTI:
        body["image"] = [CAT, image]
    # Header values are bytes: UTF-8 here, read back by the server as latin-1.
    headers = [(name.encode(), value.encode()) for name, value in KEY.items()]
    headers.append((b"Content-Type", b"application/json"))
    if "\r" not in url and "\n" not in url:
        headers.append((b"X-Webhook-URL", url.encode("utf-8")))

    async def call() -> httpx.Response:
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url="http://m") as http:
            return await http.post(path, content=json.dumps(body), headers=headers)

    response = asyncio.run(call())
    assert response.status_code in (202, 400), (url, image, response.text)
    if response.status_code == 400:
        assert set(response.json()) == {"error", "message"}


async def test_undocumented_fields_change_nothing(client: httpx.AsyncClient, app: Any) -> None:
    broke = {"Ocp-Apim-Subscription-Key": "broke-key"}
    stray = {"prompt": "x", "num_images": 4, "enable_safety_checker": False}
    response = await client.post(BP_T2I, json=stray, headers=broke)
    assert response.json()["message"].endswith("Required: $0.2")  # one image, not four
    accepted = await client.post(T2I, json={"prompt": "x", "watermark": True}, headers=KEY)
    job = app.state.mock.core.queue.get(accepted.json()["request_id"])
    assert job is not None and job.spec.watermark is False


async def test_integral_float_seed_is_accepted(client: httpx.AsyncClient, app: Any) -> None:
    accepted = await client.post(T2I, json={"prompt": "x", "seed": 42.0}, headers=KEY)
    assert accepted.status_code == 202
    job = app.state.mock.core.queue.get(accepted.json()["request_id"])
    assert job is not None and job.seed == 42 and isinstance(job.seed, int)


async def test_a_job_keeps_data_urls_shortened(client: httpx.AsyncClient, app: Any) -> None:
    image = data_url(size=(40, 30))
    accepted = await client.post(BP_EDIT, json={"prompt": "x", "image": image}, headers=KEY)
    job = app.state.mock.core.queue.get(accepted.json()["request_id"])
    assert job is not None
    assert job.spec.inputs == (f"data:image/png;base64,... ({len(image)} characters)",)
    assert len(job.spec.input_images) == 1  # the decoded pixels are what rendering uses


@pytest.mark.parametrize(
    ("content", "fragment"),
    [
        (b'{"prompt": "x", "seed": ' + b"9" * 5000 + b"}", "body: malformed JSON"),
        (b'{"prompt": "\\ud800 half a pair"}', "lone UTF-16 surrogate"),
        (b'{"prompt": "x", "\\udfff": 1}', "lone UTF-16 surrogate"),
    ],
    ids=["5000-digit integer", "lone surrogate in a value", "lone surrogate in a key"],
)
async def test_json_python_cannot_take_is_a_400(
    client: httpx.AsyncClient, content: bytes, fragment: str
) -> None:
    headers = {**KEY, "Content-Type": "application/json"}
    response = await client.post(T2I, content=content, headers=headers)
    assert response.status_code == 400
    assert fragment in response.json()["message"]
    journal = await client.get("/_mock/requests")  # echoes the body without choking on it
    assert journal.status_code == 200


async def test_escaped_surrogate_pairs_are_ordinary_text(
    client: httpx.AsyncClient, clock: Any
) -> None:
    content = b'{"prompt": "a lion \\ud83e\\udd81"}'
    response = await client.post(
        T2I, content=content, headers={**KEY, "Content-Type": "application/json"}
    )
    assert response.status_code == 202
    clock.advance(60)
    status = (await client.get(response.json()["polling_url"], headers=KEY)).json()
    assert (await client.get(status["output"]["media_url"][0])).status_code == 200


@settings(max_examples=100, deadline=None, suppress_health_check=list(HealthCheck))
@given(path=st.sampled_from([T2I, BP_EDIT]), content=st.binary(max_size=300))
def test_no_byte_string_produces_a_server_error(app: Any, path: str, content: bytes) -> None:
    async def call() -> httpx.Response:
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url="http://m") as http:
            headers = {**KEY, "Content-Type": "application/json"}
            return await http.post(path, content=content, headers=headers)

    response = asyncio.run(call())
    assert response.status_code in (202, 400), response.text  # 202 only for a valid body
    if response.status_code == 400:
        assert set(response.json()) == {"error", "message"}
