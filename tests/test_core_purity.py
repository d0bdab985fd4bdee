"""The core and the request pipeline stay free of I/O frameworks (h11-style): a test, not a
convention.

Checked: every module of ``mock_gateway/core`` and ``mock_gateway/pipeline``, every module of
``mock_gateway`` the pipeline imports (directly or through another checked module: the
fault rules, hygiene, the journal, validation ...), and the webhook policy.
"""

from __future__ import annotations

import ast
from pathlib import Path

FORBIDDEN = {"starlette", "httpx", "asyncio", "anyio", "uvicorn", "time", "socket", "PIL"}
ROOT = Path(__file__).resolve().parent.parent
PACKAGE = ROOT / "mock_gateway"
# Packages the walk does not enter, and why that is no I/O on a request's path.
NOT_ENTERED = {
    # Pillow decodes input images from bytes in memory (validation); the render cache's
    # worker threads are used by the media route only, never by the pipeline.
    "mock_gateway.imaging": "image decoding in memory",
}
ROOTS = ("mock_gateway.core", "mock_gateway.pipeline", "mock_gateway.steering.webhook_policy")


def module_file(name: str) -> Path | None:
    path = ROOT.joinpath(*name.split("."))
    if path.is_dir():
        return path / "__init__.py"
    return path.with_suffix(".py") if path.with_suffix(".py").exists() else None


def imports_of(path: Path) -> set[str]:
    names: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Import):
            names.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
            names.add(node.module)
            names.update(f"{node.module}.{alias.name}" for alias in node.names)
    return names


def checked_modules() -> dict[str, Path]:
    """The roots (packages with all their modules) and every mock_gateway module they reach."""
    todo = [
        f"mock_gateway.{'.'.join(path.relative_to(PACKAGE).with_suffix('').parts)}"
        for root in ("core", "pipeline")
        for path in (PACKAGE / root).glob("*.py")
    ]
    todo.append("mock_gateway.steering.webhook_policy")
    found: dict[str, Path] = {}
    while todo:
        name = todo.pop().removesuffix(".__init__")
        entered = name.startswith("mock_gateway") and not name.startswith(tuple(NOT_ENTERED))
        if not entered or name in found:
            continue
        path = module_file(name)
        if path is None:  # a name imported from a module, not a module
            continue
        found[name] = path
        todo.extend(n for n in imports_of(path) if n.startswith("mock_gateway."))
        todo.append(name.rpartition(".")[0])  # importing a module runs its package first
    return found


def test_the_walk_covers_what_the_pipeline_uses() -> None:
    names = set(checked_modules())
    for needed in (
        *ROOTS,
        "mock_gateway.pipeline.submit",
        "mock_gateway.core.queue",
        "mock_gateway.steering.faults",
        "mock_gateway.steering.hygiene",
        "mock_gateway.steering.journal",
        "mock_gateway.validation.request",
    ):
        assert needed in names, needed
    assert not any(name.startswith("mock_gateway.web") for name in names)


def test_core_and_pipeline_import_no_io_framework() -> None:
    for name, path in sorted(checked_modules().items()):
        bad = {n.split(".")[0] for n in imports_of(path)} & FORBIDDEN
        assert not bad, f"{name} imports {sorted(bad)}"


def test_core_and_pipeline_read_no_wall_clock() -> None:
    for name, path in checked_modules().items():
        text = path.read_text(encoding="utf-8")
        assert "time.time(" not in text and "datetime.now(" not in text, name


def test_the_contract_suite_never_imports_the_mock() -> None:
    """The suite judges the mock from outside, over HTTP: no package cycle."""
    for path in sorted((ROOT / "contracts").rglob("*.py")):
        roots = {name.split(".")[0] for name in imports_of(path)}
        assert "mock_gateway" not in roots, path.relative_to(ROOT)
