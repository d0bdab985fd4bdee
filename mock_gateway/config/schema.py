"""JSON Schema of config and scenario files, so mistakes are reported by key, not ignored.

A file is checked in two steps, as request bodies are (``validation/accept.py``): ``conforms``
says yes or no for the few keywords ``CONFIG_SCHEMA`` uses, in microseconds, and only a file
it refuses goes to jsonschema, which words every problem (and whose word is the rule: a
refusal it does not confirm is no refusal). Importing jsonschema and building its validator
took longer than the rest of a start-up with ``--config FILE`` after the imports; and
``accept.compile_acceptor`` (fastjsonschema), which answers request bodies that way, costs
about 24 ms to import and compile on first use: a tenth of a start-up, for one file read once.
"""

from __future__ import annotations

import functools
import re
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from jsonschema import Draft202012Validator

_USD = {"type": ["string", "number"], "pattern": r"^\d+(\.\d+)?$", "minimum": 0}
_RATE = {"type": "string", "pattern": r"^\s*\d+\s*/\s*\d*\s*[a-z]+\s*$"}
_LIMITS = {
    "type": "object",
    "propertyNames": {"enum": ["submit", "status"]},
    "additionalProperties": _RATE,
}

CONFIG_SCHEMA: dict[str, Any] = {
    "$schema": "https://json-schema.org/draft/2020-12/schema",
    "type": "object",
    "additionalProperties": False,
    "properties": {
        "name": {"type": "string"},
        "description": {"type": "string"},
        "timing": {"enum": ["fast", "realistic", "manual"]},
        "workers": {"type": "integer", "minimum": 1, "maximum": 1_000_000},
        "retention_seconds": {"type": "number", "exclusiveMinimum": 0},
        "seed": {"type": "integer"},
        "any_key": {"type": "boolean"},
        "any_key_balance_usd": _USD,
        "any_key_idle_seconds": {"type": "number", "exclusiveMinimum": 0},
        "price_per_image": {"type": "boolean"},
        "charge_failed": {"type": "boolean"},
        "max_body_bytes": {"type": "integer", "minimum": 1024},
        "media_cache_bytes": {"type": "integer", "minimum": 0},
        "decode_concurrency": {"type": "integer", "minimum": 1, "maximum": 64},
        "fetch_remote_inputs": {"type": "boolean"},
        "safety_blocklist": {"type": "array", "items": {"type": "string"}},
        "disabled_models": {"type": "array", "items": {"type": "string"}},
        "prices": {"type": "object", "additionalProperties": _USD},
        "rate_limits": _LIMITS,
        "keys": {
            "type": "array",
            "items": {
                "type": "object",
                "required": ["key"],
                "additionalProperties": False,
                "properties": {
                    "key": {"type": "string", "minLength": 1},
                    "balance_usd": _USD,
                    "forbidden": {"type": "boolean"},
                    "rate_limits": _LIMITS,
                    "note": {"type": "string"},
                },
            },
        },
        "webhooks": {
            "type": "object",
            "additionalProperties": False,
            "properties": {
                "allow_hosts": {"type": "array", "items": {"type": "string", "minLength": 1}},
                "max_attempts": {"type": "integer", "minimum": 1, "maximum": 50},
                "timeout_seconds": {"type": "number", "exclusiveMinimum": 0, "maximum": 600},
                "per_host_concurrency": {"type": "integer", "minimum": 1, "maximum": 1000},
                "signing_secret": {"type": "string", "pattern": "^(whsec_.+)?$"},
                "backoff_seconds": {"type": "number", "minimum": 0, "maximum": 86400},
            },
        },
        "control": {
            "type": "object",
            "additionalProperties": False,
            "properties": {
                "enabled": {"type": "boolean"},
                "token": {"type": "string"},
                "journal_size": {"type": "integer", "minimum": 1, "maximum": 10_000_000},
                "journal_bytes": {"type": "integer", "minimum": 65536},
                "min_poll_seconds": {"type": "number", "minimum": 0},
                "duplicate_window_seconds": {"type": "number", "minimum": 0},
            },
        },
        # Each rule is checked field by field by ``faults.parse_rule`` (clearer messages).
        "faults": {"type": "array", "items": {"type": "object"}},
    },
}


_NUMBER_BOUNDS: dict[str, Callable[[float, float], bool]] = {
    "minimum": lambda value, bound: value >= bound,
    "maximum": lambda value, bound: value <= bound,
    "exclusiveMinimum": lambda value, bound: value > bound,
}
_TYPES: dict[str, Callable[[Any], bool]] = {
    "object": lambda value: isinstance(value, dict),
    "array": lambda value: isinstance(value, list),
    "string": lambda value: isinstance(value, str),
    "boolean": lambda value: isinstance(value, bool),
    # stricter than JSON Schema, never looser: 1.0 is an integer there, and goes to jsonschema
    "integer": lambda value: type(value) is int,
    "number": lambda value: type(value) in (int, float),
}
_IGNORED = {"$schema"}


