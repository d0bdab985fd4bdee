"""Settings of a mock instance, from defaults, a TOML file and command-line overrides.

A config file (``--config FILE``) and a scenario file share one format; every key is
checked against ``CONFIG_SCHEMA`` so a typo is reported with the file and the key instead
of being silently ignored.
"""

from __future__ import annotations

import os
import tomllib
from collections.abc import Callable
from dataclasses import dataclass, field
from decimal import Decimal, InvalidOperation
from pathlib import Path
from typing import Any

from mock_gateway.config.paths import fixture_path
from mock_gateway.config.schema import check_config, locate
from mock_gateway.core.settings import TIMING_PROFILES, CoreSettings, KeySettings, RateLimit
from mock_gateway.steering.faults import FaultError, FaultSpec, parse_rule
from mock_gateway.steering.webhook_policy import WebhookSettings, secret_bytes
from seedream_contracts.document import load_document, submit_operations


class ConfigError(ValueError):
    """A config or scenario file that cannot be used; the message names the file and key."""


@dataclass(frozen=True, slots=True)
class Settings:
    core: CoreSettings = field(default_factory=CoreSettings)
    max_body_bytes: int = 20 * 1024 * 1024
    media_cache_bytes: int = 256 * 1024 * 1024
    fetch_remote_inputs: bool = False
    control_enabled: bool = True
    control_token: str | None = None
    journal_size: int = 10_000  # newest entries kept by /_mock/requests and /_mock/webhooks
    journal_bytes: int = 32 * 1024 * 1024  # and at most this much kept by each of them
    decode_concurrency: int = 2  # big bodies parsed / input images decoded at once
    min_poll_seconds: float = 5.0  # hygiene: faster polls of one request are flagged
    duplicate_window_seconds: float = 10.0  # hygiene: identical submits closer are flagged
    webhooks: WebhookSettings = field(default_factory=WebhookSettings)
    faults: tuple[FaultSpec, ...] = ()  # rules active at start and after every reset
    source: str = "defaults"

    @classmethod
    def load(
        cls,
        config_file: str | Path | None = None,
        *,
        scenario: str | Path | None = None,
        **overrides: Any,
    ) -> Settings:
        """Defaults + ``fixtures/keys.toml`` + a scenario + ``config_file`` + overrides.

        Overrides use the config file's key names (``timing="manual"``, ``any_key=True``,
        ``seed=1``, ``workers=2``, ``webhooks={...}`` ...). Later sources win; ``keys`` and
        ``faults`` lists add up (a key of the same name replaces the earlier one).
        """
        data: dict[str, Any] = {}
        given = {name: value for name, value in overrides.items() if value is not None}
        # The bundled fixtures are checked by the test suite (tests/test_startup.py); when
        # nothing else is given there is nothing to check.
        trusted = (
            config_file is None
            and scenario is None
            and not given
            and not os.environ.get("MOCK_GATEWAY_FIXTURES")
        )
        keys_file = fixture_path("keys.toml")
        if keys_file.exists():
            merge(data, read_toml(keys_file, check=not trusted))
        sources = []
        if scenario is not None:
            from mock_gateway.config.scenarios import (
                scenario_path,  # late: scenarios imports this module
            )

            path = scenario_path(scenario)
            merge(data, read_toml(path))
            sources.append(f"scenario {path}")
        if config_file is not None:
            merge(data, read_toml(Path(config_file)))
            sources.append(str(config_file))
        merge(data, given)
        return from_mapping(data, " + ".join(sources) or "defaults", check=not trusted)


def merge(data: dict[str, Any], extra: dict[str, Any]) -> dict[str, Any]:
    """Fold ``extra`` into ``data``: lists of keys and faults add up, tables merge one level
    deep (so a scenario's ``[webhooks]`` keeps the settings a config file does not name)."""
    for name, value in extra.items():
        current = data.get(name)
        if name in ("keys", "faults") and isinstance(current, list) and isinstance(value, list):
            data[name] = [*current, *value]
        elif isinstance(current, dict) and isinstance(value, dict):
            data[name] = {**current, **value}
        else:
            data[name] = value
    return data


def read_toml(path: Path, *, check: bool = True) -> dict[str, Any]:
    try:
        with path.open("rb") as handle:
            data = tomllib.load(handle)
    except FileNotFoundError as exc:
        raise ConfigError(f"{path}: no such file") from exc
    except tomllib.TOMLDecodeError as exc:
        raise ConfigError(f"{path}: not valid TOML: {exc}") from exc
    except OSError as exc:
        raise ConfigError(f"{path}: cannot be read: {exc.strerror or exc}") from exc
    problems = (check_config(data) if check else []) + _fault_problems(data.get("faults", []))
    if problems:
        raise ConfigError(_problems_text(str(path), problems, path))
    return data


def _problems_text(source: str, problems: list[str], path: Path | None = None) -> str:
    """``FILE, line 3: timing: ...`` for one problem; all of them, numbered, for several."""

    def line_of(problem: str) -> int | None:
        return locate(path, problem.split(":", 1)[0]) if path is not None else None

    if len(problems) == 1:
        line = line_of(problems[0])
        return f"{source}{f', line {line}' if line else ''}: {problems[0]}"
    located = sorted(((line_of(p), p) for p in problems), key=lambda lp: lp[0] or 1 << 30)
    listed = [
        f"({number}) {f'line {line}: ' if line else ''}{problem}"
        for number, (line, problem) in enumerate(located, 1)
    ]
    return f"{source}: {len(problems)} problems: {'; '.join(listed)}"


