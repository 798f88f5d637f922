"""Run the Alembic migrations in migrations/ from any working directory."""

from __future__ import annotations

import os
import re
import sys
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
    """$REVIEWBOT_MIGRATIONS, the repo's migrations/, or <prefix>/share/reviewbot/migrations."""
    candidates = []
    if env := os.environ.get("REVIEWBOT_MIGRATIONS"):
        candidates.append(Path(env))
    candidates.append(Path(__file__).resolve().parents[3] / "migrations")
    candidates.append(Path(sys.prefix) / "share" / "reviewbot" / "migrations")
    for path in candidates:
        if (path / "env.py").is_file():
            return path
    raise MigrationsNotFound(
        "cannot find reviewbot's migrations (looked in "
        + ", ".join(str(c) for c in candidates) + "); set REVIEWBOT_MIGRATIONS")


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