def _unknown_type(value: Any) -> bool:  # a type this check does not know
    return False


def conforms(schema: dict[str, Any], value: Any) -> bool:
    """Whether ``value`` conforms to ``schema``, for the keywords ``CONFIG_SCHEMA`` uses.

    Never looser than jsonschema (``tests/test_config_check.py`` holds the two together over
    generated files): each comparison is written so that NaN fails it, a keyword it does not
    know refuses, and a refusal only sends the file on to jsonschema."""
    for keyword, expected in schema.items():
        if keyword in _NUMBER_BOUNDS:
            if type(value) in (int, float) and not _NUMBER_BOUNDS[keyword](value, expected):
                return False
        elif keyword == "type":
            names = expected if isinstance(expected, list) else [expected]
            if not any(_TYPES.get(name, _unknown_type)(value) for name in names):
                return False
        elif keyword == "enum":
            if not any(type(value) is type(item) and value == item for item in expected):
                return False
        elif keyword == "pattern":
            if isinstance(value, str) and not re.search(expected, value):
                return False
        elif keyword == "minLength":
            if isinstance(value, str) and not len(value) >= expected:
                return False
        elif keyword == "items":
            if isinstance(value, list) and not all(conforms(expected, item) for item in value):
                return False
        elif keyword not in _IGNORED and keyword not in _OBJECT_KEYWORDS:
            return False  # a keyword this check does not know: jsonschema decides
    return not isinstance(value, dict) or _object_conforms(schema, value)


_OBJECT_KEYWORDS = {"properties", "additionalProperties", "propertyNames", "required"}


def _object_conforms(schema: dict[str, Any], value: dict[Any, Any]) -> bool:
    properties = schema.get("properties", {})
    extra = schema.get("additionalProperties", True)
    names = schema.get("propertyNames")
    if not all(name in value for name in schema.get("required", ())):
        return False
    for name, item in value.items():
        if names is not None and not conforms(names, name):
            return False
        rule = properties.get(name, extra)
        if rule is False or (isinstance(rule, dict) and not conforms(rule, item)):
            return False
    return True


@functools.cache
def _validator() -> Draft202012Validator:
    from jsonschema import Draft202012Validator  # late: slow to import; see Settings.load

    return Draft202012Validator(CONFIG_SCHEMA)


def check_config(data: dict[str, Any]) -> list[str]:
    """Every problem in ``data``, each as ``key.path: what is wrong`` (empty: none), in the
    order of the keys, so a file with two mistakes hears of both at once."""
    if conforms(CONFIG_SCHEMA, data):
        return []
    errors = sorted(_validator().iter_errors(data), key=lambda error: list(map(str, error.path)))
    problems: list[str] = []
    for error in errors:
        where = ".".join(str(part) for part in error.absolute_path) or "(top level)"
        if error.validator == "additionalProperties" and isinstance(error.instance, dict):
            allowed = sorted(error.schema.get("properties", {}))
            for unknown in sorted(set(error.instance) - set(allowed)) or ["?"]:
                name = unknown if where == "(top level)" else f"{where}.{unknown}"
                problems.append(f"{name}: unknown setting (allowed here: {', '.join(allowed)})")
        else:
            problems.append(f"{where}: {error.message}")
    return problems


def locate(path: Path, where: str) -> int | None:
    """Best effort: the 1-based line of ``where`` (``keys.0.balance_usd``, ``timing``,
    ``webhooks.max_attempts``) in the TOML file, so an error can point at it."""
    try:
        lines = path.read_text(encoding="utf-8").splitlines()
    except (OSError, UnicodeDecodeError):
        return None
    parts = where.split(".")
    start, rest = 0, parts
    if len(parts) >= 2 and parts[1].isdigit():  # an array of tables: [[keys]] number N
        header = re.compile(rf"^\s*\[\[\s*{re.escape(parts[0])}\s*\]\]")
        hits = [number for number, line in enumerate(lines) if header.match(line)]
        if int(parts[1]) >= len(hits):
            return None
        start, rest = hits[int(parts[1])] + 1, parts[2:]
        if not rest:
            return start
    elif len(parts) >= 2:  # a table: [webhooks] ... max_attempts = ...
        header = re.compile(rf"^\s*\[\s*{re.escape(parts[0])}\s*\]")
        hits = [number for number, line in enumerate(lines) if header.match(line)]
        if hits:
            start, rest = hits[0] + 1, parts[1:]
    for number in range(start, len(lines)):
        line = lines[number]
        if re.match(r"^\s*\[", line):  # the next table: the key is not in this one
            break
        if re.match(rf'^\s*"?{re.escape(rest[0])}"?\s*=', line):
            return number + 1
    return None
