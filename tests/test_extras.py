"""The contract suite's own extra: it declares what the suite imports, and without it the
suite says in one line what to install (never a traceback)."""

from __future__ import annotations

import ast
import os
import re
import subprocess
import sys
import tomllib
from pathlib import Path

import pytest

from seedream_contracts.extras import INSTALL, MODULES

ROOT = Path(__file__).resolve().parent.parent
PROJECT = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]
# import name -> distribution name, where they differ
DISTRIBUTION = {"yaml": "pyyaml", "PIL": "pillow"}

# Runs ``python -m seedream_contracts`` or pytest with some modules made unimportable.
HIDE = """
import runpy, sys
HIDDEN = set(sys.argv[1].split(","))
class Hide:
    def find_spec(self, name, path=None, target=None):
        if name.split(".")[0] in HIDDEN:
            raise ModuleNotFoundError(f"No module named {name!r}", name=name)
sys.meta_path.insert(0, Hide())
sys.argv = sys.argv[2:]
runpy.run_module(sys.argv[0], run_name="__main__", alter_sys=True)
"""


def names(requirements: list[str]) -> set[str]:
    return {re.split(r"[<>=!\[; ]", r, maxsplit=1)[0].lower() for r in requirements}


def third_party_imports(folder: Path) -> set[str]:
    found: set[str] = set()
    for path in folder.glob("*.py"):
        for node in ast.walk(ast.parse(path.read_text())):
            if isinstance(node, ast.Import):
                found |= {alias.name.split(".")[0] for alias in node.names}
            elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
                found.add(node.module.split(".")[0])
    local = {"seedream_contracts", "mock_gateway", "seedream_client", "__future__"}
    return {name for name in found - local if name not in sys.stdlib_module_names}


def test_the_contracts_extra_declares_what_the_suite_imports() -> None:
    extras = PROJECT["optional-dependencies"]
    declared = names(PROJECT["dependencies"]) | names(extras["contracts"])
    imported = {DISTRIBUTION.get(n, n).lower() for n in third_party_imports(ROOT / "contracts")}
    assert imported <= declared, sorted(imported - declared)
    assert names(extras["contracts"]) == {m.lower() for m in MODULES}
    assert "seedream-gateway-mock[contracts]" in extras["dev"]  # dev includes the suite


def hidden(modules: str, *argv: str, **env: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-c", HIDE, modules, *argv],
        capture_output=True, text=True, cwd=ROOT, timeout=60, env={**os.environ, **env},
    )  # fmt: skip


@pytest.mark.parametrize("module", ["requests", "schemathesis", "hypothesis"])
def test_running_the_suite_without_the_extra_is_one_line(module: str) -> None:
    done = hidden(module, "seedream_contracts")
    assert done.returncode == 2 and "Traceback" not in done.stderr, done.stderr
    assert done.stderr.strip() == (
        "seedream_contracts: the contract suite needs the 'contracts' extra "
        f"(missing: {module}); install it with: {INSTALL}"
    )


def test_pytest_on_the_suite_without_the_extra_is_one_line() -> None:
    # schemathesis's own pytest plugin is not loaded: it is exactly what is missing
    done = hidden("schemathesis", "pytest", "seedream_contracts", "-p", "no:cacheprovider",
                  PYTEST_DISABLE_PLUGIN_AUTOLOAD="1")  # fmt: skip
    output = done.stdout + done.stderr
    assert done.returncode == pytest.ExitCode.USAGE_ERROR, output
    assert "Traceback" not in output
    assert output.strip().splitlines() == [
        "ERROR: the contract suite needs the 'contracts' extra (missing: schemathesis); "
        f"install it with: {INSTALL}"
    ]


def test_the_drift_diff_needs_no_extra() -> None:
    recording = str(ROOT / "fixtures" / "recordings" / "documented")
    done = hidden("requests,schemathesis,hypothesis,pytest", "seedream_contracts", "diff",
                  recording, recording)  # fmt: skip
    assert done.returncode == 0 and "0 item(s)" in done.stdout, done.stderr
