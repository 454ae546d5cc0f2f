"""The layout ARCHITECTURE.md describes: areas without prefixed file names, a kernel that asks areas little."""

from __future__ import annotations

import ast
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
APP = ROOT / "app"
# Top-level packages that are not areas of the product.
NOT_AREAS = {"kernel", "__pycache__"}
# The only area modules the kernel may import (ARCHITECTURE.md, "The kernel").
KERNEL_MAY_ASK = {"app.accounts.state", "app.api_keys.auth", "app.quotas.edge"}


def _areas() -> list[Path]:
    return sorted(p for p in APP.iterdir() if p.is_dir() and (p / "__init__.py").exists() and p.name not in NOT_AREAS)


def _imported_modules(path: Path) -> set[str]:
    found: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            found.update(f"{node.module}.{alias.name}" for alias in node.names)
            found.add(node.module)
        elif isinstance(node, ast.Import):
            found.update(alias.name for alias in node.names)
    return found


def test_no_module_carries_its_areas_name_as_a_prefix() -> None:
    offenders = [
        str(module.relative_to(APP))
        for package in APP.rglob("__init__.py")
        for module in package.parent.glob("*.py")
        if module.name.startswith(f"{package.parent.name.rstrip('s')}_")
        or module.name.startswith(f"{package.parent.name}_")
    ]
    assert offenders == []


def test_the_kernel_imports_no_area_but_the_questions_it_must_ask() -> None:
    reached = {
        (str(path.relative_to(ROOT)), module)
        for path in (APP / "kernel").rglob("*.py")
        for module in _imported_modules(path)
        if module.startswith("app.") and not module.startswith("app.kernel")
    }
    unexpected = sorted((path, module) for path, module in reached if not _allowed(module))
    assert unexpected == []


def _allowed(module: str) -> bool:
    # An import names a module, its package (`from app.accounts import state`) or a name inside it.
    return any(
        module == allowed or module.startswith(f"{allowed}.") or allowed.startswith(f"{module}.")
        for allowed in KERNEL_MAY_ASK
    )


def test_architecture_md_names_every_area() -> None:
    text = (ROOT / "ARCHITECTURE.md").read_text()
    missing = [area.name for area in _areas() if f"`{area.name}/`" not in text]
    assert missing == []
