"""Which headers a fault rule may add to an answer.

A rule's headers go straight into the HTTP answer, so a name with a CR/LF in it (or a value
with one) would make the server drop every matched call, and a ``Content-Length`` or
``Transfer-Encoding`` override would truncate or corrupt the answer. Such rules are refused
when they are added, with a 400 saying why, instead of failing on every matched call later.
"""

from __future__ import annotations

import re

# RFC 9110 5.1: a field name is a token.
_TOKEN = re.compile(r"^[!#$%&'*+\-.^_`|~0-9A-Za-z]+$")
# RFC 9110 5.5: visible ASCII, spaces and tabs; no CR, LF, NUL or other controls.
_VALUE = re.compile(r"^[\t\x20-\x7e\x80-\xff]*$")
# Framing and connection management belong to the server, not to a rule.
RESERVED = frozenset(
    {
        "content-length",
        "transfer-encoding",
        "connection",
        "keep-alive",
        "proxy-connection",
        "te",
        "trailer",
        "upgrade",
    }
)


def header_problem(name: str, value: str) -> str | None:
    """Why ``name: value`` cannot be added to an answer, or None when it can."""
    if not _TOKEN.match(name):
        return f"headers: {name[:60]!r} is not a valid header name (letters, digits, -_.!#$...)"
    if name.lower() in RESERVED:
        return (
            f"headers: {name} is set by the server (framing and connection headers cannot "
            "be overridden; use drop_connection or latency_ms to simulate a broken answer)"
        )
    if not _VALUE.match(value):
        return f"headers: the value of {name} contains a control character (CR, LF, NUL ...)"
    return None
