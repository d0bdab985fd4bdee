"""docs/testing-with-the-mock.md runs as written: its Python blocks (and those of the
README's sections "Steering the mock from tests" and "Developing against the live gateway")
are test files that a separate pytest process runs with the installed plugin, the way a
user's suite would; its CI shell block starts, steers and stops a real ``mock-gateway
serve``."""

from __future__ import annotations

import os
import re
import shutil
import socket
import subprocess
import sys
import time
from pathlib import Path

import httpx
import pytest

from server_process import running_mock

ROOT = Path(__file__).resolve().parent.parent
DOC = ROOT / "docs" / "testing-with-the-mock.md"
README_SECTION = "## Steering the mock from tests"
PROXY_SECTION = "## Developing against the live gateway"
BLOCK = re.compile(r"^```(\w+)\n(.*?)^```", re.MULTILINE | re.DOTALL)


def blocks(language: str, text: str | None = None) -> list[str]:
    source = DOC.read_text() if text is None else text
    return [code for lang, code in BLOCK.findall(source) if lang == language]


def readme_section(title: str = README_SECTION) -> str:
    text = (ROOT / "README.md").read_text()
    start = text.index(title)
    end = text.find("\n## ", start + len(title))
    return text[start:end]


def run_pytest(folder: Path, *args: str) -> subprocess.CompletedProcess[str]:
    """pytest in a fresh process, outside this project's rootdir and conftest files."""
    command = [sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", *args]
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    return subprocess.run(
        command, cwd=folder, capture_output=True, text=True, timeout=120, env=env, check=False
    )


def test_the_python_examples_pass_as_user_tests(tmp_path: Path) -> None:
    examples = [*blocks("python"), *blocks("python", readme_section())]
    examples += blocks("python", readme_section(PROXY_SECTION))  # the gateway_proxy fixture
    assert len(examples) >= 8
    for number, code in enumerate(examples, 1):
        (tmp_path / f"test_doc_example_{number}.py").write_text(code)
    result = run_pytest(tmp_path)
    assert result.returncode == 0, result.stdout + result.stderr
    assert re.search(r"\b1[1-9] passed\b", result.stdout), result.stdout


def run_ci_recipe(folder: Path, **env: str) -> subprocess.CompletedProcess[str]:
    [script] = blocks("sh")
    path = f"{Path(sys.executable).parent}{os.pathsep}{os.environ['PATH']}"
    return subprocess.run(
        ["bash", "-ec", script + '\necho\necho "MOCK_URL=$MOCK_URL"\n'],
        cwd=folder,
        capture_output=True,
        text=True,
        timeout=90,
        env={**os.environ, "PATH": path, **env},
        check=False,
    )


@pytest.mark.skipif(not shutil.which("curl"), reason="the CI example uses curl")
def test_the_ci_shell_example_runs_its_own_mock(tmp_path: Path) -> None:
    with running_mock() as other:  # a server already running must not be mistaken for ours
        result = run_ci_recipe(tmp_path)
    log = (tmp_path / "mock.log").read_text()
    assert result.returncode == 0, result.stdout + result.stderr + log
    assert '"status":"QUEUED"' in result.stdout
    url = re.search(r"^MOCK_URL=(http://127\.0\.0\.1:(\d+))$", result.stdout, re.M)
    assert url is not None and url.group(1) != other.base_url, result.stdout
    port = int(url.group(2))
    deadline = time.monotonic() + 10
    while time.monotonic() < deadline:  # the trap's SIGTERM stops the mock in a moment
        with socket.socket() as probe:
            if probe.connect_ex(("127.0.0.1", port)) != 0:
                return
        time.sleep(0.05)
    pytest.fail("the mock was still running after the script ended")


@pytest.mark.skipif(not shutil.which("curl"), reason="the CI example uses curl")
def test_the_ci_shell_example_fails_when_its_mock_does_not_start(tmp_path: Path) -> None:
    broken = tmp_path / "fixtures"
    (broken / "images").mkdir(parents=True)
    (broken / "images" / "samples.toml").write_text("[[samples]]\nname = 1\n")  # fatal
    with running_mock() as other:  # another mock answers meanwhile: it must not be used
        result = run_ci_recipe(tmp_path, MOCK_GATEWAY_FIXTURES=str(broken))
        steered = httpx.get(f"{other.base_url}/_mock/clock").json()
    assert result.returncode != 0, result.stdout
    assert "the mock did not start:" in result.stderr and "cannot start" in result.stderr
    assert '"status"' not in result.stdout and steered["frozen"] is False
