"""The ``seedream`` command checks every argument before anything is sent, names its own
flags in errors, fits its status line to the terminal, and says why it waits on a 429."""

from __future__ import annotations

import argparse
import io
import re
import subprocess
import sys
from pathlib import Path
from typing import Any

import httpx
import pytest
from seedream_testing import SAMPLE_URL, mock_app, png_bytes

from mock_gateway.testing.server_thread import ServerThread
from seedream_client import Job
from seedream_client._progress import Countdown, Progress, fit
from seedream_client.cli import build_parser, main

LONG_ID = "seedream-5-0-lite-text-to-image_019d3a5c-7e21-7c4b-9a3f-0c1d2e3f4a5b"

# Each is refused before the first request: exit 2, the flag or argument named.
REFUSED = [
    (["generate", "x", "--poll-interval", "-1"], "argument --poll-interval: must be"),
    (["generate", "x", "--poll-interval", "0"], "argument --poll-interval: must be"),
    (["generate", "x", "--timeout", "-5"], "argument --timeout: must be"),
    (["generate", "x", "--out", "/proc/nope"], "--out /proc/nope: cannot save images there"),
    (["generate", "x", "--watermark"],
     "--watermark: not available for generate with --model seedream-5-0-lite (it takes: "),
    (["generate", "x", "-n", "9"], "-n/--num-images: 9 is greater than the maximum of 4"),
    (["generate", "x", "--size", "huge"], "--size: 'huge' is not one of"),
    (["generate", ""], "PROMPT: '' should be non-empty"),
    (["generate", "x", "--max-cost", "lots"], "--max-cost: must be a number of US dollars"),
    (["generate", "x", "--webhook-url", "ftp://x"], "--webhook-url: must be an http:// or"),
    (["edit", "x", SAMPLE_URL, "photo.png", "--model", "seedream-4-5"],
     "IMAGE 'photo.png' (image 2): a multi-image edit takes image URLs only"),
    (["edit", "x", "photo.png"], "IMAGE 'photo.png': --model seedream-5-0-lite takes image URLs"),
    (["edit", "x", "a.png", SAMPLE_URL, "b.png", "--model", "seedream-4-0"],
     "IMAGE 'a.png' (image 1), 'b.png' (image 3): a multi-image edit takes image URLs only"),
    (["edit", "x", "missing.png", "--model", "seededit-3-0"],
     "IMAGE 'missing.png': no such file"),
]  # fmt: skip


@pytest.fixture
def fresh(serve: Any, monkeypatch: pytest.MonkeyPatch) -> ServerThread:
    server: ServerThread = serve(mock_app())
    monkeypatch.setenv("PIXAZO_API_KEY", "test-key")
    monkeypatch.setenv("PIXAZO_BASE_URL", server.base_url)
    return server


def journal(server: ServerThread) -> list[dict[str, Any]]:
    entries: list[dict[str, Any]] = httpx.get(f"{server.base_url}/_mock/requests").json()[
        "requests"
    ]
    return entries


@pytest.mark.parametrize(("argv", "message"), REFUSED)
def test_every_argument_is_checked_before_anything_is_sent(
    fresh: ServerThread, capsys: pytest.CaptureFixture[str], argv: list[str], message: str
) -> None:
    try:
        code = main(argv)
    except SystemExit as exc:  # argparse's own checks
        code = int(exc.code or 0)
    err = capsys.readouterr().err
    assert code == 2 and message in err.splitlines()[-1], err
    assert "Traceback" not in err and "does not match '^" not in err
    assert journal(fresh) == []  # nothing reached the gateway


