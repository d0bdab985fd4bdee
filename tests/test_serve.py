"""End to end: the real server process, the documented curl examples, clean shutdown."""

from __future__ import annotations

import io
import json
import os
import shutil
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import httpx
import pytest
from PIL import Image

from server_process import ROOT, running_mock

EXAMPLES = sorted((ROOT / "fixtures" / "examples").glob("*Submit.json"))
# Sizes (docs/gateway-facts.md#b9): square_hd 1024², 2K 2048², adaptive multi-edit = the cat sample.
EXPECTED_SIZE = {
    "liteEditSubmit": (1024, 1024),
    "liteTextToImageSubmit": (1024, 1024),
    "byteplusEditSubmit": (2048, 2048),
    "byteplusTextToImageSubmit": (2048, 2048),
    "byteplusMultiEditSubmit": (1024, 768),
}


def send_like_curl(base_url: str, example: dict[str, Any]) -> dict[str, Any]:
    """Send a documented example as its curl command does (curl itself when installed)."""
    request = example["request"]
    url = base_url + httpx.URL(request["url"]).path
    headers = {**request["headers"], "Ocp-Apim-Subscription-Key": "test-key"}
    data = json.dumps(request["body"], indent=1)
    curl = shutil.which("curl")
    if curl:
        command = [curl, "-sS", "-X", "POST", url, "--data-raw", data]
        for name, value in headers.items():
            command += ["-H", f"{name}: {value}"]
        output = subprocess.run(command, capture_output=True, text=True, check=True, timeout=10)
        result: dict[str, Any] = json.loads(output.stdout)
        return result
    return dict(httpx.post(url, content=data, headers=headers, timeout=10).json())


def test_documented_examples_complete_within_3_seconds_over_real_http() -> None:
    with running_mock() as server:
        base_url = server.base_url
        accepted = {
            path.stem: send_like_curl(base_url, json.loads(path.read_text())) for path in EXAMPLES
        }
        assert all(body["status"] == "QUEUED" for body in accepted.values()), accepted
        started = time.monotonic()
        finals: dict[str, Any] = {}
        key = {"Ocp-Apim-Subscription-Key": "test-key"}
        while len(finals) < len(accepted) and time.monotonic() - started < 3.0:
            for name, body in accepted.items():
                status = httpx.get(body["polling_url"], headers=key).json()
                if status["status"] == "COMPLETED":
                    finals[name] = status
            time.sleep(0.1)
        assert set(finals) == set(accepted), "not every example completed within 3 s"
        for name, status in finals.items():
            media_type = status["output"]["media_type"]
            for url in status["output"]["media_url"]:
                image = httpx.get(url)
                assert image.headers["content-type"] == media_type
                decoded = Image.open(io.BytesIO(image.content))
                assert decoded.format == {"image/png": "PNG", "image/jpeg": "JPEG"}[media_type]
                assert decoded.size == EXPECTED_SIZE[name], name


def test_banner_shows_base_url_and_test_keys_and_sigterm_stops_cleanly() -> None:
    with running_mock("--timing", "manual") as server:
        assert server.base_url.startswith("http://127.0.0.1:")
        assert server.process is not None
        server.process.terminate()
        assert server.process.wait(timeout=10) == 0  # a graceful stop, not death by signal
        server.stop()  # collects the rest of the output
        assert any("Test keys" in line for line in server.output)
        assert not any("Traceback" in line for line in server.output)


def test_banner_lists_the_keys() -> None:
    result = subprocess.run(
        [
            sys.executable,
            "-c",
            "from mock_gateway.cli import describe_keys;"
            "from mock_gateway.config.settings import Settings;"
            "print(describe_keys(Settings.load()))",
        ],
        capture_output=True,
        text=True,
        check=True,
        cwd=ROOT,
    )
    for key in ("test-key", "broke-key", "forbidden-key", "limited-key"):
        assert key in result.stdout


def serve_with_config(tmp_path: Path, text: str) -> tuple[Path, subprocess.CompletedProcess[str]]:
    config = tmp_path / "mock.toml"
    config.write_text(text)
    command = [sys.executable, "-m", "mock_gateway", "serve", "--config", str(config)]
    result = subprocess.run(command, capture_output=True, text=True, cwd=ROOT, timeout=30)
    return config, result


def test_bad_config_is_rejected_naming_file_and_key(tmp_path: Path) -> None:
    config, result = serve_with_config(tmp_path, 'timing = "fast"\nworkrs = 3\n')
    assert result.returncode == 2
    assert str(config) in result.stderr and "workrs" in result.stderr
    assert "Traceback" not in result.stderr


def test_unparseable_config_names_the_line(tmp_path: Path) -> None:
    _, result = serve_with_config(tmp_path, 'timing = "fast"\nworkers = = 3\n')
    assert result.returncode == 2 and "line 2" in result.stderr


@pytest.mark.parametrize("port", ["99999", "-5"])
def test_unusable_port_is_a_clear_error(port: str) -> None:
    # argparse rejects it with exit status 2 and a usage line, not a traceback
    result = subprocess.run(
        [sys.executable, "-m", "mock_gateway", "serve", "--port", port],
        capture_output=True,
        text=True,
        cwd=ROOT,
        timeout=30,
    )
    assert result.returncode == 2 and "Traceback" not in result.stderr


def test_port_in_use_and_missing_fixtures_are_one_line_errors(tmp_path: Path) -> None:
    with running_mock() as server:
        port = server.base_url.rsplit(":", 1)[1]
        busy = subprocess.run(
            [sys.executable, "-m", "mock_gateway", "serve", "--port", port],
            capture_output=True, text=True, cwd=ROOT, timeout=30,
        )  # fmt: skip
    assert busy.returncode == 2 and "cannot listen on 127.0.0.1:" in busy.stderr
    (tmp_path / "images").mkdir()  # an images/ of one's own needs a valid samples.toml
    (tmp_path / "images" / "samples.toml").write_text('[[samples]]\nname = "x.png"\n')
    missing = subprocess.run(
        [sys.executable, "-m", "mock_gateway", "serve", "--port", "0"],
        capture_output=True, text=True, cwd=ROOT, timeout=30,
        env={**os.environ, "MOCK_GATEWAY_FIXTURES": str(tmp_path)},
    )  # fmt: skip
    assert missing.returncode == 2 and "cannot start:" in missing.stderr
    assert "samples.toml" in missing.stderr and "Traceback" not in missing.stderr


def test_help_is_plain_text_with_examples() -> None:
    import argparse

    from mock_gateway.cli import build_parser

    parser = build_parser()
    [commands] = [a for a in parser._actions if isinstance(a, argparse._SubParsersAction)]
    serve = commands.choices["serve"]
    for text in (parser.format_help(), serve.format_help()):
        assert "``" not in text and "examples:" in text and "mock-gateway serve --port 0" in text
