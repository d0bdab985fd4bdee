"""``mock-gateway proxy`` as a real process: the contract suite through it, its recording
compared with the suite's and with the documented one, and no open proxy."""

from __future__ import annotations

import json
import socket
import subprocess
import sys
from pathlib import Path
from typing import Any

import httpx
import pytest

from mock_gateway.cli import main as mock_gateway_cli
from mock_gateway.proxy.app import create_proxy_app
from mock_gateway.proxy.settings import ProxySettings
from mock_gateway.testing.server_thread import ServerThread
from seedream_contracts.recording import load_recording
from server_process import ROOT, running_mock, running_server

DOCUMENTED = ROOT / "fixtures" / "recordings" / "documented"
SUITE = [sys.executable, "-m", "seedream_contracts"]
KEYS = ("test-key", "broke-key")


def _diff(old: Path, new: Path) -> tuple[int, dict[str, Any]]:
    done = subprocess.run(
        [*SUITE, "diff", str(old), str(new), "--json"], capture_output=True, text=True, timeout=60
    )
    return done.returncode, json.loads(done.stdout)


def test_a_proxy_recording_compares_with_the_suite_and_the_documentation(tmp_path: Path) -> None:
    proxy_dir, suite_dir = tmp_path / "proxy", tmp_path / "suite"
    with running_mock() as mock:
        command = [sys.executable, "-m", "mock_gateway", "proxy", "--upstream", mock.base_url,
                   "--port", "0", "--record", str(proxy_dir), "--max-spend", "2"]  # fmt: skip
        with running_server(command) as proxy:
            # the contract suite, as against a live gateway, through the proxy
            run = subprocess.run(
                [*SUITE, "--gateway-url", proxy.base_url, "--api-key", KEYS[0],
                 "--broke-key", KEYS[1], "--max-spend", "2", "--poll-interval", "0.25",
                 "--record", str(suite_dir), "-k", "examples or auth or wallet", "-q"],
                capture_output=True, text=True, timeout=240,
            )  # fmt: skip
            unknown = "byteplus_00000000-0000-7000-8000-000000000000"  # as the suite's
            httpx.get(f"{proxy.base_url}/v2/requests/status/{unknown}?subscription-key={KEYS[0]}")
    assert run.returncode == 0, run.stdout[-3000:]  # every clause held through the proxy
    output = "\n".join(proxy.output)
    assert "proxy summary:" in output and "violations: 0" in output
    assert not any(key in output for key in KEYS)  # never logged in full
    index, exchanges = load_recording(proxy_dir)
    assert index["target"]["kind"] == "proxy" and len(exchanges) > 40
    recorded = "".join(path.read_text() for path in proxy_dir.rglob("*.json"))
    as_values = [f'"{key}"' for key in KEYS] + [f"={key}" for key in KEYS]  # not the labels
    assert "<api-key>" in recorded and not any(value in recorded for value in as_values)

    # the same traffic, recorded by the suite and by the proxy: no drift
    code, same = _diff(suite_dir, proxy_dir)
    assert (code, same["drift"]) == (0, [])
    assert not [line for line in same["coverage"] if "submit." in line]

    # against the documentation: only the differences the README names for the fast mock
    code, documented = _diff(DOCUMENTED, proxy_dir)
    assert code == 1
    kinds = {(d["kind"], d["where"].split()[0]) for d in documented["drift"]}
    assert kinds <= {
        ("message", "byteplusEditSubmit"),
        ("message", "byteplusTextToImageSubmit"),
        ("message", "byteplusMultiEditSubmit"),
        ("timing", "liteEditSubmit"),
        ("timing", "liteTextToImageSubmit"),
        ("field-retyped", "getStatus"),  # the documentation also shows an ERROR job
    }, documented["drift"]
    compared = [f"{op} submit.example" for op in ("liteEditSubmit", "byteplusEditSubmit")]
    assert not [line for line in documented["coverage"] if any(c in line for c in compared)]


@pytest.mark.parametrize(
    "argv",
    [
        ["proxy", "--upstream", "ftp://gateway.example"],
        ["proxy", "--upstream", "https://gateway.example?x=1"],
        ["proxy", "--upstream", "http://127.0.0.1:1", "--max-spend", "lots"],
        ["proxy", "--upstream", "http://127.0.0.1:1", "--max-spend", "-1"],
    ],
)
def test_bad_options_are_refused_with_a_clear_message(
    argv: list[str], capsys: pytest.CaptureFixture[str]
) -> None:
    assert mock_gateway_cli(argv) == 2
    message = capsys.readouterr().out
    assert message.startswith("mock-gateway proxy: --") and "Traceback" not in message


RAW_REQUESTS = [
    b"GET http://evil.invalid/v2/requests/status/abc HTTP/1.1\r\nHost: evil.invalid\r\n\r\n",
    b"GET /v2/requests/status/abc HTTP/1.1\r\nHost: evil.invalid\r\n\r\n",
    b"GET /v2/requests/status/.. HTTP/1.1\r\nHost: x\r\n\r\n",
    b"CONNECT evil.invalid:443 HTTP/1.1\r\nHost: evil.invalid:443\r\n\r\n",
    b"GET http://evil.invalid/anything HTTP/1.1\r\nHost: evil.invalid\r\n\r\n",
    b"POST //evil.invalid/byteplus/v1/getTextToImage HTTP/1.1\r\nHost: x\r\n"
    b"Content-Length: 2\r\n\r\n{}",
]


def _raw(port: int, request: bytes) -> bytes:
    with socket.create_connection(("127.0.0.1", port), timeout=10) as sock:
        sock.sendall(request)
        sock.shutdown(socket.SHUT_WR)
        chunks = []
        while chunk := sock.recv(65536):
            chunks.append(chunk)
    return b"".join(chunks)


def test_it_forwards_only_to_the_upstream_never_where_a_request_points() -> None:
    """No open proxy: neither a Host header nor an absolute-form request target (nor a
    dot segment) sends anything anywhere but the upstream's documented endpoints."""
    seen: list[httpx.URL] = []

    def upstream(request: httpx.Request) -> httpx.Response:
        seen.append(request.url)
        return httpx.Response(404, json={"error": "Request not found", "message": "no"})

    app = create_proxy_app(
        ProxySettings("http://upstream.test"), transport=httpx.MockTransport(upstream)
    )
    with ServerThread(app) as proxy:
        answers = [_raw(proxy.port, request) for request in RAW_REQUESTS]
    assert all(answer[:10] == b"HTTP/1.1 4" for answer in answers)  # 404s (400 for CONNECT)
    # Only status reads went anywhere, and only to the upstream: the relative one, and the
    # absolute-form one where the HTTP parser keeps only its path (httptools; h11 leaves the
    # whole URL as the path, which no route matches: a local 404).
    forwarded = [str(url) for url in seen]
    abc, dots = (f"http://upstream.test/v2/requests/status/{end}" for end in ("abc", "%2E%2E"))
    assert forwarded in ([abc, dots], [abc, abc, dots])  # ".." stays one segment
    local = [answer for answer in answers if b'"Resource not found"' in answer]
    assert len(local) >= 2 and all(b"x-mock-proxy: not-forwarded" in a for a in local)
