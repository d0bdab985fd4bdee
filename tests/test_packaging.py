"""What a wheel ships: every code package and every fixture folder the mock reads at run time.

pyproject.toml lists packages by hand (fixtures/ is mapped to ``seedream_gateway_fixtures``),
so a new subpackage or fixture folder must be added there; these tests say so when it is not.
"""

from __future__ import annotations

import tomllib
from pathlib import Path

import pytest

from mock_gateway.config import paths

ROOT = Path(__file__).resolve().parent.parent
SETUPTOOLS = tomllib.loads((ROOT / "pyproject.toml").read_text())["tool"]["setuptools"]


def test_every_code_package_is_listed() -> None:
    found = {
        ".".join(init.parent.relative_to(ROOT).parts)
        for top in ("mock_gateway", "seedream_client", "seedream_contracts")
        for init in (ROOT / top).rglob("__init__.py")
    }
    assert found <= set(SETUPTOOLS["packages"]), sorted(found - set(SETUPTOOLS["packages"]))


def test_every_fixture_folder_with_data_is_listed() -> None:
    fixtures = ROOT / "fixtures"
    folders = {
        ".".join(("seedream_gateway_fixtures", *path.relative_to(fixtures).parts))
        for path in [fixtures, *fixtures.rglob("*")]
        if path.is_dir() and any(f.is_file() and f.suffix != ".py" for f in path.iterdir())
    }
    listed = set(SETUPTOOLS["packages"])
    assert folders <= listed, sorted(folders - listed)
    data = SETUPTOOLS["package-data"]
    assert all(name in data for name in folders), sorted(folders - set(data))


def test_fixtures_fall_back_to_the_installed_copy(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("MOCK_GATEWAY_FIXTURES", raising=False)
    assert paths.fixtures_dir() == ROOT / "fixtures"  # a checkout uses its own folder
    monkeypatch.setattr(paths, "PROJECT_ROOT", tmp_path)  # as if installed from a wheel
    installed = paths.fixtures_dir()
    assert (installed / "keys.toml").is_file() and (installed / "images" / "samples.toml").is_file()
    monkeypatch.setenv("MOCK_GATEWAY_FIXTURES", str(tmp_path))
    assert paths.fixtures_dir() == tmp_path
