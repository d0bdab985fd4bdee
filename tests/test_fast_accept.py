"""The compiled schema check accepts exactly what jsonschema accepts, for every operation.

A submit body is first checked by the contract's schema compiled with fastjsonschema
(``validation/accept.py``); only a refused body reaches jsonschema, which words the 400.
So the compiled check must never accept a body that jsonschema refuses (a 400 would be
lost), and should accept every body jsonschema accepts (or the fast path is not taken).
Bodies are generated from each operation's own schema: its enum values, its bounds and one
past them, strings around its length limits, URL-shaped strings for its patterns (with a
final newline, where Python's ``$`` and fastjsonschema's differ), data URLs, wrong types.
"""

from __future__ import annotations

import base64
import io
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from jsonschema import Draft202012Validator
from PIL import Image

from mock_gateway.validation.contract import load_request_schemas
from url_strategies import corpus, url_like

SCHEMAS = load_request_schemas()
OPERATION_IDS = [operation.operation_id for operation in SCHEMAS.submit_operations()]


def png_data_url() -> str:
    buffer = io.BytesIO()
    Image.new("RGB", (4, 3), (10, 200, 30)).save(buffer, "PNG")
    return "data:image/png;base64," + base64.b64encode(buffer.getvalue()).decode()


IMAGE_REFS = [
    "https://example.com/a.png",
    "https://example.com/a.png\n",
    "https://example.com/a.svg",
    "https://example.com/a.PNG?x=1#y",
    "http://127.0.0.1:9/x.jpg",
    png_data_url(),
    png_data_url() + "\n",
    "data:image/png;base64,iVBO",
    "data:image/svg;base64,AAAA",
    "data:image/png;base64,",
    *corpus(60),
]
JUNK = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(-(2**40), 2**40),
    st.floats(allow_nan=False, allow_infinity=False),
    st.text(max_size=8),
    st.lists(st.integers(), max_size=2),
    st.dictionaries(st.text(max_size=3), st.integers(), max_size=2),
)


def _bounds(schema: dict[str, Any]) -> list[Any]:
    found: list[Any] = []
    for name in ("minimum", "maximum"):
        if name in schema:
            edge = schema[name]
            found += [edge, edge - 1, edge + 1, float(edge), edge + 0.5, str(edge)]
    for name in ("minLength", "maxLength"):
        if name in schema:
            size = schema[name]
            found += ["x" * max(0, size - 1), "x" * size, "x" * (size + 1), " " * size]
            found += ["a\n", "\n", " x ", "\u00a0", "\u0085"]
    return found


def values(schema: Any, depth: int = 0) -> st.SearchStrategy[Any]:
    """Values that probe ``schema``: the ones it names, its edges, and others."""
    if not isinstance(schema, dict) or depth > 4:
        return JUNK
    named: list[Any] = [*schema.get("enum", []), *_bounds(schema)]
    if "const" in schema:
        named.append(schema["const"])
    if "default" in schema:
        named.append(schema["default"])
    options: list[st.SearchStrategy[Any]] = [JUNK]
    if named:
        options.append(st.sampled_from(named))
    if "pattern" in schema:
        options += [st.sampled_from(IMAGE_REFS), url_like, st.text(max_size=4)]
    if "properties" in schema:
        options.append(objects(schema, depth + 1))
    if "items" in schema:
        low, high = schema.get("minItems", 0), schema.get("maxItems", 3)
        item = values(schema["items"], depth + 1)
        options.append(st.lists(item, min_size=max(0, low - 1), max_size=high + 1))
    for combinator in ("oneOf", "anyOf", "allOf"):
        options += [values(part, depth + 1) for part in schema.get(combinator, [])]
    for branch in ("if", "then", "else"):
        if branch in schema:
            options.append(values(schema[branch], depth + 1))
    return st.one_of(options)


def objects(schema: dict[str, Any], depth: int = 0) -> st.SearchStrategy[dict[str, Any]]:
    """Objects with the schema's properties (required ones mostly present) and a stranger."""
    properties: dict[str, Any] = dict(schema.get("properties", {}))
    for part in schema.get("allOf", []):  # if/then/else name the same properties
        for branch in ("if", "then", "else"):
            for name, sub in part.get(branch, {}).get("properties", {}).items():
                properties.setdefault(name, sub)
    required = set(schema.get("required", []))
    fields = {name: values(sub, depth) for name, sub in properties.items()}
    fields["unknown"] = JUNK

    def pick(chosen: dict[str, Any], drop: list[bool]) -> dict[str, Any]:
        return {
            name: value
            for (name, value), dropped in zip(chosen.items(), drop, strict=False)
            if not dropped or (name in required and not any(drop[-2:]))
        }

    return st.builds(
        pick,
        st.fixed_dictionaries(fields),
        st.lists(st.booleans(), min_size=len(fields), max_size=len(fields)),
    )


