"""The gateway's machine-readable contract (``openapi.yaml``) and the contract test suite.

Importing this package is cheap: the test machinery lives in submodules that import
schemathesis and hypothesis only when used.
"""

from __future__ import annotations

from importlib.resources import files
from pathlib import Path


def openapi_path() -> Path:
    """The path of ``openapi.yaml`` (packaged data of this package)."""
    return Path(str(files(__name__) / "openapi.yaml"))
