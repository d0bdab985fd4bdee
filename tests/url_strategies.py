"""URL-shaped strings for the fuzz tests: the shapes that broke URL parsers before.

Brackets (``https://a]``, ``https://[a``), unicode and IDNA hosts, fullwidth look-alikes of
``/?#@:``, ports out of range or not numbers, user information, other schemes, whitespace
and control characters. ``URL_PARTS`` also feeds a deterministic corpus (every combination).
"""

from __future__ import annotations

import itertools

from hypothesis import strategies as st

SCHEMES = [
    "https://",
    "http://",
    "HTTP://",
    "ftp://",
    "file://",
    "javascript:",
    "data:",
    "http:",
    "",
]
USERINFO = ["", "u@", "u:p@", "u@v@", "[x]@", "127.0.0.1@", "@"]
HOSTS = [
    "a", "127.0.0.1", "localhost.", "[::1]", "[::1", "::1]", "[a", "a]", "[]", "[v1.x]",
    "[fe80::1%25eth0]", "bücher.de", "xn--bcher-kva.de", "例え.テスト", "a\u3002b", "ａ.com",
    "a\uff03b", "a\uff0fb", "a\ufe6bb", "%31.0.0.1", "", "a b", "a\u00a0b", "a\u0085b",
    "127.0.0.1\\@evil.test", "a\\b",
]  # fmt: skip
PORTS = ["", ":", ":0", ":80", ":65535", ":65536", ":99999", ":000080", ":-1", ":8o", ":1:2"]
PATHS = [
    "", "/", "/x.png", "/x.PNG", "/x.svg", "/a.b.gif", "/x.tiff", "/x.jpg?y.svg", "/x.svg#a.png",
    "/x.toolong", "/%zz", "/a[b]@c", "?q", "#f", "/\n", "/ x", "/x\ufeff", "/x\u2028",
]  # fmt: skip
URL_PARTS = (SCHEMES, USERINFO, HOSTS, PORTS, PATHS)


def corpus(limit: int = 4000) -> list[str]:
    """A deterministic sample of every combination of the parts, at most ``limit`` strings."""
    combos = ["".join(parts) for parts in itertools.product(*URL_PARTS)]
    step = max(1, len(combos) // limit)
    return combos[::step]


_tail = st.text(max_size=6)
url_like = st.one_of(
    st.tuples(*(st.sampled_from(part) for part in URL_PARTS)).map("".join),
    st.tuples(st.sampled_from(SCHEMES), _tail, st.sampled_from(PORTS), _tail).map("".join),
    st.builds(lambda s, t: s + t, st.sampled_from(SCHEMES), st.text(max_size=12)),
)