def fault_endpoints() -> dict[str, str]:
    """Every accepted spelling of a fault rule's ``endpoint`` and its canonical name."""
    names = {"submit": "submit", "status": "status"}
    names |= {"/v2/requests/status": "status", "/v2/requests/status/{request_id}": "status"}
    for operation in submit_operations(load_document()).values():
        names[operation.operation_id] = operation.operation_id
        names[operation.path] = operation.operation_id
    return names


def _fault_problems(rules: Any) -> list[str]:
    """Every unusable fault rule as ``faults.i.field: problem``."""
    endpoints = fault_endpoints() if rules else {}
    problems = []
    for position, rule in enumerate(rules if isinstance(rules, list) else []):
        try:
            parse_rule(rule, endpoints)
        except FaultError as exc:
            text = str(exc)
            field_name, _, rest = text.partition(": ")
            if rest and field_name.isidentifier():
                problems.append(f"faults.{position}.{field_name}: {rest}")
            else:
                problems.append(f"faults.{position}: {text}")
    return problems


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
        by_name[entry["key"]] = KeySettings(key=entry["key"], **given(entry, KEY_FIELDS, where))
    return tuple(by_name.values())


Reader = Callable[[Any, str], Any]  # (value in the file, where it is) -> the setting
Fields = dict[str, tuple[str, Reader]]  # key in the file -> (dataclass field, reader)


def _as(convert: Callable[[Any], Any]) -> Reader:
    return lambda value, where: convert(value)


def _or_none(value: Any, where: str) -> Any:
    return value or None


# Where each setting sits in a config file and how it is read. A setting the file does not
# name is not passed at all, so its default is the dataclass field's: written once, there.
KEY_FIELDS: Fields = {
    "balance_usd": ("balance_usd", _usd),
    "forbidden": ("forbidden", _as(bool)),
    "rate_limits": ("rate_limits", _limits),
    "note": ("note", _as(str)),
}
CORE_FIELDS: Fields = {
    "timing": ("timing", _as(TIMING_PROFILES.__getitem__)),
    "workers": ("workers", _as(int)),
    "retention_seconds": ("retention_seconds", _as(float)),
    "price_per_image": ("price_per_image", _as(bool)),
    "charge_failed": ("charge_failed", _as(bool)),
    "safety_blocklist": ("safety_blocklist", _as(tuple)),
    "any_key": ("any_key", _as(bool)),
    "any_key_balance_usd": ("any_key_balance_usd", _usd),
    "any_key_idle_seconds": ("any_key_idle_seconds", _as(float)),
    "rate_limits": ("default_rate_limits", _limits),
    "disabled_models": ("disabled_models", _as(frozenset)),
    "seed": ("seed", _as(int)),
}
TOP_FIELDS: Fields = {
    "max_body_bytes": ("max_body_bytes", _as(int)),
    "media_cache_bytes": ("media_cache_bytes", _as(int)),
    "fetch_remote_inputs": ("fetch_remote_inputs", _as(bool)),
    "decode_concurrency": ("decode_concurrency", _as(int)),
}
CONTROL_FIELDS: Fields = {
    "enabled": ("control_enabled", _as(bool)),
    "token": ("control_token", _or_none),
    "journal_size": ("journal_size", _as(int)),
    "journal_bytes": ("journal_bytes", _as(int)),
    "min_poll_seconds": ("min_poll_seconds", _as(float)),
    "duplicate_window_seconds": ("duplicate_window_seconds", _as(float)),
}
WEBHOOK_FIELDS: Fields = {
    "allow_hosts": ("allow_hosts", _as(tuple)),
    "max_attempts": ("max_attempts", _as(int)),
    "backoff_seconds": ("backoff_seconds", _as(float)),
    "timeout_seconds": ("timeout_seconds", _as(float)),
    "per_host_concurrency": ("per_host_concurrency", _as(int)),
    "signing_secret": ("signing_secret", _or_none),
}


def given(
    table: dict[str, Any], fields: dict[str, tuple[str, Reader]], where: str
) -> dict[str, Any]:
    """The settings ``table`` names, read, as keyword arguments of their dataclass."""
    prefix = f"{where}." if where else ""
    return {
        name: read(table[key], f"{prefix}{key}")
        for key, (name, read) in fields.items()
        if key in table
    }


def from_mapping(data: dict[str, Any], source: str = "defaults", *, check: bool = True) -> Settings:
    """Build settings from already-merged config data (used by scenarios too)."""
    problems = (check_config(data) if check else []) + _fault_problems(data.get("faults", []))
    if problems:
        raise ConfigError(_problems_text(source, problems))
    operations = submit_operations(load_document()).values()
    prices = {op.operation_id: op.price_usd for op in operations}
    for name, value in data.get("prices", {}).items():
        prices[name] = _usd(value, f"prices.{name}")
    webhooks = given(data.get("webhooks", {}), WEBHOOK_FIELDS, "webhooks")
    if webhooks.get("signing_secret") is not None:
        try:
            secret_bytes(webhooks["signing_secret"])
        except ValueError as exc:
            raise ConfigError(f"{source}: webhooks.signing_secret: {exc}") from exc
    endpoints = fault_endpoints() if data.get("faults") else {}
    core = CoreSettings(
        prices_usd=prices,
        keys=_keys(data.get("keys", [])),
        **given(data, CORE_FIELDS, ""),
    )
    return Settings(
        core=core,
        webhooks=WebhookSettings(**webhooks),
        faults=tuple(parse_rule(rule, endpoints) for rule in data.get("faults", [])),
        source=source,
        **given(data, TOP_FIELDS, ""),
        **given(data.get("control", {}), CONTROL_FIELDS, "control"),
    )
