"""The gateway's machine-readable contract (``openapi.yaml``) and the contract test suite.

Importing this package is cheap: the test machinery lives in submodules that import
schemathesis and hypothesis only when used.
"""

from __future__ import annotations

from pathlib import Path


def openapi_path() -> Path:
    """The path of ``openapi.yaml`` (packaged data of this package): beside this file in a
    checkout or an installed wheel; else where importlib.resources finds it (whose import
    the mock's start-up is spared)."""
    beside = Path(__file__).with_name("openapi.yaml")
    if beside.is_file():
        return beside
    from importlib.resources import files

    return Path(str(files(__name__) / "openapi.yaml"))
