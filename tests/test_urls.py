"""One URL reader that cannot raise, and a contract whose URL patterns say the same.

Reproductions from issue 12: ``https://a]`` and ``https://[a`` in an image field answered
500 (``ValueError: Invalid IPv6 URL`` from ``urlsplit``), and the keep-alive connection was
closed after it.
"""

from __future__ import annotations

import json
import re
import shutil
import socket
import subprocess
from typing import Any

import httpx
import pytest
import yaml
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from gateway_helpers import BP_EDIT, BP_MULTI, CAT, EDIT, KEY, T2I
from mock_gateway.config.settings import Settings
from mock_gateway.steering.webhook_policy import host_of
from mock_gateway.testing.server_thread import ServerThread
from mock_gateway.validation.urls import (
    BYTEPLUS_FORMATS,
    EXCLUDED,
    HEADER_URL_PATTERN,
    HTTP_URL_PATTERN,
    LITE_FORMATS,
    BadUrl,
    Url,
    http_url_problem,
    image_ref_matches,
    image_ref_pattern,
    image_url_pattern,
    parse_url,
)
from mock_gateway.web.app import create_app
from seedream_contracts import openapi_path
from url_strategies import corpus, url_like

pytestmark = pytest.mark.anyio
SCHEMAS = yaml.safe_load(openapi_path().read_text(encoding="utf-8"))["components"]
BAD_URLS = ["https://a]", "https://[a", "https://a:99999/x.png", "http://u@[h/x.png"]


def test_contract_states_the_rules_of_urls_py() -> None:
    schemas = SCHEMAS["schemas"]
    assert SCHEMAS["parameters"]["WebhookUrl"]["schema"]["pattern"] == HEADER_URL_PATTERN
    assert schemas["ImageUrl"]["pattern"] == image_url_pattern(LITE_FORMATS)
    assert schemas["ByteplusImageUrl"]["pattern"] == image_url_pattern(BYTEPLUS_FORMATS)
    assert schemas["ImageRef"]["pattern"] == image_ref_pattern(BYTEPLUS_FORMATS, BYTEPLUS_FORMATS)


def _pattern_accepts(text: str, pattern: str = HTTP_URL_PATTERN) -> bool:
    # Python's "$" also matches before a final "\n" where ECMA-262's does not; no URL has
    # one, and parse_url refuses it with the other whitespace.
    return re.search(pattern, text) is not None and "\n" not in text


@settings(max_examples=400, deadline=None, suppress_health_check=list(HealthCheck))
@given(text=url_like)
def test_parse_url_never_raises_and_agrees_with_the_contract(text: str) -> None:
    parsed = parse_url(text)
    assert isinstance(parsed, Url | BadUrl)
    assert (http_url_problem(text) is None) == _pattern_accepts(text), (text, parsed)
    in_header = http_url_problem(text, ascii_only=True) is None
    assert in_header == _pattern_accepts(text, HEADER_URL_PATTERN), text
    host_of(text)  # the webhook policy reads hosts through parse_url too


def test_corpus_agrees_with_the_contract() -> None:
    for text in corpus():
        assert (http_url_problem(text) is None) == _pattern_accepts(text), text
        in_header = http_url_problem(text, ascii_only=True) is None
        assert in_header == _pattern_accepts(text, HEADER_URL_PATTERN), text


def test_parse_url_reads_what_it_accepts() -> None:
    url = parse_url("https://u:p@[::1]:8080/a/b.PNG?x=1#f")
    assert url == Url("https", "::1", 8080, "/a/b.PNG", "x=1", "u:p")
    assert isinstance(url, Url) and url.extension == "PNG"
    assert host_of("http://LocalHost./hook") == "localhost."  # the dot kept: a DNS name
    assert host_of("https://a]") is None and host_of("https://[a") is None
    for text in [*BAD_URLS, "ftp://a/", "https://", "https://a b/", 7]:
        assert http_url_problem(text) is not None, text


@pytest.mark.skipif(shutil.which("node") is None, reason="node is not installed")
def test_ecma_262_reads_the_patterns_as_python_does() -> None:
    """The contract's patterns are meant for JavaScript validators too: run them in node."""
    schemas = SCHEMAS["schemas"]
    patterns = [
        HTTP_URL_PATTERN,
        HEADER_URL_PATTERN,
        schemas["ImageUrl"]["pattern"],
        schemas["ImageRef"]["pattern"],
        schemas["Prompt"]["pattern"],
    ]
    texts = [
        *corpus(1500),
        *(chr(c) for c in range(0x3100)),
        "\ufeff",
        "data:image/png;base64,QQ==",
    ]
    texts = [t for t in texts if "\n" not in t]  # see _pattern_accepts
    script = (
        "const [p, t] = JSON.parse(require('fs').readFileSync(0, 'utf8'));"
        "console.log(JSON.stringify(p.map(x => t.map(s => new RegExp(x, 'u').test(s)))));"
    )
    result = subprocess.run(
        ["node", "-e", script], input=json.dumps([patterns, texts]), capture_output=True,
        text=True, timeout=120, check=True,
    )  # fmt: skip
    ecma = json.loads(result.stdout)
    for pattern, answers in zip(patterns, ecma, strict=True):
        python = [re.search(pattern, text) is not None for text in texts]
        differ = [t for t, a, b in zip(texts, answers, python, strict=True) if a != b]
        assert not differ, (pattern[:60], differ[:10])


