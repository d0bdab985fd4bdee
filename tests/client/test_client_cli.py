"""The ``seedream`` command, run as a subprocess against the mock on 127.0.0.1."""

from __future__ import annotations

import json
import os
import pty
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
from PIL import Image
from seedream_testing import ROOT, SAMPLE_URL, SAMPLE_URL_2, mock_app, png_bytes

from mock_gateway.testing.server_thread import ServerThread
from seedream_client.cli import build_parser, main


def command() -> list[str]:
    script = Path(sys.executable).parent / "seedream"
    return [str(script)] if script.exists() else [sys.executable, "-m", "seedream_client"]


def seedream(
    server: ServerThread, *args: str, key: str | None = "test-key", cwd: Path, **kw: Any
) -> subprocess.CompletedProcess[str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("PIXAZO_")}
    env["PYTHONPATH"] = os.pathsep.join(filter(None, [str(ROOT), env.get("PYTHONPATH")]))
    env["PIXAZO_BASE_URL"] = server.base_url
    if key is not None:
        env["PIXAZO_API_KEY"] = key
    kw.setdefault("stdout", subprocess.PIPE)
    kw.setdefault("stderr", subprocess.PIPE)
    return subprocess.run(
        [*command(), *args, "--poll-interval", "0.02"],
        text=True, env=env, cwd=cwd, timeout=30, check=False, **kw,
    )  # fmt: skip


def test_generate_saves_files_and_prints_cost(live_mock: ServerThread, tmp_path: Path) -> None:
    done = seedream(live_mock, "generate", "a red kite", "-n", "2", "--size", "640x480",
                    "--seed", "5", "--out", "out", cwd=tmp_path)  # fmt: skip
    assert done.returncode == 0, done.stderr
    lines = done.stdout.splitlines()
    assert lines[-1] == "cost: $0.07 (estimated from the price table)"
    files = [tmp_path / line for line in lines[:-1]]
    assert len(files) == 2
    for path in files:
        with Image.open(path) as image:
            assert (image.format, image.size) == ("PNG", (640, 480))
    assert "COMPLETED" in done.stderr and "Traceback" not in done.stderr
    # not a terminal: plain progress lines, no carriage returns
    assert "\r" not in done.stderr


def test_json_output_and_status_and_wait(live_mock: ServerThread, tmp_path: Path) -> None:
    done = seedream(live_mock, "--json", "generate", "a blue kite", "--model", "seedream-4-5",
                    "--size", "2K", "--no-wait", cwd=tmp_path)  # fmt: skip
    assert done.returncode == 0, done.stderr
    submitted = json.loads(done.stdout)
    assert submitted["status"] == "QUEUED" and submitted["estimated_cost_usd"] == "0.2"
    request_id = submitted["request_id"]
    waited = seedream(live_mock, "wait", request_id, "--json", "--out", "o", cwd=tmp_path)
    result = json.loads(waited.stdout)
    assert result["status"] == "COMPLETED" and result["estimated_cost_usd"] == "0.2"
    assert Path(tmp_path / result["files"][0]).suffix == ".jpg"
    status = seedream(live_mock, "status", request_id, cwd=tmp_path)
    assert status.returncode == 0 and f"{request_id}  COMPLETED" in status.stdout


def test_edit_with_urls_and_local_files(live_mock: ServerThread, tmp_path: Path) -> None:
    (tmp_path / "me.png").write_bytes(png_bytes((120, 90)))
    multi = seedream(live_mock, "edit", "together", SAMPLE_URL, SAMPLE_URL_2,
                     "--model", "seedream-4-5", cwd=tmp_path)  # fmt: skip
    assert multi.returncode == 0, multi.stderr
    local = seedream(live_mock, "edit", "make it pop", "me.png", "--model", "seededit-3-0",
                     "--size", "adaptive", "--out", "o", cwd=tmp_path)  # fmt: skip
    assert local.returncode == 0, local.stderr
    with Image.open(tmp_path / local.stdout.splitlines()[0]) as image:
        assert image.format == "JPEG" and image.size == (120, 90)  # adaptive: the input's size


