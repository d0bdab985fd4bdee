"""The README's client examples run as written against the mock (only the address differs)."""

from __future__ import annotations

import re
import runpy
from pathlib import Path

import pytest
from seedream_testing import ROOT, TINY_POLL

import seedream_client._base
from mock_gateway.testing.server_thread import ServerThread

README = ROOT / "README.md"
SECTION = "## The Python client"
MAKE_SERVE_URL = "http://127.0.0.1:8000"


def python_blocks() -> list[str]:
    """The Python code blocks of the README's client section, in order."""
    text = README.read_text()
    section = text[text.index(SECTION) :]
    following = section.find("\n## ", len(SECTION))
    section = section if following < 0 else section[:following]
    return re.findall(r"```python\n(.*?)```", section, flags=re.DOTALL)


@pytest.mark.parametrize("index", [0, 1], ids=["sync-example", "async-example"])
def test_example_runs(
    index: int,
    live_mock: ServerThread,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    code = python_blocks()[index]
    assert MAKE_SERVE_URL in code and "test-key" in code
    script = tmp_path / "example.py"
    script.write_text(code.replace(MAKE_SERVE_URL, live_mock.base_url))
    monkeypatch.chdir(tmp_path)
    monkeypatch.setattr(
        seedream_client._base, "PollPolicy", lambda: TINY_POLL
    )  # keep the suite quick
    runpy.run_path(str(script), run_name="__main__")
    out = capsys.readouterr().out
    assert "COMPLETED" in out and (tmp_path / "out").is_dir()
    if index == 0:
        assert "need 0.035 USD; status 402" in out


def test_webhook_example_runs(
    live_mock: ServerThread,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
    tmp_path: Path,
) -> None:
    code = python_blocks()[2]
    assert "WebhookReceiver" in code and "timeout=30" in code
    script = tmp_path / "webhook_example.py"
    script.write_text(
        code.replace(MAKE_SERVE_URL, live_mock.base_url).replace("timeout=30", "timeout=5")
    )
    runpy.run_path(str(script), run_name="__main__")
    assert "status=<Status.COMPLETED" in capsys.readouterr().out
