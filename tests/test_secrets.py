"""Secrets stay out of logs, the control API's answers and the process list."""

from __future__ import annotations

import time
from pathlib import Path

import pytest
import requests

from gateway_helpers import KEY, T2I
from mock_gateway.cli import build_parser, settings_from_args
from mock_gateway.config.settings import ConfigError
from mock_gateway.web.log_redaction import redact_query_keys
from mock_helpers import running
from server_process import running_mock

SECRET_KEY = "sk-live-0123456789abcdef-WXYZ"


def session() -> requests.Session:
    http = requests.Session()
    http.trust_env = False
    return http


def test_the_access_log_shows_a_query_key_by_its_last_four_characters() -> None:
    with running_mock("--log-level", "info") as server, session() as http:
        url = f"{server.base_url}/v2/requests/status/abc?subscription-key={SECRET_KEY}&x=1"
        assert http.get(url, timeout=10).status_code == 401
        deadline = time.monotonic() + 5
        while not any("/v2/requests/status/abc" in line for line in server.output):
            assert time.monotonic() < deadline, "no access log line"
            time.sleep(0.05)
    output = "\n".join(server.output)
    assert SECRET_KEY not in output
    assert "subscription-key=****WXYZ&x=1" in output


def test_redaction_handles_every_spelling() -> None:
    assert redact_query_keys("/a?Subscription-Key=abcdef") == "/a?Subscription-Key=****cdef"
    assert redact_query_keys("/a?x=1&subscription-key=ab") == "/a?x=1&subscription-key=****"
    assert redact_query_keys("/a?x=1") == "/a?x=1"


def test_the_control_token_comes_from_a_file_and_stays_out_of_ps(tmp_path: Path) -> None:
    token_file = tmp_path / "token"
    token_file.write_text("s3cret-t0ken\n")
    with running_mock("--control-token-file", str(token_file)) as server, session() as http:
        assert server.process is not None
        cmdline = Path(f"/proc/{server.process.pid}/cmdline").read_bytes()
        denied = http.get(f"{server.base_url}/_mock/keys", timeout=10)
        allowed = http.get(
            f"{server.base_url}/_mock/keys",
            headers={"Authorization": "Bearer s3cret-t0ken"},
            timeout=10,
        )
    assert b"s3cret-t0ken" not in cmdline
    assert denied.status_code == 401 and allowed.status_code == 200


def test_the_control_token_comes_from_the_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("MOCK_GATEWAY_CONTROL_TOKEN", "from-env")
    settings = settings_from_args(build_parser().parse_args(["serve"]))
    assert settings.control_token == "from-env"


def test_an_empty_or_missing_token_file_is_refused(tmp_path: Path) -> None:
    empty = tmp_path / "empty"
    empty.write_text("\n")
    for path in (empty, tmp_path / "missing"):
        args = build_parser().parse_args(["serve", "--control-token-file", str(path)])
        with pytest.raises(ConfigError, match="--control-token-file"):
            settings_from_args(args)


@pytest.mark.anyio
async def test_the_webhook_log_hides_url_passwords() -> None:
    url = "http://hook-user:hunter2@127.0.0.1:9/hook"
    async with running() as mock:
        headers = {**KEY, "X-Webhook-URL": url}
        await mock.http.post(T2I, json={"prompt": "x"}, headers=headers)
        await mock.control("POST", "/clock/advance", {"seconds": 5})
        answer = await mock.http.get("/_mock/webhooks")
    assert "hunter2" not in answer.text
    assert answer.json()["webhooks"][0]["url"] == "http://hook-user:****@127.0.0.1:9/hook"
