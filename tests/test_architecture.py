"""The dependency rule: cli -> daemon -> {service, adapters, config} -> ports -> core.

Checked by parsing every module's imports (including those inside functions).
Every top-level package or module of reviewbot/ must have a rule below: a new
one fails `test_every_part_of_the_package_has_a_rule` until it gets one.
"""

from __future__ import annotations

import ast
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.conftest import REPO_ROOT

PKG = REPO_ROOT / "reviewbot"
STDLIB = sys.stdlib_module_names

# Standard-library modules that do I/O or read the environment: the core takes
# their results as arguments instead.
IO_MODULES = frozenset({
    "os", "io", "sys", "subprocess", "socket", "shutil", "pathlib", "tempfile", "glob",
    "urllib.request", "http", "asyncio", "threading", "multiprocessing", "sqlite3",
    "select", "signal", "fcntl", "logging", "random", "time",
})
# Calls that read the wall clock or the filesystem.
CLOCK_CALLS = frozenset({"now", "utcnow", "today", "time", "monotonic", "perf_counter"})

# Which project packages each part may import (itself is always allowed).
ALLOWED: dict[str, tuple[str, ...]] = {
    "core": ("reviewbot.core",),
    "ports": ("reviewbot.core",),
    "service": ("reviewbot.core", "reviewbot.ports", "reviewbot.service"),
    "adapters": ("reviewbot.core", "reviewbot.ports"),  # and its own sub-package only
    "config": ("reviewbot.core", "reviewbot.locations"),
    "config_web": ("reviewbot.core",),  # [http], [chat], [metrics]; read through config
    "locations": (),  # where things live on this machine (XDG, systemd): stdlib only
    "wiring": ("reviewbot.core", "reviewbot.ports", "reviewbot.config", "reviewbot.adapters",
               "reviewbot.service", "reviewbot.locations"),
    "wiring_health": ("reviewbot.core", "reviewbot.config", "reviewbot.adapters",
                      "reviewbot.service", "reviewbot.wiring"),
    "wiring_web": ("reviewbot.core", "reviewbot.ports", "reviewbot.config", "reviewbot.adapters",
                   "reviewbot.service", "reviewbot.wiring", "reviewbot.__version__"),
    "daemon": ("reviewbot.core", "reviewbot.ports", "reviewbot.adapters", "reviewbot.service",
               "reviewbot.config", "reviewbot.wiring", "reviewbot.locations"),
    "commands": ("reviewbot",),  # the CLI shell may wire anything
    "cli": ("reviewbot",),
    "__main__": ("reviewbot.cli",),
    "__init__": (),
}
# Parts that may use third-party packages (the rest: standard library only).
THIRD_PARTY_OK = frozenset({"adapters", "config", "wiring", "wiring_web", "wiring_health",
                            "daemon", "commands",
                            "cli"})


def _module_name(path: Path) -> str:
    rel = path.relative_to(REPO_ROOT).with_suffix("")
    parts = rel.parts[:-1] if rel.name == "__init__" else rel.parts
    return ".".join(parts)


def _tree(path: Path) -> ast.Module:
    return ast.parse(path.read_text(), str(path))


def _imports(path: Path) -> set[str]:
    found: set[str] = set()
    for node in ast.walk(_tree(path)):
        if isinstance(node, ast.Import):
            found.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            found.add(node.module)
            found.update(f"{node.module}.{alias.name}" for alias in node.names)
    return found


def _part(path: Path) -> str:
    return path.relative_to(PKG).parts[0].removesuffix(".py")


def _all_modules() -> list[Path]:
    return sorted(PKG.rglob("*.py"))


def _of(part: str) -> list[Path]:
    return [p for p in _all_modules() if _part(p) == part]


def _project(imports: set[str]) -> set[str]:
    return {i for i in imports if i == "reviewbot" or i.startswith("reviewbot.")}


def _ids(p: Path) -> str:
    return str(p.relative_to(PKG))


def test_every_part_of_the_package_has_a_rule() -> None:
    """A new top-level package or module gets a dependency rule before it lands."""
    parts = {_part(p) for p in _all_modules()}
    assert parts <= set(ALLOWED), f"no dependency rule for {sorted(parts - set(ALLOWED))}"


@pytest.mark.parametrize("path", _all_modules(), ids=_ids)
def test_no_relative_imports(path: Path) -> None:
    """Absolute imports only: the dependency rule is checked on what the text says."""
    for node in ast.walk(_tree(path)):
        if isinstance(node, ast.ImportFrom):
            assert node.level == 0, f"{_ids(path)}:{node.lineno}: relative import"


