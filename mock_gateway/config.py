"""Settings of a mock instance, from defaults, a TOML file and command-line overrides.

A config file (``--config FILE``) and a scenario file share one format; every key is
checked against ``CONFIG_SCHEMA`` so a typo is reported with the file and the key instead
of being silently ignored.
"""

from __future__ import annotations

import tomllib
from dataclasses import dataclass, field, replace
from decimal import Decimal, InvalidOperation
from pathlib import Path
from typing import Any

from .config_schema import check_config
from .core.settings import TIMING_PROFILES, CoreSettings, KeySettings, RateLimit
from .paths import fixtures_dir

DEFAULT_BLOCKLIST = ("nsfw", "nude", "naked", "gore", "blood", "violence", "weapon", "unsafe")


class ConfigError(ValueError):
    """A config or scenario file that cannot be used; the message names the file and key."""


@dataclass(frozen=True, slots=True)
class Settings:
    core: CoreSettings = field(default_factory=CoreSettings)
    host: str = "127.0.0.1"
    port: int = 8000
    max_body_bytes: int = 20 * 1024 * 1024
    media_cache_bytes: int = 256 * 1024 * 1024
    fetch_remote_inputs: bool = False
    control_enabled: bool = True
    control_token: str | None = None
    journal_size: int = 10_000
    webhook_allow_hosts: tuple[str, ...] = ()
    webhook_max_attempts: int = 5
    webhook_timeout_seconds: float = 10.0
    webhook_signing_secret: str | None = None
    fixtures: Path = field(default_factory=fixtures_dir)
    source: str = "defaults"
    raw: dict[str, Any] = field(default_factory=dict)  # the merged file data, for extensions

    @classmethod
    def load(cls, config_file: str | Path | None = None, **overrides: Any) -> Settings:
        """Defaults + ``fixtures/keys.toml`` + ``config_file`` + keyword overrides.

        Overrides use the config file's key names (``timing="manual"``, ``any_key=True``,
        ``seed=1``, ``workers=2`` ...).
        """
        data: dict[str, Any] = {}
        keys_file = fixtures_dir() / "keys.toml"
        if keys_file.exists():
            data.update(read_toml(keys_file))
        source = "defaults"
        if config_file is not None:
            data.update(read_toml(Path(config_file)))
            source = str(config_file)
        data.update({name: value for name, value in overrides.items() if value is not None})
        return from_mapping(data, source)


def read_toml(path: Path) -> dict[str, Any]:
    try:
        with path.open("rb") as handle:
            data = tomllib.load(handle)
    except FileNotFoundError as exc:
        raise ConfigError(f"{path}: no such file") from exc
    except tomllib.TOMLDecodeError as exc:
        raise ConfigError(f"{path}: not valid TOML: {exc}") from exc
    problem = check_config(data)
    if problem:
        raise ConfigError(f"{path}: {problem}")
    return data


def _usd(value: Any, where: str) -> Decimal:
    try:
        amount = Decimal(str(value))
    except InvalidOperation as exc:
        raise ConfigError(f"{where}: {value!r} is not an amount in USD") from exc
    if not amount.is_finite() or amount < 0:
        raise ConfigError(f"{where}: {value!r} must be a non-negative amount in USD")
    return amount


def _limits(mapping: dict[str, str], where: str) -> dict[str, RateLimit]:
    try:
        return {group: RateLimit.parse(text) for group, text in mapping.items()}
    except ValueError as exc:
        raise ConfigError(f"{where}: {exc}") from exc


def _keys(entries: list[dict[str, Any]]) -> tuple[KeySettings, ...]:
    by_name: dict[str, KeySettings] = {}
    for position, entry in enumerate(entries):
        where = f"keys[{position}] ({entry.get('key', '?')})"
        by_name[entry["key"]] = KeySettings(
            key=entry["key"],
            balance_usd=_usd(entry.get("balance_usd", "100"), f"{where}.balance_usd"),
            forbidden=bool(entry.get("forbidden", False)),
            rate_limits=_limits(entry.get("rate_limits", {}), f"{where}.rate_limits"),
            note=str(entry.get("note", "")),
        )
    return tuple(by_name.values())


def from_mapping(data: dict[str, Any], source: str = "defaults") -> Settings:
    """Build settings from already-merged config data (used by scenarios too)."""
    problem = check_config(data)
    if problem:
        raise ConfigError(f"{source}: {problem}")
    from .contract import load_contract  # late: the contract module imports jsonschema

    prices = {op.operation_id: op.price_usd for op in load_contract().submit_operations()}
    for name, value in data.get("prices", {}).items():
        prices[name] = _usd(value, f"prices.{name}")
    timing = data.get("timing", "fast")
    webhooks = data.get("webhooks", {})
    control = data.get("control", {})
    core = CoreSettings(
        timing=TIMING_PROFILES[timing],
        workers=int(data.get("workers", 8)),
        retention_seconds=float(data.get("retention_seconds", 24 * 3600)),
        prices_usd=prices,
        price_per_image=bool(data.get("price_per_image", True)),
        charge_failed=bool(data.get("charge_failed", True)),
        safety_blocklist=tuple(data.get("safety_blocklist", DEFAULT_BLOCKLIST)),
        keys=_keys(data.get("keys", [])),
        any_key=bool(data.get("any_key", False)),
        any_key_balance_usd=_usd(data.get("any_key_balance_usd", "100"), "any_key_balance_usd"),
        default_rate_limits=_limits(data.get("rate_limits", {}), "rate_limits"),
        disabled_models=frozenset(data.get("disabled_models", [])),
        seed=data.get("seed"),
    )
    settings = Settings(
        core=core,
        max_body_bytes=int(data.get("max_body_bytes", 20 * 1024 * 1024)),
        media_cache_bytes=int(data.get("media_cache_bytes", 256 * 1024 * 1024)),
        fetch_remote_inputs=bool(data.get("fetch_remote_inputs", False)),
        control_enabled=bool(control.get("enabled", True)),
        control_token=control.get("token") or None,
        journal_size=int(control.get("journal_size", 10_000)),
        webhook_allow_hosts=tuple(webhooks.get("allow_hosts", ())),
        webhook_max_attempts=int(webhooks.get("max_attempts", 5)),
        webhook_timeout_seconds=float(webhooks.get("timeout_seconds", 10.0)),
        webhook_signing_secret=webhooks.get("signing_secret") or None,
        source=source,
        raw=data,
    )
    return settings


def with_overrides(settings: Settings, **changes: Any) -> Settings:
    """A copy of ``settings`` with top-level fields replaced (``host``, ``port`` ...)."""
    return replace(settings, **changes)
