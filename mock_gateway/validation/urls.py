"""Reading a URL the mock receives, in one place, without ever raising.

Image fields, ``X-Webhook-URL`` and the webhook host policy all read URLs here. ``urlsplit``
is not used: it raises ``ValueError`` on ``https://a]``, ``https://[a`` or a bad port, which
once turned such requests into 500s. ``parse_url`` splits by RFC 3986's own grammar
(appendix B) and checks the authority by hand, so every string gets an answer: a ``Url`` or
a ``BadUrl`` saying what is wrong.

The contract states the same rules as regular expressions (``HTTP_URL_PATTERN`` and the image
URL patterns below are copied verbatim into ``contracts/openapi.yaml``; a test keeps them
equal, and a property test holds ``parse_url`` and the patterns to the same answers). They are
written so ECMA-262 and Python read them alike: explicit character classes, never ``\\s``,
``\\d`` or ``\\w``, whose meaning differs between the two.
"""

from __future__ import annotations

import functools
import re
from dataclasses import dataclass, field

# What no URL contains: ASCII controls and space, DEL, C1 controls, the rest of ECMA-262's
# whitespace (so a client validating with JavaScript and the mock agree), and the backslash
# (WHATWG parsers read it as "/", others as a host character: the host would be ambiguous).
EXCLUDED = r"\x00-\x20\x7f-\x9f\u00a0\u1680\u2000-\u200a\u2028\u2029\u202f\u205f\u3000\ufeff\\"
# File extensions in URLs and data URL subtypes, per operation family; the contract's image
# patterns are built from them (tests/test_urls.py keeps the two equal).
LITE_FORMATS = ("jpg", "jpeg", "png", "webp")  # documented for 5.0 Lite edit
BYTEPLUS_FORMATS = ("jpg", "jpeg", "png", "webp", "bmp", "tiff", "tif", "gif")  # upstream docs
_PORT = r"(?:[0-9]{0,4}|[0-5][0-9]{4}|6[0-4][0-9]{3}|65[0-4][0-9]{2}|655[0-2][0-9]|6553[0-5])"


_H16 = "[0-9A-Fa-f]{1,4}"
_OCTET = "(?:25[0-5]|2[0-4][0-9]|1[0-9]{2}|[1-9]?[0-9])"
_LS32 = rf"(?:{_H16}:{_H16}|{_OCTET}(?:\.{_OCTET}){{3}})"
# RFC 3986's IPv6address, one alternative per place of the "::".
IPV6_PATTERN = (
    "(?:"
    + "|".join(
        [
            rf"(?:{_H16}:){{6}}{_LS32}",
            rf"::(?:{_H16}:){{5}}{_LS32}",
            rf"(?:{_H16})?::(?:{_H16}:){{4}}{_LS32}",
            rf"(?:(?:{_H16}:){{0,1}}{_H16})?::(?:{_H16}:){{3}}{_LS32}",
            rf"(?:(?:{_H16}:){{0,2}}{_H16})?::(?:{_H16}:){{2}}{_LS32}",
            rf"(?:(?:{_H16}:){{0,3}}{_H16})?::{_H16}:{_LS32}",
            rf"(?:(?:{_H16}:){{0,4}}{_H16})?::{_LS32}",
            rf"(?:(?:{_H16}:){{0,5}}{_H16})?::{_H16}",
            rf"(?:(?:{_H16}:){{0,6}}{_H16})?::",
        ]
    )
    + ")"
)
# RFC 3986's characters: unreserved and sub-delims, and %-escapes.
_PLAIN = r"A-Za-z0-9\-._~!$&'()*+,;="
_PCT = "%[0-9A-Fa-f]{2}"