@pytest.mark.parametrize("path", _all_modules(), ids=_ids)
def test_each_part_imports_only_what_its_rule_allows(path: Path) -> None:
    part = _part(path)
    allowed = (*ALLOWED[part], f"reviewbot.{part}")
    for name in _project(_imports(path)) - {"reviewbot"}:
        assert name.startswith(allowed), f"{_ids(path)} imports {name}"
    if part not in THIRD_PARTY_OK:
        for name in _imports(path):
            top = name.split(".")[0]
            assert top in STDLIB or top == "reviewbot", f"{_ids(path)} imports {name}"


@pytest.mark.parametrize("path", _of("core"), ids=_ids)
def test_core_does_no_io_and_reads_no_clock(path: Path) -> None:
    """The core is pure: no I/O modules, no wall clock, no open(); `now` is a parameter."""
    for node in ast.walk(_tree(path)):
        if isinstance(node, ast.Import):
            names = [a.name for a in node.names]
        elif isinstance(node, ast.ImportFrom) and node.module:
            if node.module == "pathlib" and all(a.name.startswith("Pure") for a in node.names):
                continue  # pure path arithmetic, no filesystem
            names = [node.module]
        else:
            continue
        for name in names:
            assert name.split(".")[0] not in IO_MODULES and name not in IO_MODULES, (
                f"{_ids(path)} imports {name}")
    for node in ast.walk(_tree(path)):
        if isinstance(node, ast.Call):
            f = node.func
            if isinstance(f, ast.Name) and f.id in {"open", "input", "print"}:
                raise AssertionError(f"{_ids(path)}:{node.lineno}: calls {f.id}()")
            if isinstance(f, ast.Attribute) and f.attr in CLOCK_CALLS:
                raise AssertionError(f"{_ids(path)}:{node.lineno}: reads the clock (.{f.attr}())")


def _adapter_package(path: Path) -> str:
    parts = path.relative_to(PKG / "adapters").parts
    return parts[0].removesuffix(".py")


@pytest.mark.parametrize("path", _of("adapters"), ids=_ids)
def test_an_adapter_never_imports_another_adapter(path: Path) -> None:
    """Each adapter package converts at one edge; wiring them is the composition root's job."""
    own = _adapter_package(path)
    for name in _project(_imports(path)):
        if name.startswith("reviewbot.adapters."):
            assert name.split(".")[2] == own, f"{_ids(path)} imports adapter {name}"


def _walk_calls(tree: ast.AST) -> Iterator[ast.Call]:
    for node in ast.walk(tree):
        if isinstance(node, ast.Call):
            yield node


@pytest.mark.parametrize("path", [p for p in _all_modules()
                                  if _part(p) not in {"commands", "cli", "__main__"}],
                         ids=_ids)
def test_nothing_below_the_cli_imports_the_cli_or_exits(path: Path) -> None:
    """Only the CLI chooses exit codes; library code never calls sys.exit."""
    text = path.read_text()
    assert "sys.exit" not in text and "SystemExit" not in text, path
    for name in _project(_imports(path)):
        assert not name.startswith(("reviewbot.cli", "reviewbot.commands")), name


def test_every_protocol_lives_in_ports() -> None:
    """Ports are the one place that names the shapes adapters implement."""
    for path in _all_modules():
        if path == PKG / "ports.py":
            continue
        for node in ast.walk(_tree(path)):
            if isinstance(node, ast.ClassDef):
                bases = {b.id if isinstance(b, ast.Name) else getattr(b, "attr", "")
                         for b in node.bases}
                assert "Protocol" not in bases, f"{_ids(path)}: Protocol {node.name} outside ports"


def _folders() -> list[Path]:
    return sorted(d for d in PKG.rglob("*") if d.is_dir() and (d / "__init__.py").exists()
                  and not d.is_symlink() and "__pycache__" not in d.parts)


@pytest.mark.parametrize("folder", _folders(), ids=lambda d: str(d.relative_to(REPO_ROOT)))
def test_a_folder_holds_a_dozen_modules_at_most(folder: Path) -> None:
    """Past about a dozen modules a folder is grouped into sub-packages by noun (as
    service/, commands/ and adapters/sql/ are)."""
    modules = [p for p in folder.glob("*.py") if p.name != "__init__.py"]
    assert len(modules) <= 12, f"{len(modules)} modules: group them by noun"