def conforming(schema: Any, depth: int = 0) -> st.SearchStrategy[Any]:
    """Values that mostly conform to ``schema`` (jsonschema has the last word)."""
    if not isinstance(schema, dict) or depth > 4:
        return JUNK
    conforms = Draft202012Validator(schema).is_valid
    if "enum" in schema:
        return st.sampled_from(schema["enum"])
    if "const" in schema:
        return st.just(schema["const"])
    parts = [part for name in ("oneOf", "anyOf", "allOf") for part in schema.get(name, [])]
    if parts and "properties" not in schema:
        return st.one_of([conforming(part, depth + 1) for part in parts]).filter(conforms)
    kind = schema.get("type")
    low, high = schema.get("minimum", -(2**31)), schema.get("maximum", 2**31)
    if kind == "integer":
        return st.one_of(st.integers(low, high), st.integers(low, high).map(float))
    if kind == "number":
        return st.floats(low, high)
    if kind == "boolean":
        return st.booleans()
    if kind == "string":
        refs = [ref for ref in IMAGE_REFS if conforms(ref)]
        if not conforms("a fox"):  # an image reference
            return st.sampled_from(refs)
        return st.one_of(st.sampled_from(refs), st.text(max_size=12).filter(conforms))
    if kind == "array":
        items, fewest = schema.get("items", {}), schema.get("minItems", 0)
        most = min(schema.get("maxItems", fewest + 2), fewest + 2)
        return st.lists(conforming(items, depth + 1), min_size=fewest, max_size=most)
    if kind == "object":
        properties = schema.get("properties", {})
        required = {name for name in schema.get("required", []) if name in properties}
        return st.fixed_dictionaries(
            {name: conforming(properties[name], depth + 1) for name in required},
            optional={
                name: conforming(sub, depth + 1)
                for name, sub in properties.items()
                if name not in required
            },
        ).filter(conforms)
    return JUNK


def changed(schema: dict[str, Any]) -> st.SearchStrategy[dict[str, Any]]:
    """A conforming body with one or two fields replaced, dropped or added."""
    names = [*schema.get("properties", {}), "unknown"]

    def change(body: dict[str, Any], edits: list[tuple[str, Any, bool]]) -> dict[str, Any]:
        body = dict(body)
        for name, value, drop in edits:
            if drop:
                body.pop(name, None)
            else:
                body[name] = value
        return body

    edit = st.sampled_from(names).flatmap(
        lambda name: st.tuples(
            st.just(name), values(schema.get("properties", {}).get(name)), st.booleans()
        )
    )
    return st.builds(change, conforming(schema), st.lists(edit, min_size=1, max_size=2))


def verdicts(operation_id: str, body: Any) -> tuple[bool, bool]:
    return SCHEMAS.accepts(operation_id, body), not SCHEMAS.all_errors(operation_id, body)


@pytest.mark.parametrize("operation_id", OPERATION_IDS)
@settings(max_examples=200, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(data=st.data())
def test_the_compiled_check_accepts_exactly_what_jsonschema_accepts(
    operation_id: str, data: st.DataObject
) -> None:
    schema = SCHEMAS.schema(operation_id)
    bodies = st.one_of(conforming(schema), changed(schema), objects(schema), JUNK)
    body = data.draw(bodies, label="body")
    fast, full = verdicts(operation_id, body)
    assert fast == full, (body, SCHEMAS.all_errors(operation_id, body)[:1])


VALID = {
    "liteTextToImageSubmit": {"prompt": "a fox", "image_size": {"width": 64, "height": 64}},
    "liteEditSubmit": {"prompt": "a fox", "image_urls": ["https://example.com/a.png\n"]},
    "byteplusTextToImageSubmit": {"prompt": "a fox", "size": "2K", "seed": 7.0},
    "byteplusEditSubmit": {"prompt": "a fox", "image": png_data_url()},
    "byteplusMultiEditSubmit": {
        "prompt": "a fox",
        "image": ["https://example.com/a.png", "https://example.com/b.webp\n"],
    },
}


@pytest.mark.parametrize("operation_id", OPERATION_IDS)
def test_a_valid_body_takes_the_fast_path(operation_id: str) -> None:
    # a final newline after a URL, a data URL and an integral float are where a compiled
    # check would most likely part from jsonschema
    assert verdicts(operation_id, VALID[operation_id]) == (True, True)


def test_a_big_data_url_is_checked_without_python_re() -> None:
    # the ImageRef data-URL pattern takes Python's re over a second at this size
    payload = "A" * (8 * 2**20)
    body = {"prompt": "a fox", "image": f"data:image/png;base64,{payload}"}
    assert SCHEMAS.accepts("byteplusEditSubmit", body)
