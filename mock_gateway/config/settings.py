"""Settings of a mock instance, from defaults, a TOML file and command-line overrides.

A config file (``--config FILE``) and a scenario file share one format; every key is
checked against ``CONFIG_SCHEMA`` so a typo is reported with the file and the key instead
of being silently ignored.
"""

from __future__ import annotations

import os
import tomllib
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

DEFAULT_BLOCKLIST = ("nsfw", "nude", "naked", "gore", "blood", "violence", "weapon", "unsafe")


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
        # The bundled fixtures are checked by the test suite; when nothing else is given
        # there is nothing to check, and start-up skips importing jsonschema (a third of it).
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
        by_name[entry["key"]] = KeySettings(
            key=entry["key"],
            balance_usd=_usd(entry.get("balance_usd", "100"), f"{where}.balance_usd"),
            forbidden=bool(entry.get("forbidden", False)),
            rate_limits=_limits(entry.get("rate_limits", {}), f"{where}.rate_limits"),
            note=str(entry.get("note", "")),
        )
    return tuple(by_name.values())


def from_mapping(data: dict[str, Any], source: str = "defaults", *, check: bool = True) -> Settings:
    """Build settings from already-merged config data (used by scenarios too)."""
    problems = (check_config(data) if check else []) + _fault_problems(data.get("faults", []))
    if problems:
        raise ConfigError(_problems_text(source, problems))
    operations = submit_operations(load_document()).values()
    prices = {op.operation_id: op.price_usd for op in operations}
    for name, value in data.get("prices", {}).items():
        prices[name] = _usd(value, f"prices.{name}")
    timing = data.get("timing", "fast")
    webhooks = data.get("webhooks", {})
    control = data.get("control", {})
    secret = webhooks.get("signing_secret") or None
    if secret is not None:
        try:
            secret_bytes(secret)
        except ValueError as exc:
            raise ConfigError(f"{source}: webhooks.signing_secret: {exc}") from exc
    endpoints = fault_endpoints() if data.get("faults") else {}
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
        any_key_idle_seconds=data.get("any_key_idle_seconds"),
        default_rate_limits=_limits(data.get("rate_limits", {}), "rate_limits"),
        disabled_models=frozenset(data.get("disabled_models", [])),
        seed=data.get("seed"),
    )
    settings = Settings(
        core=core,
        max_body_bytes=int(data.get("max_body_bytes", 20 * 1024 * 1024)),
        media_cache_bytes=int(data.get("media_cache_bytes", 256 * 1024 * 1024)),
        decode_concurrency=int(data.get("decode_concurrency", 2)),
        fetch_remote_inputs=bool(data.get("fetch_remote_inputs", False)),
        control_enabled=bool(control.get("enabled", True)),
        control_token=control.get("token") or None,
        journal_size=int(control.get("journal_size", 10_000)),
        journal_bytes=int(control.get("journal_bytes", 32 * 1024 * 1024)),
        min_poll_seconds=float(control.get("min_poll_seconds", 5.0)),
        duplicate_window_seconds=float(control.get("duplicate_window_seconds", 10.0)),
        webhooks=WebhookSettings(
            allow_hosts=tuple(webhooks.get("allow_hosts", ())),
            max_attempts=int(webhooks.get("max_attempts", 5)),
            backoff_seconds=float(webhooks.get("backoff_seconds", 1.0)),
            timeout_seconds=float(webhooks.get("timeout_seconds", 10.0)),
            per_host_concurrency=int(webhooks.get("per_host_concurrency", 4)),
            signing_secret=secret,
        ),
        faults=tuple(parse_rule(rule, endpoints) for rule in data.get("faults", [])),
        source=source,
    )
    return settings
