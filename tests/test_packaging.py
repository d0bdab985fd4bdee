"""What a wheel ships: every code package and every fixture folder the mock reads at run time.

pyproject.toml lists packages by hand (fixtures/ is mapped to ``seedream_gateway_fixtures``),
so a new subpackage or fixture folder must be added there; these tests say so when it is not.
"""

from __future__ import annotations

import tomllib
from pathlib import Path

import pytest

from mock_gateway.config import paths, scenarios
from mock_gateway.config.settings import Settings
from mock_gateway.imaging.samples import SampleImages

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
    assert paths.bundled_fixtures_dir() == ROOT / "fixtures"  # a checkout uses its own folder
    monkeypatch.setattr(paths, "PROJECT_ROOT", tmp_path)  # as if installed from a wheel
    installed = paths.bundled_fixtures_dir()
    assert (installed / "keys.toml").is_file() and (installed / "images" / "samples.toml").is_file()
    monkeypatch.setenv("MOCK_GATEWAY_FIXTURES", str(tmp_path))
    assert paths.fixtures_dir() == tmp_path


def test_a_fixtures_folder_holds_only_what_it_overrides(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    (tmp_path / "keys.toml").write_text('[[keys]]\nkey = "own-key"\nbalance_usd = "3"\n')
    (tmp_path / "scenarios").mkdir()
    (tmp_path / "scenarios" / "mine.toml").write_text('description = "my own"\nworkers = 3\n')
    monkeypatch.setenv("MOCK_GATEWAY_FIXTURES", str(tmp_path))
    assert paths.fixture_path("keys.toml") == tmp_path / "keys.toml"
    assert paths.images_dir() == ROOT / "fixtures" / "images"  # not overridden: bundled
    settings = Settings.load()
    names = {key.key for key in settings.core.keys}
    assert "own-key" in names and "test-key" not in names
    assert SampleImages().urls()  # the bundled samples, though the folder has no images/
    assert Settings.load(scenario="mine").core.workers == 3
    assert Settings.load(scenario="flaky").faults  # a bundled scenario is still found
    assert {"mine", "flaky"} <= set(scenarios.available())