def _url_pattern(*, ascii_only: bool, path_rule: str = "") -> str:
    """The contract's http(s) URL rule: userinfo up to the last "@", a host that is a name or
    an [IPv6] literal, a port 0-65535, then path, query and fragment.

    ``ascii_only`` is RFC 3986's URI grammar exactly (so the pattern implies ``format: uri``);
    otherwise any character but those of ``EXCLUDED`` may appear (an IRI, as browsers and
    WHATWG parsers take it)."""
    if ascii_only:
        user = rf"(?:[{_PLAIN}:]|{_PCT})*"
        host = rf"(?:[{_PLAIN}]|{_PCT})+"
        pchar = rf"(?:[{_PLAIN}:@]|{_PCT})"
        rest = rf"(?:/{pchar}*)*(?:\?(?:{pchar}|[/?])*)?(?:#(?:{pchar}|[/?])*)?"
    else:
        user = rf"[^{EXCLUDED}/?#]*"
        host = rf"[^{EXCLUDED}/?#@\[\]:]+"
        rest = rf"(?:[/?#][^{EXCLUDED}]*)?"
    return rf"https?://(?:{user}@)?(?:\[{IPV6_PATTERN}\]|{host})(?::{_PORT})?{path_rule}{rest}"


HTTP_URL_PATTERN = rf"^{_url_pattern(ascii_only=False)}$"
# X-Webhook-URL: an HTTP header carries bytes, so the URL is ASCII (punycode, %-escapes).
HEADER_URL_PATTERN = rf"^{_url_pattern(ascii_only=True)}$"


@functools.cache
def _compiled(pattern: str) -> re.Pattern[str]:
    """The URL and IPv6 patterns, compiled when first used: compiling them took a tenth of the
    mock's start-up, and a submit without a URL never needs them."""
    return re.compile(pattern)


_HAS_EXCLUDED = re.compile(f"[{EXCLUDED}]")
_REFERENCE = re.compile(
    r"^([A-Za-z][A-Za-z0-9+.-]*):(?://([^/?#]*))?([^?#]*)(?:\?([^#]*))?(?:#(.*))?$"
)
_PORT_TEXT = re.compile(r"[0-9]*")
_EXTENSION = re.compile(r"\.([A-Za-z0-9]{1,5})$")


@dataclass(frozen=True, slots=True)
class Url:
    scheme: str  # as written
    host: str  # lower-cased, without brackets or a trailing dot; "" when there is no authority
    port: int | None
    path: str
    query: str | None = None
    userinfo: str | None = None
    # The host as written (lower-cased, without brackets) with any trailing dots: the webhook
    # policy needs it, since "localhost." is a fully qualified name that goes to DNS.
    literal_host: str = field(default="", compare=False)

    @property
    def extension(self) -> str | None:
        """The path's file extension (``png`` for ``/a/b.png``), if it has one."""
        match = _EXTENSION.search(self.path)
        return match.group(1) if match else None


@dataclass(frozen=True, slots=True)
class BadUrl:
    reason: str  # completes "the URL ...": "has no host", "has a port above 65535"


def parse_url(text: object) -> Url | BadUrl:
    """``text`` read as an absolute URL; never raises, whatever ``text`` is."""
    if not isinstance(text, str):
        return BadUrl(f"is not a string (got {type(text).__name__})")
    if _HAS_EXCLUDED.search(text):
        return BadUrl("contains whitespace, a control character or a backslash")
    match = _REFERENCE.match(text)
    if match is None:
        return BadUrl("has no scheme (such as https://)")
    scheme, authority, path, query, _fragment = match.groups()
    if authority is None:
        return Url(scheme=scheme, host="", port=None, path=path, query=query)
    userinfo, at, hostport = authority.rpartition("@")
    if hostport.startswith("["):
        end = hostport.find("]")
        host, rest = (hostport[1:end], hostport[end + 1 :]) if end > 0 else ("", "")
        if end < 0 or not _compiled(IPV6_PATTERN).fullmatch(host):
            return BadUrl("has a malformed [IPv6] host")
    else:
        host, colon, port_text = hostport.partition(":")
        rest = colon + port_text
        if "[" in host or "]" in host:
            return BadUrl("has an unmatched '[' or ']' in its host")
    if rest and not rest.startswith(":"):
        return BadUrl("has characters after its [IPv6] host")
    port_text = rest[1:]
    if not _PORT_TEXT.fullmatch(port_text) or ":" in port_text:
        return BadUrl("has a port that is not a number")
    port = int(port_text) if port_text else None
    if len(port_text) > 5 or (port is not None and port > 65535):
        return BadUrl("has a port outside 0-65535")
    return Url(
        scheme=scheme,
        host=host.lower().rstrip("."),
        port=port,
        path=path,
        query=query,
        userinfo=userinfo if at else None,
        literal_host=host.lower(),
    )


