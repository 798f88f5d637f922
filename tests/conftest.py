"""Shared fixtures: where the shared corpus and MAINTAINERS live.

CI clones the project into a fresh folder with `shared/` beside it, exactly as
in a session, so `../shared` relative to the repository root is the place.
REVIEWBOT_SHARED overrides it.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path

import pytest

# The parametrised `store` fixture (SQLite | PostgreSQL) and corpus helpers.
pytest_plugins = ["tests.sqlfixtures", "tests.pulls_build", "tests.webfix", "tests.installed"]

REPO_ROOT = Path(__file__).resolve().parents[1]
SHARED = Path(os.environ.get("REVIEWBOT_SHARED", REPO_ROOT.parent / "shared"))
CORPUS_GIT = SHARED / "corpus" / "linux-rdma-2025.git"
KERNEL_MAINTAINERS = SHARED / "kernel" / "MAINTAINERS"
DATA = Path(__file__).resolve().parent / "data"


@pytest.fixture(scope="session")
def corpus_git() -> Path:
    """The real linux-rdma 2025 public-inbox v2 epoch (read only)."""
    if not (CORPUS_GIT / "HEAD").exists():
        raise FileNotFoundError(f"shared corpus missing at {CORPUS_GIT}; set REVIEWBOT_SHARED")
    return CORPUS_GIT


@pytest.fixture(scope="session")
def kernel_maintainers() -> Path:
    """The real Linux 6.12 MAINTAINERS file."""
    if not KERNEL_MAINTAINERS.exists():
        raise FileNotFoundError(f"MAINTAINERS missing at {KERNEL_MAINTAINERS}")
    return KERNEL_MAINTAINERS


@pytest.fixture(scope="session")
def lore_server(corpus_git: Path, tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """Base URL of a real public-inbox-httpd serving the corpus with a full index."""
    from tests.pi_server import PublicInboxServer

    server = PublicInboxServer(corpus_git, tmp_path_factory.mktemp("public-inbox"))
    server.start()
    try:
        yield server.base_url
    finally:
        server.stop()