def test_a_429_on_submit_is_said_with_the_wait(
    fresh: ServerThread, capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    argv = ["generate", "x", "--api-key", "quick-limited-key", "--no-wait"]  # 1 submit/s
    assert main(argv) == 0 and main(argv) == 0
    err = capsys.readouterr().err
    assert "seedream: rate limited (HTTP 429): retrying in 1 s" in err


def test_the_countdown_counts_down_on_a_terminal() -> None:
    stream, slept = io.StringIO(), list[float]()
    countdown = Countdown(stream, live=True, sleep=slept.append)
    countdown.sleep(2.0)  # a poll's sleep: silent
    countdown.on_retry("HTTP 429", 3.0)
    countdown.sleep(3.0)
    frames = re.findall(r"retrying in (\d+) s", stream.getvalue())
    assert frames == ["3", "2", "1"] and slept == [2.0, 1.0, 1.0, 1.0]
    assert stream.getvalue().endswith("\r\x1b[K")  # the line is cleared afterwards


def test_a_429_while_waiting_shows_on_the_status_line() -> None:
    stream = io.StringIO()
    progress = Progress(stream, live=False, request_id="rid")
    progress.retrying("HTTP 429", 30)
    assert stream.getvalue() == "rid  rate limited (HTTP 429): retrying in 30 s\n"
    live = Progress(io.StringIO(), live=True, request_id="rid")
    live.retrying("HTTP 429", 30)
    assert "rate limited (HTTP 429): retry in 30s" in live.line()


@pytest.mark.parametrize("width", [40, 60, 80, 200])
def test_the_status_line_fits_the_terminal(width: int) -> None:
    progress = Progress(io.StringIO(), live=True, request_id=LONG_ID, width=lambda: width)
    line = progress.fitted("|")
    assert len(line) <= width - 1
    if width >= 80:  # the id loses its middle first; the status and the clocks stay
        assert LONG_ID[-8:] in line and "SUBMITTED" in line and "elapsed" in line
    progress.retrying("HTTP 429", 30)
    waiting = progress.fitted("|")
    assert len(waiting) <= width - 1
    if width >= 80:
        assert "retry in 30s" in waiting
    assert fit("short", 80) == "short"


def test_ctrl_c_while_waiting_says_how_to_resume(
    fresh: ServerThread, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch,
    tmp_path: Path,
) -> None:  # fmt: skip
    def interrupted(self: Job, *args: Any, **kwargs: Any) -> None:
        raise KeyboardInterrupt

    monkeypatch.setattr(Job, "wait", interrupted)
    assert main(["generate", "x", "--out", str(tmp_path)]) == 130
    last = capsys.readouterr().err.splitlines()[-1]
    assert re.fullmatch(
        r"seedream: interrupted; the job goes on: resume with: seedream wait \S+_[0-9a-f-]{36}",
        last,
    ), last


def test_a_save_failure_after_the_job_names_it(
    fresh: ServerThread, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch,
    tmp_path: Path,
) -> None:  # fmt: skip
    def unwritable(self: Job, directory: Any) -> None:
        raise PermissionError(13, "Permission denied", str(directory))

    monkeypatch.setattr(Job, "download", unwritable)
    assert main(["generate", "x", "--out", str(tmp_path)]) == 1
    last = capsys.readouterr().err.splitlines()[-1]
    assert "finished but its images could not be saved (Permission denied" in last
    assert "resume with: seedream wait " in last and "--out DIR" in last


def test_help_shows_defaults_the_live_gateway_and_an_example_per_command() -> None:
    parser = build_parser()
    top = parser.format_help()
    assert "https://gateway.pixazo.ai, the LIVE gateway" in " ".join(top.split())
    assert "examples" in top
    [action] = [a for a in parser._actions if isinstance(a, argparse._SubParsersAction)]
    commands: dict[str, argparse.ArgumentParser] = action.choices
    for name, sub in commands.items():
        text = " ".join(sub.format_help().split())
        assert "example" in text and f"seedream {name} " in text, name
        assert "the LIVE gateway" in text, name
    generate = " ".join(commands["generate"].format_help().split())
    assert "(default: seedream-5-0-lite)" in generate and "(default: never)" in generate


@pytest.mark.parametrize("command", ["seedream", "mock-gateway"])
def test_version_on_both_commands(command: str) -> None:
    script = Path(sys.executable).parent / command
    done = subprocess.run([str(script), "--version"], capture_output=True, text=True,
                          timeout=30, check=False)  # fmt: skip
    assert done.returncode == 0 and re.fullmatch(rf"{command} \d+\.\d+\.\d+\n", done.stdout)


def test_local_file_edit_still_works(fresh: ServerThread, tmp_path: Path) -> None:
    (tmp_path / "me.png").write_bytes(png_bytes((64, 48)))
    argv = ["edit", "x", str(tmp_path / "me.png"), "--model", "seededit-3-0", "--no-wait"]
    assert main(argv) == 0