def test_excluded_is_ecma_whitespace_controls_and_backslash() -> None:
    excluded = re.compile(f"[{EXCLUDED}]")
    for code in range(0x110000):
        char = chr(code)
        if 0xD800 <= code <= 0xDFFF:
            continue
        ecma_space = char in "\t\n\x0b\f\r \u00a0\u1680\u2028\u2029\u202f\u205f\u3000\ufeff" or (
            0x2000 <= code <= 0x200A
        )
        control = code < 0x20 or 0x7F <= code <= 0x9F
        expected = ecma_space or control or char == "\\"
        assert bool(excluded.match(char)) == expected, hex(code)


@pytest.mark.parametrize("bad", BAD_URLS)
@pytest.mark.parametrize(
    ("path", "body"),
    [
        (BP_EDIT, lambda url: {"prompt": "x", "image": url}),
        (EDIT, lambda url: {"prompt": "x", "image_urls": [url]}),
        (BP_MULTI, lambda url: {"prompt": "x", "image": [CAT, url]}),
    ],
    ids=["byteplus-edit", "lite-edit", "multi-edit"],
)
async def test_malformed_image_url_is_a_400(
    client: httpx.AsyncClient, path: str, body: Any, bad: str
) -> None:
    response = await client.post(path, json=body(bad), headers=KEY)
    assert response.status_code == 400, response.text
    assert set(response.json()) == {"error", "message"}
    assert "must be an http(s) URL" in response.json()["message"]


@pytest.mark.parametrize("bad", [*BAD_URLS, "http://[::1", "https://", "ftp://127.0.0.1/"])
async def test_malformed_webhook_url_is_a_400(client: httpx.AsyncClient, bad: str) -> None:
    response = await client.post(T2I, json={"prompt": "x"}, headers={**KEY, "X-Webhook-URL": bad})
    assert response.status_code == 400, response.text
    assert response.json()["message"].startswith("X-Webhook-URL: must be an absolute http(s) URL")


async def test_unicode_hosts_are_urls(client: httpx.AsyncClient) -> None:
    body = {"prompt": "x", "image": "https://bücher.de/k.png"}
    response = await client.post(BP_EDIT, json=body, headers=KEY)
    assert response.status_code == 202, response.text


def _receive(sock: socket.socket) -> bytes:
    chunk = sock.recv(65536)
    if not chunk:
        raise ConnectionResetError("the server closed the keep-alive connection")
    return chunk


def _exchange(sock: socket.socket, request: bytes) -> bytes:
    sock.sendall(request)
    data = b""
    while b"\r\n\r\n" not in data:
        data += _receive(sock)
    head, _, rest = data.partition(b"\r\n\r\n")
    length = int(re.search(rb"(?i)content-length: *(\d+)", head).group(1))  # type: ignore[union-attr]
    while len(rest) < length:
        rest += _receive(sock)
    return head


def test_keep_alive_connection_survives_a_rejected_request() -> None:
    """Before: the 500 closed the connection, and the client's next request got ECONNRESET."""
    app = create_app(Settings.load(timing="fast", seed=1))
    with (
        ServerThread(app) as server,
        socket.create_connection(("127.0.0.1", server.port), timeout=10) as sock,
    ):
        for image in ("https://a]", "https://[a", CAT):
            body = json.dumps({"prompt": "x", "image": image}).encode()
            request = (
                f"POST {BP_EDIT} HTTP/1.1\r\nHost: 127.0.0.1\r\n"
                "Content-Type: application/json\r\nOcp-Apim-Subscription-Key: test-key\r\n"
                f"Content-Length: {len(body)}\r\n\r\n"
            ).encode() + body
            head = _exchange(sock, request)
            expected = b" 202 " if image == CAT else b" 400 "
            assert expected in head.split(b"\r\n", 1)[0], head
            assert b"connection: close" not in head.lower()


_B64 = st.text(alphabet="QA+/=\n -", max_size=14)
_REFS = st.one_of(
    url_like,
    st.builds(
        lambda fmt, payload: f"data:image/{fmt};base64,{payload}",
        st.sampled_from(["png", "gif", "PNG", "a", "svg+xml", ""]),
        _B64,
    ),
)


@settings(max_examples=600, deadline=None, suppress_health_check=list(HealthCheck))
@given(ref=_REFS)
def test_fast_image_ref_check_is_the_pattern(ref: str) -> None:
    """The mock checks ImageRef's pattern with image_ref_matches: the same answers."""
    pattern = image_ref_pattern(BYTEPLUS_FORMATS, BYTEPLUS_FORMATS)
    expected = re.search(pattern, ref) is not None and not ref.endswith("\n")
    assert image_ref_matches(ref, BYTEPLUS_FORMATS, BYTEPLUS_FORMATS) == expected, ref