ERROR_CASES = [
    (["generate", "x"], "broke-key", 1, "seedream: insufficient balance: required $0.035"),
    (["generate", "x"], "nobody", 1, "seedream: authentication failed: Access denied"),
    (["generate", "x"], "forbidden-key", 1, "seedream: permission denied: Out of call"),
    (["generate", "x"], None, 2, "seedream: no API key: use --api-key or set PIXAZO_API_KEY"),
    (["generate", "x", "-n", "7"], "test-key", 2,
     "seedream: -n/--num-images: 7 is greater than the maximum of 4"),
    (["generate", "x", "-n", "4", "--max-cost", "0.1"], "test-key", 2,
     "seedream: estimated cost $0.14 is above --max-cost $0.1"),
    (["generate", "something unsafe"], "test-key", 3, "failed: Content blocked"),
    (["status", "byteplus_nope"], "test-key", 1, "seedream: not found: "),
    (["edit", "x", "local.png"], "test-key", 2, "takes image URLs only"),
]  # fmt: skip


@pytest.mark.parametrize(("args", "key", "code", "message"), ERROR_CASES[:2])
def test_errors_end_with_one_line_and_exit_code(
    live_mock: ServerThread, tmp_path: Path, args: list[str], key: str | None, code: int,
    message: str,
) -> None:  # fmt: skip
    done = seedream(live_mock, *args, key=key, cwd=tmp_path)
    assert done.returncode == code, done.stderr
    assert done.stderr.splitlines()[-1].startswith(message) and "Traceback" not in done.stderr


@pytest.mark.parametrize(("args", "key", "code", "message"), ERROR_CASES)
def test_every_error_in_process(
    live_mock: ServerThread, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str],
    args: list[str], key: str | None, code: int, message: str,
) -> None:  # fmt: skip
    """The same ``main`` the console script calls, without a process per case."""
    monkeypatch.delenv("PIXAZO_API_KEY", raising=False)
    if key is not None:
        monkeypatch.setenv("PIXAZO_API_KEY", key)
    argv = [*args, "--base-url", live_mock.base_url, "--poll-interval", "0.02"]
    assert main(argv) == code
    err = capsys.readouterr().err
    assert message in err.splitlines()[-1] and "Traceback" not in err


def test_api_key_flag_and_json_errors(live_mock: ServerThread, tmp_path: Path) -> None:
    done = seedream(live_mock, "generate", "x", "--api-key", "broke-key", "--json", key=None,
                    cwd=tmp_path)  # fmt: skip
    assert done.returncode == 1
    error = json.loads(done.stdout)["error"]
    assert error["type"] == "InsufficientBalanceError" and error["status_code"] == 402
    assert "broke-key" not in done.stdout + done.stderr


def test_wait_timeout_says_how_to_resume(
    serve: Any, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    frozen = serve(mock_app(timing="manual"))  # jobs stay QUEUED
    monkeypatch.setenv("PIXAZO_API_KEY", "test-key")
    assert main(["generate", "x", "--no-wait", "--base-url", frozen.base_url]) == 0
    request_id = capsys.readouterr().out.strip()
    argv = ["wait", request_id, "--timeout", "0.1", "--poll-interval", "0.02"]
    assert main([*argv, "--base-url", frozen.base_url]) == 4
    last = capsys.readouterr().err.splitlines()[-1]
    assert last.endswith(f"the job goes on: resume with: seedream wait {request_id}")
    assert last.count("resume") == 1


def test_live_status_line_on_a_terminal(
    live_mock: ServerThread, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("COLUMNS", "60")  # a narrow terminal: every redraw fits in 59 columns
    leader, follower = pty.openpty()
    try:
        done = seedream(live_mock, "generate", "a kite", cwd=tmp_path, stderr=follower)
    finally:
        os.close(follower)
    screen = os.read(leader, 65536).decode()
    os.close(leader)
    assert done.returncode == 0
    assert "\r\x1b[K" in screen and "COMPLETED" in screen and "elapsed" in screen
    redraws = [part.split("\n")[0].rstrip("\r") for part in screen.split("\r\x1b[K")[1:]]
    assert redraws and max(len(line) for line in redraws) <= 59, redraws


def test_parser_shows_the_documented_commands() -> None:
    help_text = build_parser().format_help()
    for name in ("generate", "edit", "status", "wait", "--base-url", "--api-key", "--json"):
        assert name in help_text
