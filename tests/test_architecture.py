"""The dependency rule: cli -> daemon -> {service, adapters, config} -> ports -> core.

Checked by parsing every module's imports (including those inside functions).
"""

from __future__ import annotations

import ast
import sys
from pathlib import Path

import pytest

from tests.conftest import REPO_ROOT

PKG = REPO_ROOT / "reviewbot"
STDLIB = sys.stdlib_module_names

# Adapters split along a noun may import their own family, never another adapter.
FAMILIES = {
    "sql": lambda name: name.startswith("sql"),
    "maintainers_file": lambda name: name in {"maintainers_file", "literal_finder"},
}


def _module_name(path: Path) -> str:
    rel = path.relative_to(REPO_ROOT).with_suffix("")
    parts = rel.parts[:-1] if rel.name == "__init__" else rel.parts
    return ".".join(parts)


def _imports(path: Path) -> set[str]:
    found: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text(), str(path))):
        if isinstance(node, ast.Import):
            found.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            found.add(node.module)
            found.update(f"{node.module}.{alias.name}" for alias in node.names)
    return found


def _modules(sub: str) -> list[Path]:
    return sorted((PKG / sub).rglob("*.py")) if (PKG / sub).is_dir() else [PKG / f"{sub}.py"]


def _project(imports: set[str]) -> set[str]:
    return {i for i in imports if i == "reviewbot" or i.startswith("reviewbot.")}


@pytest.mark.parametrize("path", _modules("core"), ids=lambda p: p.name)
def test_core_imports_only_the_standard_library_and_itself(path: Path) -> None:
    """reviewbot/core is pure: no third-party package, no adapter, no service."""
    for name in _imports(path):
        top = name.split(".")[0]
        assert top in STDLIB or name.startswith("reviewbot.core"), f"{path.name} imports {name}"


def test_ports_import_only_the_core() -> None:
    """ports.py names shapes over core types and nothing else of the project."""
    for name in _project(_imports(PKG / "ports.py")):
        assert name.startswith("reviewbot.core"), name


@pytest.mark.parametrize("path", _modules("service"), ids=lambda p: p.name)
def test_service_imports_only_core_and_ports(path: Path) -> None:
    """Use-cases reach the world only through ports, so they run on fakes too."""
    for name in _project(_imports(path)):
        assert name.startswith(("reviewbot.core", "reviewbot.ports", "reviewbot.service")), name


@pytest.mark.parametrize("path", _modules("adapters"), ids=lambda p: p.name)
def test_an_adapter_never_imports_another_adapter(path: Path) -> None:
    """Each adapter converts at one edge; wiring them together is the composition root's job."""
    own = path.stem
    family = next((f for f in FAMILIES.values() if f(own)), lambda name: name == own)
    for name in _project(_imports(path)) - {"reviewbot.adapters"}:
        if name.startswith("reviewbot.adapters."):
            other = name.split(".")[2]
            assert family(other), f"{own} imports adapter {other}"
        else:
            assert name == "reviewbot" or name.startswith(("reviewbot.core", "reviewbot.ports")), (
                f"{own} imports {name}")


@pytest.mark.parametrize("path", [p for p in PKG.rglob("*.py") if "commands" not in p.parts
                                  and p.name not in {"cli.py", "__main__.py"}],
                         ids=lambda p: str(p.relative_to(PKG)))
def test_nothing_below_the_cli_imports_the_cli_or_exits(path: Path) -> None:
    """Only the CLI chooses exit codes; library code never calls sys.exit."""
    text = path.read_text()
    assert "sys.exit" not in text and "SystemExit" not in text, path
    for name in _project(_imports(path)):
        assert not name.startswith(("reviewbot.cli", "reviewbot.commands")), name
