"""The built wheel, installed into a fresh venv beside a user project that has its own
``client.py`` and ``contracts/`` package: the README's client example and the pytest plugin run
there, the console scripts work, and nothing of ours shadows the user's modules.

Dependencies come from PyPI once and are kept in a wheelhouse under ``.venv/`` (``make clean``
removes it), so later runs install offline. Deselect with ``-m "not wheel"``.
"""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
import textwrap
import tomllib
import zipfile
from collections.abc import Iterator
from pathlib import Path

import pytest

from seedream_contracts.target import ServerProcess
from server_process import running_server

pytestmark = pytest.mark.wheel

ROOT = Path(__file__).resolve().parent.parent
WHEELHOUSE = ROOT / ".venv" / "wheel-test-cache"
EXTRA_FOR_THE_PLUGIN = ["pytest>=8.3,<9.2"]
NOT_SOURCE = (".git", ".venv", "build", "dist", "out", "*.egg-info", "__pycache__", ".*_cache",
              ".hypothesis")  # fmt: skip


def run(*command: str | Path, cwd: Path | None = None, timeout: float = 180) -> str:
    env = {k: v for k, v in os.environ.items() if k not in ("PYTHONPATH", "VIRTUAL_ENV")}
    env |= {"PIP_DISABLE_PIP_VERSION_CHECK": "1", "PYTHONDONTWRITEBYTECODE": "1"}
    env = {k: v for k, v in env.items() if not k.startswith(("PIXAZO_", "MOCK_GATEWAY_"))}
    done = subprocess.run([str(c) for c in command], cwd=cwd, env=env, capture_output=True,
                          text=True, timeout=timeout, check=False)  # fmt: skip
    assert done.returncode == 0, f"{command}\n{done.stdout[-3000:]}\n{done.stderr[-3000:]}"
    return done.stdout + done.stderr


def pip(*args: str | Path) -> str:
    return run(sys.executable, "-m", "pip", *args)


def offline_or_fetch(*args: str | Path, fetch: list[str]) -> None:
    """``pip ARGS`` from the wheelhouse only; the first time, fetch ``fetch`` into it first."""
    offline = ["--no-index", "--find-links", str(WHEELHOUSE)]
    try:
        pip(*args, *offline)
    except AssertionError:  # first run, or new dependencies: fetch them once
        forget_our_wheel()  # a stale copy there would lend its old dependencies to pip
        pip("download", "--quiet", "--dest", WHEELHOUSE, *fetch)
        forget_our_wheel()
        pip(*args, *offline)


def forget_our_wheel() -> None:
    for stale in WHEELHOUSE.glob("seedream_gateway_mock-*.whl"):
        stale.unlink()


