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

from mock_gateway.config.paths import fixtures_dir
from mock_gateway.config.settings import ConfigError

_NAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_-]*$")


def scenarios_dir() -> Path:
    return fixtures_dir() / "scenarios"


def available() -> dict[str, str]:
    """Bundled scenario names and their one-line descriptions."""
    found: dict[str, str] = {}
    for path in sorted(scenarios_dir().glob("*.toml")):
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
    path = scenarios_dir() / f"{text}.toml"
    if not path.is_file():
        names = ", ".join(available()) or "(none bundled)"
        raise ConfigError(f"scenario {text!r}: not found in {scenarios_dir()} (known: {names})")
    return path


def describe(scenario: str | Path | None) -> str:
    """What the banner prints about the scenario in use."""
    if scenario is None:
        return "none"
    path = scenario_path(scenario)
    return path.stem if path.parent == scenarios_dir() else str(path)
