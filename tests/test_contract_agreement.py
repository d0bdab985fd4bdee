"""The contract and the mock give the same answer (issue 12's reproductions).

Each case is run through the contract's JSON Schema and through the mock: both accept or
both reject. Where the mock rejects what no pattern can say (a data URL that is valid base64
but not an image), the test says so.
"""

from __future__ import annotations

import base64
import io
from typing import Any

import httpx
import pytest
from jsonschema import Draft202012Validator
from PIL import Image

from gateway_helpers import BP_EDIT, BP_MULTI, CAT, EDIT, KEY, T2I
from mock_gateway.validation.contract import load_contract
from mock_gateway.validation.request import image_ref_problem
from mock_gateway.validation.urls import BYTEPLUS_FORMATS, LITE_FORMATS
from seedream_contracts.document import inline_refs
from url_strategies import corpus

pytestmark = pytest.mark.anyio
CONTRACT = load_contract()
OPERATIONS = {
    T2I: "liteTextToImageSubmit",
    EDIT: "liteEditSubmit",
    BP_EDIT: "byteplusEditSubmit",
    BP_MULTI: "byteplusMultiEditSubmit",
}


def contract_accepts(path: str, body: dict[str, Any]) -> bool:
    return CONTRACT.first_error(OPERATIONS[path], body) is None


def image_data_url(fmt: str, mime: str) -> str:
    buffer = io.BytesIO()
    Image.new("RGB", (32, 24), (10, 200, 30)).save(buffer, fmt)
    return f"data:image/{mime};base64," + base64.b64encode(buffer.getvalue()).decode()


# ECMA-262 whitespace is blank; U+001C-U+001F and U+0085 (whitespace to Python, not to
# JavaScript) are not; U+FEFF (the reverse) is.
BLANK = ["\ufeff", " \t\n", "\u00a0", "\u3000", "\u2028"]
NOT_BLANK = ["\u001c", "\u001d", "\u001e", "\u001f", "\u0085", "x"]


@pytest.mark.parametrize("prompt", BLANK + NOT_BLANK, ids=ascii)
async def test_prompt_blank_rule_is_the_same(client: httpx.AsyncClient, prompt: str) -> None:
    body = {"prompt": prompt}
    response = await client.post(T2I, json=body, headers=KEY)
    blank = prompt in BLANK
    assert contract_accepts(T2I, body) is not blank
    assert response.status_code == (400 if blank else 202), response.text
    if blank:
        assert response.json()["message"] == "prompt: must not be blank"


CASES: list[tuple[str, str, bool, str]] = [
    # path, image reference, accepted, what the 400 says
    (BP_EDIT, "data:image/a;base64,0", False, "unsupported image format 'a'"),
    (BP_EDIT, "data:image/png;base64,0", False, "not valid base64"),
    (BP_EDIT, "data:image/png;base64,", False, "not valid base64"),
    (BP_EDIT, "data:image/png;base64,iVBO Rw0K", False, "not valid base64"),
    (BP_EDIT, "https://a/x.svg", False, "unsupported image format '.svg'"),
    (EDIT, "https://a/x.svg", False, "unsupported image format '.svg'"),
    (EDIT, "https://a/x.gif", False, "unsupported image format '.gif'"),
    (BP_MULTI, "https://a/x.gif", True, ""),
    (BP_EDIT, "https://a/x.TIFF?y.svg", True, ""),
    (EDIT, "https://a/x.PNG#a.svg", True, ""),
    (EDIT, "https://a/no-extension", True, ""),
    (BP_EDIT, image_data_url("GIF", "gif"), True, ""),
    (BP_EDIT, image_data_url("BMP", "bmp"), True, ""),
    (BP_EDIT, image_data_url("TIFF", "tiff"), True, ""),
    (BP_EDIT, image_data_url("PNG", "png"), True, ""),
]


def _body(path: str, ref: str) -> dict[str, Any]:
    if path == EDIT:
        return {"prompt": "x", "image_urls": [ref]}
    if path == BP_MULTI:
        return {"prompt": "x", "image": [CAT, ref]}
    return {"prompt": "x", "image": ref}


@pytest.mark.parametrize(("path", "ref", "accepted", "says"), CASES, ids=lambda v: str(v)[:40])
async def test_image_refs_get_the_same_answer(
    client: httpx.AsyncClient, path: str, ref: str, accepted: bool, says: str
) -> None:
    body = _body(path, ref)
    assert contract_accepts(path, body) is accepted
    response = await client.post(path, json=body, headers=KEY)
    assert response.status_code == (202 if accepted else 400), response.text
    assert says in response.json().get("message", "")


async def test_gif_is_accepted_everywhere_byteplus_lists_it(client: httpx.AsyncClient) -> None:
    """Before: the format check listed GIF as accepted and the image probe then refused it."""
    response = await client.post(BP_EDIT, json=_body(BP_EDIT, image_data_url("GIF", "gif")),
                                 headers=KEY)  # fmt: skip
    assert response.status_code == 202, response.text
    svg = "data:image/png;base64," + base64.b64encode(b"<svg></svg>").decode()
    refused = await client.post(BP_EDIT, json=_body(BP_EDIT, svg), headers=KEY)
    assert refused.status_code == 400
    message = refused.json()["message"]
    assert "SVG" in message and "GIF" in message  # the list it names is the list it takes


@pytest.mark.parametrize(
    ("schema", "formats", "data"),
    [("ImageUrl", LITE_FORMATS, False), ("ImageRef", BYTEPLUS_FORMATS, True)],
)
def test_image_patterns_and_the_mock_agree_on_urls(
    schema: str, formats: tuple[str, ...], data: bool
) -> None:
    validator = Draft202012Validator(
        inline_refs(CONTRACT.document, {"$ref": f"#/components/schemas/{schema}"})
    )
    refs = [*corpus(3000), "data:image/png;base64,QUJD", "data:image/PNG;base64,QUJD"]
    for ref in refs:
        if "\n" in ref or len(ref) > 2048:
            continue  # Python's "$" before a final newline; length is a separate rule
        by_mock = image_ref_problem(ref, formats, data_urls=data) is None
        assert validator.is_valid(ref) == by_mock, ref
