"""Where the mock finds its data: test keys, sample images, scenarios, examples.

Two layers: the bundled fixtures (``fixtures/`` in a checkout, or the copy a wheel installs as
``seedream_gateway_fixtures``) and, optionally, a folder of your own named by
``$MOCK_GATEWAY_FIXTURES``. The folder needs to hold only what it overrides: each file is
looked up there first and falls back to the bundled copy (``images/`` is one unit, because
``samples.toml`` names the image files beside it).
"""

from __future__ import annotations

import os
from importlib.util import find_spec
from pathlib import Path

PROJECT_ROOT = Path(__file__).resolve().parents[2]
ENV_VAR = "MOCK_GATEWAY_FIXTURES"


def bundled_fixtures_dir() -> Path:
    """``fixtures/`` beside the package (a source checkout or an editable install); else the
    copy a wheel installs as ``seedream_gateway_fixtures``."""
    checkout = PROJECT_ROOT / "fixtures"
    if checkout.is_dir():
        return checkout
    spec = find_spec("seedream_gateway_fixtures")  # a namespace package: no __init__.py
    if spec is None or not spec.submodule_search_locations:
        return checkout  # nothing installed either; the caller reports the missing files
    return Path(next(iter(spec.submodule_search_locations)))


def override_dir() -> Path | None:
    """The folder named by ``$MOCK_GATEWAY_FIXTURES``, if any."""
    configured = os.environ.get(ENV_VAR)
    return Path(configured).expanduser() if configured else None


def fixtures_dirs() -> list[Path]:
    """Where to look, first match wins: the override folder (if any), then the bundled one."""
    override = override_dir()
    return [override, bundled_fixtures_dir()] if override else [bundled_fixtures_dir()]


def fixture_path(relative: str) -> Path:
    """``relative`` (e.g. ``keys.toml``) in the first folder that has it; the bundled path
    when none does (the caller reports it missing)."""
    for folder in fixtures_dirs():
        if (folder / relative).exists():
            return folder / relative
    return bundled_fixtures_dir() / relative


def images_dir() -> Path:
    """The folder of sample images: the override's ``images/`` when it has a ``samples.toml``."""
    return fixture_path("images/samples.toml").parent


def fixtures_dir() -> Path:
    """The override folder if set, else the bundled one (for messages and for callers that
    write new fixtures; readers use ``fixture_path``)."""
    return override_dir() or bundled_fixtures_dir()
