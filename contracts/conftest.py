"""The contract suite's conftest: its hooks and fixtures (``suite_hooks.py``), or, when the
``contracts`` extra is not installed, one line that says how to install it (not a traceback
from an import deep inside schemathesis)."""

from __future__ import annotations

import pytest

from seedream_contracts.extras import missing_message, missing_modules

MISSING = missing_modules()

if MISSING:

    def pytest_configure(config: pytest.Config) -> None:
        raise pytest.UsageError(missing_message(MISSING))

else:
    from seedream_contracts.suite_hooks import *  # noqa: F403