@pytest.fixture(scope="module")
def wheel(tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("dist")
    # a copy: setuptools would leave build/ in the checkout, and reuse it next time
    source = tmp_path_factory.mktemp("source") / "src"
    shutil.copytree(ROOT, source, symlinks=True, ignore=shutil.ignore_patterns(*NOT_SOURCE))
    build_system = tomllib.loads((ROOT / "pyproject.toml").read_text())["build-system"]
    offline_or_fetch("wheel", "--no-deps", "--quiet", "--wheel-dir", out, source,
                     fetch=build_system["requires"])  # fmt: skip
    [built] = out.glob("seedream_gateway_mock-*.whl")
    return built


@pytest.fixture(scope="module")
def venv(wheel: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A fresh venv (no pip of its own: this interpreter's pip installs into it) with the
    wheel and pytest, from the wheelhouse (filled from PyPI the first time)."""
    target = tmp_path_factory.mktemp("venv") / "env"
    run(sys.executable, "-m", "venv", "--without-pip", target)
    wanted = [str(wheel), *EXTRA_FOR_THE_PLUGIN]
    offline_or_fetch("--python", target / "bin" / "python", "install", "--quiet", *wanted,
                     fetch=wanted)  # fmt: skip
    return target


@pytest.fixture(scope="module")
def project(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A user's project whose own module names are the ones ours used to take."""
    home = tmp_path_factory.mktemp("user-project")
    (home / "client.py").write_text('WHO = "the user\'s client.py"\n')
    (home / "contracts").mkdir()
    (home / "contracts" / "__init__.py").write_text('WHO = "the user\'s contracts package"\n')
    (home / "contracts" / "document.py").write_text("RULES = []\n")
    return home


def readme_block(marker: str) -> str:
    """The README's Python block that contains ``marker``."""
    blocks: list[str] = re.findall(
        r"```python\n(.*?)```", (ROOT / "README.md").read_text(), flags=re.S
    )
    [block] = [b for b in blocks if marker in b]
    return block


def test_the_wheel_holds_the_new_import_names(wheel: Path) -> None:
    names = zipfile.ZipFile(wheel).namelist()
    tops = {name.split("/")[0] for name in names if "/" in name and ".dist-info" not in name}
    assert tops == {"mock_gateway", "seedream_client", "seedream_contracts",
                    "seedream_gateway_fixtures"}, tops  # fmt: skip
    for path in (
        "seedream_client/__init__.py",
        "seedream_client/cli.py",
        "seedream_contracts/openapi.yaml",
        "seedream_contracts/conftest.py",
        "seedream_gateway_fixtures/keys.toml",
        "mock_gateway/web/control-openapi.yaml",
    ):
        assert path in names, path  # fmt: skip


def test_console_scripts_work_from_the_wheel(venv: Path, project: Path) -> None:
    bin_dir = venv / "bin"
    assert run(bin_dir / "seedream", "--version", cwd=project).startswith("seedream 0.")
    assert run(bin_dir / "mock-gateway", "--version", cwd=project).startswith("mock-gateway 0.")
    assert "the LIVE gateway" in " ".join(run(bin_dir / "seedream", "--help", cwd=project).split())
    # the contract suite without its extra: one line naming the extra
    done = subprocess.run([str(bin_dir / "python"), "-m", "seedream_contracts"], cwd=project,
                          capture_output=True, text=True, timeout=60, check=False)  # fmt: skip
    assert done.returncode == 2 and "Traceback" not in done.stderr, done.stderr
    assert "pip install 'seedream-gateway-mock[contracts]'" in done.stderr
    assert "(missing: hypothesis, schemathesis, requests)" in done.stderr


@pytest.fixture
def installed_mock(venv: Path, project: Path) -> Iterator[ServerProcess]:
    command = [str(venv / "bin" / "mock-gateway"), "serve", "--port", "0"]
    with running_server(command, timeout=30) as server:
        yield server


def test_the_readme_client_example_runs_beside_a_users_modules(
    venv: Path, project: Path, installed_mock: ServerProcess
) -> None:
    example = readme_block("from seedream_client import Gateway, GatewayError")
    prelude = 'import client, contracts\nprint("mine:", client.WHO, "/", contracts.WHO)\n'
    script = prelude + example.replace("http://127.0.0.1:8000", installed_mock.base_url)
    (project / "example.py").write_text(script)
    try:
        output = run(venv / "bin" / "python", "example.py", cwd=project, timeout=120)
    except AssertionError as exc:
        process = installed_mock.process
        code = process.poll() if process is not None else None
        server = "\n".join(installed_mock.output[-30:])
        raise AssertionError(f"{exc}\nthe mock (exit code {code}) said:\n{server}") from None
    assert "mine: the user's client.py / the user's contracts package" in output
    assert "estimated cost: 0.070" in output and "saved out/" in output, output
    assert "COMPLETED" in output and "need 0.035 USD; status 402" in output, output


def test_the_pytest_plugin_runs_in_the_users_project(venv: Path, project: Path) -> None:
    tests = project / "tests"
    tests.mkdir(exist_ok=True)
    (tests / "test_with_the_mock.py").write_text(
        textwrap.dedent(
            """
            import client
            import contracts
            from seedream_client import Gateway


            def test_a_job_with_the_plugin(mock_gateway):
                assert client.WHO.startswith("the user's") and contracts.WHO
                with Gateway(api_key=mock_gateway.key, base_url=mock_gateway.base_url) as gw:
                    status = gw.text_to_image("a kite").wait(timeout=60)
                assert status.status == "COMPLETED"
                assert mock_gateway.warnings() == []  # the client's polling is not flagged
            """
        )
    )
    output = run(venv / "bin" / "python", "-m", "pytest", "-q", "-p", "no:cacheprovider",
                 "tests", cwd=project, timeout=120)  # fmt: skip
    assert "1 passed" in output, output
