"""The documented endpoints over HTTP (in-process through httpx's ASGI transport)."""

from __future__ import annotations

import asyncio
import io
import json
from pathlib import Path
from typing import Any

import httpx
import pytest
from PIL import Image

from gateway_helpers import BP_MULTI, BP_T2I, CAT, EDIT, KEY, T2I
from mock_gateway.steering.clock import VirtualClock
from mock_gateway.web.responses import APIM_INVALID_KEY, APIM_MISSING_KEY

pytestmark = pytest.mark.anyio

EXAMPLES = sorted((Path(__file__).parent.parent / "fixtures" / "examples").glob("*Submit.json"))
DOCUMENTED = json.loads(
    (Path(__file__).parent.parent / "fixtures" / "examples" / "documented-bodies.json").read_text()
)


def example_id(path: Path) -> str:
    return path.stem


async def run_to_end(client: httpx.AsyncClient, clock: VirtualClock, request_id: str) -> Any:
    clock.advance(3600)
    response = await client.get(f"/v2/requests/status/{request_id}", headers=KEY)
    assert response.status_code == 200
    return response.json()


@pytest.mark.parametrize("example_file", EXAMPLES, ids=example_id)
async def test_documented_example_runs_end_to_end(
    client: httpx.AsyncClient, clock: VirtualClock, example_file: Path
) -> None:
    example = json.loads(example_file.read_text())
    request = example["request"]
    path = httpx.URL(request["url"]).path
    headers = {**request["headers"], **KEY}
    response = await client.post(path, content=json.dumps(request["body"]), headers=headers)
    assert response.status_code == 202, response.text
    body = response.json()
    documented = example["response"]["body"]
    assert set(body) == set(documented)
    assert body["status"] == "QUEUED"
    slug = documented["request_id"].split("_")[0]
    assert body["request_id"].startswith(slug + "_019")
    assert body["polling_url"] == f"http://mock.test/v2/requests/status/{body['request_id']}"

    first = await client.get(body["polling_url"], headers=KEY)
    assert first.json()["status"] == "QUEUED" and first.json()["completed_at"] is None
    final = await run_to_end(client, clock, body["request_id"])
    expected = example["final_status"]
    assert final["status"] == expected["status"] and final["model_id"] == expected["model_id"]
    assert final["error"] is None
    assert set(final) == set(DOCUMENTED["completed_lite_text_to_image"]["body"])
    assert final["output"]["media_type"] == expected["output"]["media_type"]
    urls = final["output"]["media_url"]
    assert len(urls) == 1
    image = await client.get(urls[0])
    assert image.status_code == 200
    assert image.headers["content-type"] == expected["output"]["media_type"]
    decoded = Image.open(io.BytesIO(image.content))
    assert decoded.format == ("PNG" if expected["output"]["media_type"] == "image/png" else "JPEG")
    assert decoded.size == ((1024, 1024) if slug != "byteplus" else decoded.size)


async def test_status_moves_queued_processing_completed(
    client: httpx.AsyncClient, clock: VirtualClock
) -> None:
    body = {"prompt": "a lion", "num_images": 2}
    accepted = (await client.post(T2I, json=body, headers=KEY)).json()
    seen = []
    for _ in range(20):
        status = (await client.get(accepted["polling_url"], headers=KEY)).json()
        seen.append(status["status"])
        clock.advance(0.1)
    assert seen[0] == "QUEUED" and "PROCESSING" in seen and seen[-1] == "COMPLETED"
    assert seen == sorted(seen, key=["QUEUED", "PROCESSING", "COMPLETED"].index)
    assert len(status["output"]["media_url"]) == 2
    assert status["created_at"] <= status["updated_at"] == status["completed_at"]


@pytest.mark.parametrize(
    ("headers", "message"),
    [({}, APIM_MISSING_KEY), ({"Ocp-Apim-Subscription-Key": "nope"}, APIM_INVALID_KEY)],
)
async def test_missing_or_unknown_key_gets_apim_401(
    client: httpx.AsyncClient, headers: dict[str, str], message: str
) -> None:
    for response in (
        await client.post(T2I, json={"prompt": "x"}, headers=headers),
        await client.get("/v2/requests/status/byteplus_x", headers=headers),
    ):
        assert response.status_code == 401
        assert response.json() == {"statusCode": 401, "message": message}


async def test_forbidden_key_gets_apim_403(client: httpx.AsyncClient) -> None:
    response = await client.post(
        T2I, json={"prompt": "x"}, headers={"Ocp-Apim-Subscription-Key": "forbidden-key"}
    )
    assert response.status_code == 403
    assert response.json()["statusCode"] == 403
    assert response.json()["message"].startswith("Out of call volume quota.")
    # and the README and the banner describe the key by that answer
    root = Path(__file__).resolve().parent.parent
    [row] = [line for line in (root / "README.md").read_text().splitlines()
             if line.startswith("| `forbidden-key`")]  # fmt: skip
    assert "Out of call volume quota" in row and "call quota" in row
    assert "quota" in (root / "fixtures" / "keys.toml").read_text().split("forbidden-key")[1]


