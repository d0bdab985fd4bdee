"""The fast yes: does a submit body conform to its operation's schema? (compiled once)

jsonschema's ``iter_errors`` walks the schema as data, which made the schema check a third
of a submit's cost. fastjsonschema compiles the same schema into one Python function, about
ten times faster on a valid body. It only answers yes or no: a body it refuses goes on to
jsonschema, which words the 400 exactly as before (``contract.RequestSchemas.first_error``),
so no error message depends on this module, and a refusal jsonschema does not confirm is
no refusal.

Two rules are translated for the compiled copy so that it accepts exactly what jsonschema
accepts (``tests/test_fast_accept.py`` checks it over generated bodies of every operation):

- ``$`` in a pattern: Python's (jsonschema's) matches at the end or before a final newline;
  fastjsonschema rewrites it to ``\\Z``. ``(?=\\n?\\Z)`` is Python's ``$`` spelled out.
- the ImageRef pattern that allows data URLs: jsonschema checks it with
  ``urls.image_ref_matches`` (fast for a 10 MB data URL, where ``re`` takes over a second);
  the compiled copy calls the same function, as a custom ``format``.
"""

from __future__ import annotations

import copy
import re
from collections.abc import Callable, Mapping
from typing import Any

PYTHON_DOLLAR = r"(?=\n?\Z)"
_DOLLAR = re.compile(r"(?<!\\)\$")  # an unescaped "$", as fastjsonschema finds it

Check = Callable[[str], bool]


def compile_acceptor(
    schema: dict[str, Any], patterns: Mapping[str, Check]
) -> Callable[[Any], bool]:
    """A function telling whether a body conforms to ``schema``; ``patterns`` are the
    patterns checked by a function instead of ``re`` (as the full validator checks them)."""
    import fastjsonschema  # late: only the first submit of an operation needs it

    formats: dict[str, Check] = {}
    translated = _translate(copy.deepcopy(schema), patterns, formats)
    # (detailed_exceptions=False would save nothing on a valid body, and 2.22 fails to
    # compile "const" with it)
    validate = fastjsonschema.compile(translated, formats=formats, use_default=False)
    refused = fastjsonschema.JsonSchemaValueException

    def accepts(body: Any) -> bool:
        try:
            validate(body)
        except refused:
            return False
        return True

    return accepts


def _translate(node: Any, patterns: Mapping[str, Check], formats: dict[str, Check]) -> Any:
    if isinstance(node, list):
        return [_translate(item, patterns, formats) for item in node]
    if not isinstance(node, dict):
        return node
    translated = {name: _translate(value, patterns, formats) for name, value in node.items()}
    pattern = node.get("pattern")
    if isinstance(pattern, str):
        check = patterns.get(pattern)
        if check is None:
            translated["pattern"] = _DOLLAR.sub(lambda _: PYTHON_DOLLAR, pattern)
        else:
            name = f"x-mock-pattern-{len(formats)}"
            formats[name] = check
            del translated["pattern"]
            translated["format"] = name
    return translated
