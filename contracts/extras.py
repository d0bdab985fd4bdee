"""The contract suite's optional dependencies: the ``contracts`` extra.

``pip install seedream-gateway-mock`` installs the mock, the client and the contract itself
(``openapi.yaml``, ``document.py``: PyYAML only). Running the suite needs what it imports:
pytest, hypothesis, schemathesis and requests (the suite's HTTP session). A missing one is a
one-line message naming the extra, never a traceback from deep inside an import.
"""

from __future__ import annotations

from importlib.util import find_spec

EXTRA = "contracts"
MODULES = ("pytest", "hypothesis", "schemathesis", "requests")
INSTALL = f"pip install 'seedream-gateway-mock[{EXTRA}]'"


def missing_modules() -> list[str]:
    """The suite's dependencies that cannot be imported here."""
    found = []
    for name in MODULES:
        try:
            spec = find_spec(name)
        except (ImportError, ValueError):  # a broken install counts as missing
            spec = None
        if spec is None:
            found.append(name)
    return found


def missing_message(names: list[str]) -> str:
    return (
        f"the contract suite needs the '{EXTRA}' extra (missing: {', '.join(names)}); "
        f"install it with: {INSTALL}"
    )
