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

import pytest

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


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@pytest.mark.skipif(not shutil.which("curl"), reason="the CI example uses curl")
def test_the_ci_shell_example_runs(tmp_path: Path) -> None:
    [script] = blocks("sh")
    port = str(free_port())
    script = script.replace("8000", port)
    env = {**os.environ, "PATH": f"{Path(sys.executable).parent}{os.pathsep}{os.environ['PATH']}"}
    result = subprocess.run(
        ["bash", "-ec", script],
        cwd=tmp_path,
        capture_output=True,
        text=True,
        timeout=60,
        env=env,
        check=False,
    )
    log = (tmp_path / "mock.log").read_text()
    assert result.returncode == 0, result.stdout + result.stderr + log
    assert '"status":"QUEUED"' in result.stdout
    deadline = time.monotonic() + 10
    while time.monotonic() < deadline:  # the trap's SIGTERM stops the mock in a moment
        with socket.socket() as probe:
            if probe.connect_ex(("127.0.0.1", int(port))) != 0:
                return
        time.sleep(0.05)
    pytest.fail("the mock was still running after the script ended")