def http_url_problem(text: object, *, ascii_only: bool = False) -> str | None:
    """Why ``text`` is not an absolute http(s) URL (None when it is): the rule of the
    contract's ``HTTP_URL_PATTERN`` (``HEADER_URL_PATTERN`` with ``ascii_only``), with a
    reason a person can act on."""
    checked = http_url(text, ascii_only=ascii_only)
    return checked if isinstance(checked, str) else None


def http_url(text: object, *, ascii_only: bool = False) -> Url | str:
    """``text`` parsed, when it is an absolute http(s) URL; else why not (as
    ``http_url_problem`` says it)."""
    if ascii_only and isinstance(text, str) and not text.isascii():
        return "contains a character outside ASCII (write the host in punycode, %-escape the rest)"
    url = parse_url(text)
    if isinstance(url, BadUrl):
        return url.reason
    if url.scheme not in ("http", "https") or not isinstance(text, str):
        return "must start with http:// or https://"
    if not text.startswith(f"{url.scheme}://") or not url.host:
        return "has no host"
    # What parse_url lets through, the contract's pattern may still refuse: a character
    # RFC 3986 wants %-escaped (in a header), a "%" not followed by two hex digits...
    if not _compiled(HEADER_URL_PATTERN if ascii_only else HTTP_URL_PATTERN).match(text):
        return "has a character a URL must %-escape, or a malformed %-escape"
    return url


def extension_pattern(extensions: tuple[str, ...]) -> str:
    """A lookahead refusing a path that ends in a file extension outside ``extensions``
    (case-insensitive; written with character pairs, as JSON Schema patterns have no flags)."""
    allowed = "|".join(
        "".join(f"[{c.lower()}{c.upper()}]" if c.isalpha() else c for c in ext)
        for ext in extensions
    )
    return rf"(?![^?#]*\.(?!(?:{allowed})(?:[?#]|$))[A-Za-z0-9]{{1,5}}(?:[?#]|$))"


def image_url_pattern(extensions: tuple[str, ...]) -> str:
    """``HTTP_URL_PATTERN``, and a path that ends in none but ``extensions``."""
    return rf"^{_image_url(extensions)}$"


_DATA_URL = re.compile(r"^data:image/([a-z]+);base64,(.*)$", re.DOTALL)
_BASE64 = re.compile(r"[A-Za-z0-9+/]*={0,2}")


def canonical_base64(payload: str) -> bool:
    """The base64 of ``image_ref_pattern``: padded, no whitespace, not empty."""
    return (
        len(payload) % 4 == 0
        and payload[:1] not in ("", "=")
        and _BASE64.fullmatch(payload) is not None
    )


def image_ref_matches(ref: str, extensions: tuple[str, ...], formats: tuple[str, ...]) -> bool:
    """``re.search(image_ref_pattern(extensions, formats), ref)``, without its cost: Python's
    ``re`` takes over a second for the quartets of a 10 MB data URL, this a few ms. The
    contract's validator uses it for that pattern (tests/test_urls.py holds the two equal)."""
    match = _DATA_URL.match(ref)
    if match is not None:
        return match.group(1) in formats and canonical_base64(match.group(2))
    # Python's "$" also matches before a final newline; ECMA-262's (the contract's) does not.
    return not ref.endswith("\n") and _image_url_regex(extensions).match(ref) is not None


@functools.cache
def _image_url_regex(extensions: tuple[str, ...]) -> re.Pattern[str]:
    return re.compile(image_url_pattern(extensions))


def image_ref_pattern(extensions: tuple[str, ...], formats: tuple[str, ...]) -> str:
    """An image URL as above, or ``data:image/<format>;base64,<payload>``: one of
    ``formats``, and canonical base64 (padded, no whitespace, not empty)."""
    b64 = "[A-Za-z0-9+/]"
    payload = rf"(?={b64})(?:{b64}{{4}})*(?:{b64}{{2}}==|{b64}{{3}}=)?"
    return rf"^(?:{_image_url(extensions)}|data:image/(?:{'|'.join(formats)});base64,{payload})$"


def _image_url(extensions: tuple[str, ...]) -> str:
    return _url_pattern(ascii_only=False, path_rule=extension_pattern(extensions))
