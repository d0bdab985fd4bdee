"""Where the mock finds its bundled data (the repository's ``fixtures/``)."""

from __future__ import annotations

import os
from pathlib import Path

PROJECT_ROOT = Path(__file__).resolve().parent.parent


def fixtures_dir() -> Path:
    """``$MOCK_GATEWAY_FIXTURES`` or the ``fixtures/`` folder beside the package."""
    return Path(os.environ.get("MOCK_GATEWAY_FIXTURES", PROJECT_ROOT / "fixtures"))
