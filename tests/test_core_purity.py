"""The core must stay free of I/O frameworks (h11-style): a test, not a convention."""

from __future__ import annotations

import ast
from pathlib import Path

FORBIDDEN = {"starlette", "httpx", "asyncio", "anyio", "uvicorn", "time", "socket", "PIL"}
CORE = Path(__file__).resolve().parent.parent / "mock_gateway" / "core"


def imported_roots(path: Path) -> set[str]:
    roots: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Import):
            roots.update(alias.name.split(".")[0] for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
            roots.add(node.module.split(".")[0])
    return roots


def test_core_imports_no_io_framework() -> None:
    files = sorted(CORE.glob("*.py"))
    assert files, "the core package is missing"
    for path in files:
        bad = imported_roots(path) & FORBIDDEN
        assert not bad, f"{path.name} imports {sorted(bad)}"


def test_core_reads_no_wall_clock() -> None:
    for path in CORE.glob("*.py"):
        text = path.read_text(encoding="utf-8")
        assert "time.time(" not in text and "datetime.now(" not in text, path.name
