"""The inspector page's files: plain HTML, CSS and one small script, shipped in the wheel.

No build step and nothing fetched from elsewhere: the page works offline and reads only the
control API's JSON (``mock_gateway/web/routes/ui.py`` serves these files).
"""

from __future__ import annotations

from importlib import resources

MEDIA_TYPES = {
    "index.html": "text/html; charset=utf-8",
    "inspector.css": "text/css; charset=utf-8",
    "inspector.js": "text/javascript; charset=utf-8",
    "icon.svg": "image/svg+xml",
}


def asset(name: str) -> bytes | None:
    """One of the page's files by name (None for anything else: no paths, no guessing)."""
    if name not in MEDIA_TYPES:
        return None
    return resources.files(__package__).joinpath(name).read_bytes()
