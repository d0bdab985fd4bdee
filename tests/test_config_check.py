"""The quick check of a config file (``config.schema.conforms``) is never looser than jsonschema.

A file that ``conforms`` accepts never reaches jsonschema, so a mistake it let through would
start the mock on a bad setting instead of naming the key. A file it refuses goes on to
jsonschema, whose word is the rule, so it may be stricter (``workers = 4.0``, NaN), but it must
accept the usual files, or start-up pays for jsonschema after all.
"""

from __future__ import annotations

import datetime
import math
import tomllib
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from jsonschema import Draft202012Validator

from mock_gateway.config.paths import fixtures_dir
from mock_gateway.config.schema import CONFIG_SCHEMA, check_config, conforms
from test_fast_accept import values

VALID = Draft202012Validator(CONFIG_SCHEMA).is_valid
# what TOML can hold that JSON cannot, and numbers at the edges of Python's comparisons
TOML_ONLY = st.sampled_from(
    [math.nan, math.inf, -math.inf, 1.0, 4.0, True, False, 0, -1, "", "1e3", " 1", "1\n",
     datetime.date(2026, 1, 2), datetime.time(3, 4), {}, [], [{}], {"submit": "1/s"}]
)  # fmt: skip
NAMES = [*CONFIG_SCHEMA["properties"], "unknown"]


def conforming(schema: dict[str, Any]) -> st.SearchStrategy[Any]:
    """Values that conform to ``schema`` (a part of ``CONFIG_SCHEMA``)."""
    if "enum" in schema:
        return st.sampled_from(schema["enum"])
    kinds = schema.get("type", "object")
    if isinstance(kinds, list):
        return st.one_of([conforming({**schema, "type": kind}) for kind in kinds])
    low = schema.get("minimum", schema.get("exclusiveMinimum"))
    high = schema.get("maximum")
    if kinds == "integer":
        return st.integers(low if "minimum" in schema else None, high)
    if kinds == "number":
        return st.floats(low, high, exclude_min="exclusiveMinimum" in schema, allow_nan=False)
    if kinds == "boolean":
        return st.booleans()
    if kinds == "string":
        if "pattern" in schema:
            return st.from_regex(schema["pattern"])
        return st.text(min_size=schema.get("minLength", 0), max_size=6)
    if kinds == "array":
        return st.lists(conforming(schema["items"]), max_size=2)
    properties = schema.get("properties", {})
    if not properties and isinstance(schema.get("additionalProperties"), dict):
        names = schema.get("propertyNames", {}).get("enum") or ["x-model", "y"]
        return st.dictionaries(st.sampled_from(names), conforming(schema["additionalProperties"]))
    required = set(schema.get("required", ()))
    optional = {name: sub for name, sub in properties.items() if name not in required}
    return st.fixed_dictionaries(
        {name: conforming(properties[name]) for name in required},
        optional={name: conforming(sub) for name, sub in optional.items()},
    )


def edited(data: Any, path: list[Any], value: Any) -> Any:
    """``data`` with the value at ``path`` (keys and list positions) replaced by ``value``."""
    if not path:
        return value
    head, *rest = path
    if isinstance(data, dict):
        return {**data, head: edited(data.get(head), rest, value)}
    if isinstance(data, list) and isinstance(head, int) and head < len(data):
        return [edited(item, rest, value) if i == head else item for i, item in enumerate(data)]
    return data


def paths(data: Any, prefix: tuple[Any, ...] = ()) -> list[tuple[Any, ...]]:
    """Every place in ``data``, and a new key beside each dict's keys."""
    found = [prefix]
    if isinstance(data, dict):
        found.append((*prefix, "unknown"))
        for name, value in data.items():
            found += paths(value, (*prefix, name))
    elif isinstance(data, list):
        for position, item in enumerate(data):
            found += paths(item, (*prefix, position))
    return found


def schema_at(path: tuple[Any, ...]) -> Any:
    node: Any = CONFIG_SCHEMA
    for part in path:
        if not isinstance(node, dict):
            return None
        node = (
            node.get("items")
            if isinstance(part, int)
            else node.get("properties", {}).get(part, node.get("additionalProperties"))
        )
    return node


@st.composite
def config_files(draw: st.DrawFn) -> dict[str, Any]:
    """A conforming file, with up to two values replaced by edge cases and strangers."""
    data: dict[str, Any] = draw(conforming(CONFIG_SCHEMA))
    for _ in range(draw(st.integers(0, 2))):
        path = draw(st.sampled_from(paths(data)))
        value = draw(st.one_of(values(schema_at(path)), TOML_ONLY))
        data = edited(data, list(path), value)
    return data


@settings(max_examples=600, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(data=config_files())
def test_what_the_quick_check_accepts_jsonschema_accepts(data: dict[str, Any]) -> None:
    if conforms(CONFIG_SCHEMA, data):
        assert VALID(data), data


BUNDLED = [*sorted((fixtures_dir() / "scenarios").glob("*.toml")), fixtures_dir() / "keys.toml"]


@pytest.mark.parametrize("path", BUNDLED, ids=lambda path: path.name)
def test_the_bundled_files_take_the_quick_path(path: Any) -> None:
    with path.open("rb") as handle:
        data = tomllib.load(handle)
    data.pop("faults", None)  # checked rule by rule by faults.parse_rule, not by the schema
    assert conforms(CONFIG_SCHEMA, data)


@pytest.mark.parametrize(
    "data",
    [
        {"workers": 1_000_000, "timing": "manual", "seed": 3, "any_key": True},
        {"keys": [{"key": "a", "balance_usd": "1.50", "rate_limits": {"submit": "5/s"}}]},
        {"keys": [{"key": "a", "balance_usd": 2}], "prices": {"x": 0.03}},
        {"webhooks": {"allow_hosts": ["10.0.0.0/8"], "signing_secret": "whsec_abc"}},
        {"control": {"token": "t", "journal_size": 10}, "retention_seconds": 0.5},
        {"rate_limits": {"status": "100 / minute"}, "safety_blocklist": ["x"]},
    ],
)
def test_usual_files_take_the_quick_path(data: dict[str, Any]) -> None:
    assert conforms(CONFIG_SCHEMA, data) and VALID(data)


@pytest.mark.parametrize(
    "data",
    [
        {"workers": 0},
        {"workers": "4"},
        {"workers": True},
        {"timing": "slow"},
        {"keys": [{"balance_usd": "1"}]},
        {"keys": [{"key": ""}]},
        {"keys": [{"key": "a", "balance_usd": "-1"}]},
        {"rate_limits": {"poll": "1/s"}},
        {"webhooks": {"max_attempts": 51}},
        {"webhooks": {"signing_secret": "abc"}},
        {"retention_seconds": 0},
        {"host": "0.0.0.0"},
        {"control": {"enabled": "yes"}},
    ],
)
def test_mistakes_are_refused_and_worded_by_jsonschema(data: dict[str, Any]) -> None:
    assert not conforms(CONFIG_SCHEMA, data)
    assert check_config(data)  # the same words as before: jsonschema's, by key


def test_a_refusal_jsonschema_does_not_confirm_is_no_refusal() -> None:
    stricter = {"workers": 4.0}  # an integer to JSON Schema; the quick check wants an int
    assert not conforms(CONFIG_SCHEMA, stricter) and check_config(stricter) == []


def test_a_keyword_the_quick_check_does_not_know_refuses() -> None:
    assert not conforms({"multipleOf": 2}, 4)
    assert not conforms({"type": "null"}, None)
