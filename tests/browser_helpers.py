"""For the inspector page's browser tests: find Debian's Chromium, say why the tests cannot
run, and hold what a test needs (a running mock, what the page printed on its console).

Playwright's own browser download is not used (these machines cannot reach it): the tests
launch the system Chromium through ``executable_path``.
"""

from __future__ import annotations

import os
import shutil
from dataclasses import dataclass, field
from typing import Any

import httpx

CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]
REQUIRED = os.environ.get("MOCK_GATEWAY_UI_TESTS") == "required"  # make test-ui, CI


def chromium_path() -> str | None:
    """``$CHROMIUM`` if set, else Debian's ``chromium`` on the PATH (None: not installed)."""
    wanted = os.environ.get("CHROMIUM") or shutil.which("chromium") or "/usr/bin/chromium"
    return wanted if os.access(wanted, os.X_OK) else None


def missing() -> str | None:
    """Why the browser tests cannot run here (one line), or None."""
    try:
        import playwright.sync_api  # noqa: F401
    except ImportError:
        return "inspector browser tests need Playwright: pip install -e '.[ui-test]'"
    if chromium_path() is None:
        return "inspector browser tests need Chromium: apt-get install -y chromium"
    return None


@dataclass
class Mock:
    """A running ``mock-gateway serve`` and an HTTP client for it."""

    base_url: str
    http: httpx.Client

    def control(self, method: str, path: str, body: Any = None) -> Any:
        response = self.http.request(method, f"/_mock{path}", json=body)
        assert response.status_code < 300, response.text
        return response.json() if response.content else None

    def submit(self, prompt: str, key: str = "test-key", **headers: str) -> str:
        from gateway_helpers import T2I

        sent = {"Ocp-Apim-Subscription-Key": key, **headers}
        response = self.http.post(T2I, json={"prompt": prompt}, headers=sent)
        assert response.status_code == 202, response.text
        request_id: str = response.json()["request_id"]
        return request_id


@dataclass
class Console:
    """What the page logged as errors and what it threw."""

    errors: list[str] = field(default_factory=list)
    allowed: tuple[str, ...] = ()

    def unexpected(self) -> list[str]:
        return [e for e in self.errors if not any(text in e for text in self.allowed)]
