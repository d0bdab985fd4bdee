"""Where the mock finds its bundled data: test keys, sample images, scenarios, examples."""

from __future__ import annotations

import os
from importlib.util import find_spec
from pathlib import Path

PROJECT_ROOT = Path(__file__).resolve().parents[2]


def fixtures_dir() -> Path:
    """``$MOCK_GATEWAY_FIXTURES``; else ``fixtures/`` beside the package (a source checkout
    or an editable install); else the copy a wheel installs as ``seedream_gateway_fixtures``."""
    configured = os.environ.get("MOCK_GATEWAY_FIXTURES")
    if configured:
        return Path(configured)
    checkout = PROJECT_ROOT / "fixtures"
    if checkout.is_dir():
        return checkout
    spec = find_spec("seedream_gateway_fixtures")  # a namespace package: no __init__.py
    if spec is None or not spec.submodule_search_locations:
        return checkout  # nothing installed either; the caller reports the missing files
    return Path(next(iter(spec.submodule_search_locations)))
