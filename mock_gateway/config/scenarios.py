"""Scenarios: named, ready-made worlds for the mock (``--scenario NAME|PATH``).

A scenario file has the config file's format (keys, balances, prices, timing, workers, rate
limits, webhooks) plus ``[[faults]]`` rules; the bundled ones live in
``fixtures/scenarios/<name>.toml``. A malformed scenario stops the mock at start with the
file, the line or key, and the problem, never half-applied.
"""

from __future__ import annotations

import re
import tomllib
from pathlib import Path

from mock_gateway.config.paths import fixture_path, fixtures_dirs
from mock_gateway.config.settings import ConfigError

_NAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_-]*$")


def scenarios_dirs() -> list[Path]:
    """``scenarios/`` of ``$MOCK_GATEWAY_FIXTURES`` (if set), then the bundled one."""
    return [folder / "scenarios" for folder in fixtures_dirs()]


def available() -> dict[str, str]:
    """Scenario names (yours first, then the bundled ones) and their one-line descriptions."""
    found: dict[str, str] = {}
    paths = [path for folder in scenarios_dirs() for path in sorted(folder.glob("*.toml"))]
    for path in paths:
        if path.stem in found:
            continue  # overridden by a file of the same name in $MOCK_GATEWAY_FIXTURES
        try:
            with path.open("rb") as handle:
                description = tomllib.load(handle).get("description", "")
        except (OSError, tomllib.TOMLDecodeError):
            description = "(unreadable)"
        found[path.stem] = str(description)
    return found


def scenario_path(scenario: str | Path) -> Path:
    """``flaky`` -> ``fixtures/scenarios/flaky.toml``; anything path-like is used as given."""
    text = str(scenario)
    if isinstance(scenario, Path) or not _NAME.match(text):
        path = Path(text).expanduser()
        if not path.is_file():
            raise ConfigError(f"{path}: no such scenario file")
        return path
    path = fixture_path(f"scenarios/{text}.toml")
    if not path.is_file():
        names = ", ".join(available()) or "(none bundled)"
        where = " or ".join(str(folder) for folder in scenarios_dirs())
        raise ConfigError(f"scenario {text!r}: not found in {where} (known: {names})")
    return path


def describe(scenario: str | Path | None) -> str:
    """What the banner prints about the scenario in use."""
    if scenario is None:
        return "none"
    path = scenario_path(scenario)
    return path.stem if path.parent in scenarios_dirs() else str(path)