async def test_key_in_query_string_is_accepted(client: httpx.AsyncClient) -> None:
    response = await client.post(T2I + "?subscription-key=test-key", json={"prompt": "x"})
    assert response.status_code == 202
    empty_header = {"Ocp-Apim-Subscription-Key": ""}  # an empty header does not hide it
    response = await client.post(
        T2I + "?subscription-key=test-key", json={"prompt": "x"}, headers=empty_header
    )
    assert response.status_code == 202


@pytest.mark.parametrize(
    ("path", "body", "required"),
    [
        (T2I, {"prompt": "x"}, "$0.035"),
        (EDIT, {"prompt": "x", "image_urls": [CAT]}, "$0.035"),
        (T2I, {"prompt": "x", "num_images": 4}, "$0.14"),
        (BP_T2I, {"prompt": "x"}, "$0.2"),
        (BP_MULTI, {"prompt": "x", "image": [CAT, CAT]}, "$0.2"),
    ],
)
async def test_broke_key_gets_documented_402(
    client: httpx.AsyncClient, path: str, body: dict[str, Any], required: str
) -> None:
    response = await client.post(
        path, json=body, headers={"Ocp-Apim-Subscription-Key": "broke-key"}
    )
    assert response.status_code == 402
    assert response.json() == {
        "error": "Insufficient Balance",
        "message": f"Your wallet does not have enough balance. Required: {required}",
    }


async def test_request_is_invisible_to_other_keys(client: httpx.AsyncClient) -> None:
    accepted = (await client.post(T2I, json={"prompt": "x"}, headers=KEY)).json()
    other = {"Ocp-Apim-Subscription-Key": "limited-key"}
    response = await client.get(accepted["polling_url"], headers=other)
    assert response.status_code == 404
    assert response.json()["error"] == "Request not found"
    unknown = await client.get("/v2/requests/status/byteplus_nothing", headers=KEY)
    assert unknown.status_code == 404


async def test_unknown_routes_and_methods_get_apim_404(client: httpx.AsyncClient) -> None:
    for response in (
        await client.get("/nope", headers=KEY),
        await client.get(T2I, headers=KEY),
        await client.delete("/v2/requests/status/x", headers=KEY),
    ):
        assert response.status_code == 404
        assert response.json() == {"statusCode": 404, "message": "Resource not found"}


async def test_concurrent_submits_never_overdraw(app: Any, client: httpx.AsyncClient) -> None:
    state = app.state.mock
    state.core.wallet.set_balance("test-key", 350_000)  # exactly ten 5.0 Lite images
    responses = await asyncio.gather(
        *[client.post(T2I, json={"prompt": f"p{i}"}, headers=KEY) for i in range(25)]
    )
    codes = sorted(r.status_code for r in responses)
    assert codes.count(202) == 10 and codes.count(402) == 15
    assert state.core.wallet.balance("test-key") == 0


async def test_safety_checker_fails_flagged_prompt(
    client: httpx.AsyncClient, clock: VirtualClock
) -> None:
    flagged = (await client.post(T2I, json={"prompt": "nsfw cat"}, headers=KEY)).json()
    allowed = (
        await client.post(
            T2I, json={"prompt": "nsfw cat", "enable_safety_checker": False}, headers=KEY
        )
    ).json()
    failed = await run_to_end(client, clock, flagged["request_id"])
    assert failed["status"] == "FAILED" and failed["output"] is None
    assert "safety checker" in failed["error"]
    completed = await run_to_end(client, clock, allowed["request_id"])
    assert completed["status"] == "COMPLETED"


async def test_rate_limited_key_gets_429_with_retry_after(
    client: httpx.AsyncClient, clock: VirtualClock
) -> None:
    headers = {"Ocp-Apim-Subscription-Key": "limited-key"}
    codes = [(await client.post(T2I, json={"prompt": "x"}, headers=headers)) for _ in range(3)]
    assert [r.status_code for r in codes] == [202, 202, 429]
    limited = codes[-1]
    retry_after = int(limited.headers["retry-after"])
    assert retry_after == 30
    assert limited.json() == {
        "statusCode": 429,
        "message": f"Rate limit is exceeded. Try again in {retry_after} seconds.",
    }
    clock.advance(retry_after)
    assert (await client.post(T2I, json={"prompt": "x"}, headers=headers)).status_code == 202


async def test_polling_url_follows_the_host_used(app: Any) -> None:
    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(transport=transport, base_url="http://10.1.2.3:9999") as http:
        accepted = (await http.post(T2I, json={"prompt": "x"}, headers=KEY)).json()
    assert accepted["polling_url"].startswith("http://10.1.2.3:9999/v2/requests/status/")


async def test_openapi_json_is_the_contract(client: httpx.AsyncClient) -> None:
    document = (await client.get("/openapi.json")).json()
    assert document["openapi"].startswith("3.1")
    assert document["servers"][0]["url"] == "http://mock.test"
    assert T2I in document["paths"]
