"""Run the Alembic migrations shipped inside the package, from any working directory.

The migrations are package data (`reviewbot/migrations`, a link to the top-level
`migrations/` in a checkout), found with importlib.resources, so a wheel, a
`pip install --user` and an editable checkout all find the same files.
"""

from __future__ import annotations

import importlib.resources
import os
import re
from pathlib import Path
from typing import TYPE_CHECKING

import sqlalchemy as sa
from sqlalchemy.engine import Engine

if TYPE_CHECKING:
    from alembic.config import Config

# Alembic itself is imported only when a migration has to run: importing it costs
# ~120 ms, a third of what a query command may spend in all.
_REVISION = re.compile(r"^(down_)?revision\s*(?::[^=]*)?=\s*['\"]?([\w]+|None)['\"]?",
                       re.MULTILINE)

class MigrationsNotFound(RuntimeError):
    pass


def migrations_dir() -> Path:
    """$REVIEWBOT_MIGRATIONS (a developer's override), else the package's own migrations."""
    if env := os.environ.get("REVIEWBOT_MIGRATIONS"):
        path = Path(env)
    else:
        packaged = importlib.resources.files("reviewbot") / "migrations"
        # Alembic reads a directory: an installation imported from a zip has none.
        path = packaged if isinstance(packaged, Path) else Path(str(packaged))
    if not (path / "env.py").is_file():
        raise MigrationsNotFound(
            f"reviewbot's migrations are missing from {path}: the installation is incomplete "
            "(reinstall reviewbot; a checkout needs its reviewbot/migrations link)")
    return path


def alembic_config(engine: Engine | None = None) -> Config:
    from alembic.config import Config

    cfg = Config()
    cfg.set_main_option("script_location", str(migrations_dir()))
    if engine is not None:
        cfg.set_main_option("sqlalchemy.url",
                            engine.url.render_as_string(hide_password=False).replace("%", "%%"))
    return cfg


def head_revision() -> str | None:
    """The newest migration, read off the files' `revision`/`down_revision` lines."""
    revisions: set[str] = set()
    parents: set[str] = set()
    for path in (migrations_dir() / "versions").glob("*.py"):
        for down, value in _REVISION.findall(path.read_text(encoding="utf-8")):
            if value != "None":
                (parents if down else revisions).add(value)
    heads = revisions - parents
    if len(heads) > 1:
        raise MigrationsNotFound(f"several migration heads: {', '.join(sorted(heads))}")
    return next(iter(heads), None)


def current_revision(engine: Engine) -> str | None:
    with engine.connect() as conn:
        if not sa.inspect(conn).has_table("alembic_version"):
            return None
        return conn.execute(sa.text("SELECT version_num FROM alembic_version")).scalar()


def upgrade(engine: Engine, revision: str = "head") -> tuple[str | None, str | None]:
    """Bring the schema to `revision`; returns (before, after)."""
    before = current_revision(engine)
    if revision == "head" and before is not None and before == head_revision():
        return before, before
    from alembic import command

    cfg = alembic_config(engine)
    with engine.begin() as conn:
        cfg.attributes["connection"] = conn
        command.upgrade(cfg, revision)
    return before, current_revision(engine)


def downgrade(engine: Engine, revision: str) -> None:
    """Go back to `revision` (tests and emergencies; reviewbot never does it itself)."""
    from alembic import command

    cfg = alembic_config(engine)
    with engine.begin() as conn:
        cfg.attributes["connection"] = conn
        command.downgrade(cfg, revision)
