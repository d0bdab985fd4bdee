"""Readable 400 messages from JSON Schema errors: the field and the rule, in plain words."""

from __future__ import annotations

import json
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from jsonschema.exceptions import ValidationError

_TYPE_WORDS = {
    "integer": "an integer",
    "number": "a number",
    "string": "a string",
    "boolean": "a boolean (true or false)",
    "array": "an array",
    "object": "a JSON object",
    "null": "null",
}

_PRESETS = "square_hd, square, portrait_4_3, portrait_16_9, landscape_4_3, landscape_16_9"


def field_name(path: list[str | int]) -> str:
    text = ""
    for part in path:
        text += f"[{part}]" if isinstance(part, int) else (f".{part}" if text else str(part))
    return text or "body"


def _show(value: Any) -> str:
    text = json.dumps(value, ensure_ascii=False)
    return text if len(text) <= 60 else text[:57] + "..."


def describe(error: ValidationError) -> str:
    """``num_images: must be at most 4 (got 5)`` and the like."""
    path = list(error.absolute_path)
    rule = error.validator
    value = error.instance
    schema: Any = error.schema
    if rule == "required":
        missing = str(error.message).split("'")[1] if "'" in error.message else "field"
        return f"{field_name([*path, missing])}: is required"
    where = field_name(path)
    got = f" (got {_show(value)})"
    if path and path[-1] == "image_size":
        return (
            f"{where}: must be one of the presets {_PRESETS}, or an object "
            '{"width": W, "height": H} with integers from 1 to 4096' + got
        )
    if rule == "type":
        wanted = schema["type"] if isinstance(schema, dict) else "valid"
        names = wanted if isinstance(wanted, list) else [wanted]
        return f"{where}: must be " + " or ".join(_TYPE_WORDS.get(n, n) for n in names) + got
    if rule in ("enum", "const"):
        allowed = schema.get("enum") or [schema.get("const")]
        return f"{where}: must be one of {', '.join(map(str, allowed))}" + got
    if rule in ("minimum", "maximum", "exclusiveMinimum", "exclusiveMaximum"):
        words = {
            "minimum": "at least",
            "maximum": "at most",
            "exclusiveMinimum": "greater than",
            "exclusiveMaximum": "less than",
        }[str(rule)]
        low, high = schema.get("minimum"), schema.get("maximum")
        if low is not None and high is not None:
            return f"{where}: must be between {low} and {high}" + got
        return f"{where}: must be {words} {schema[rule]}" + got
    if rule == "minItems":
        return f"{where}: must contain at least {schema['minItems']} item(s)" + got
    if rule == "maxItems":
        return f"{where}: must contain at most {schema['maxItems']} item(s)"
    if rule == "minLength":
        return f"{where}: must not be empty"
    if rule == "maxLength":
        return f"{where}: must be at most {schema['maxLength']} characters long"
    if rule == "pattern":
        if path and path[-1] == "prompt":
            return f"{where}: must not be blank"
        if "data:image" in str(schema.get("pattern", "")):
            return (
                f"{where}: must be an http(s) URL or a data URL "
                "(data:image/<format>;base64,...)" + got
            )
        return f"{where}: must be an http(s) URL" + got
    if rule == "format":
        return f"{where}: must be a valid {schema.get('format')}" + got
    return f"{where}: {error.message}"
