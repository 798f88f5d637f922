"""Run the Alembic migrations in migrations/ from any working directory."""

from __future__ import annotations

import os
import sys
from pathlib import Path

from alembic import command
from alembic.config import Config
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy.engine import Engine


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
    cfg = Config()
    cfg.set_main_option("script_location", str(migrations_dir()))
    if engine is not None:
        cfg.set_main_option("sqlalchemy.url",
                            engine.url.render_as_string(hide_password=False).replace("%", "%%"))
    return cfg


def head_revision() -> str | None:
    return ScriptDirectory.from_config(alembic_config()).get_current_head()


def current_revision(engine: Engine) -> str | None:
    with engine.connect() as conn:
        return MigrationContext.configure(conn).get_current_revision()


def upgrade(engine: Engine, revision: str = "head") -> tuple[str | None, str | None]:
    """Bring the schema to `revision`; returns (before, after)."""
    before = current_revision(engine)
    if revision == "head" and before is not None and before == head_revision():
        return before, before
    cfg = alembic_config(engine)
    with engine.begin() as conn:
        cfg.attributes["connection"] = conn
        command.upgrade(cfg, revision)
    return before, current_revision(engine)


def downgrade(engine: Engine, revision: str) -> None:
    """Go back to `revision` (tests and emergencies; reviewbot never does it itself)."""
    cfg = alembic_config(engine)
    with engine.begin() as conn:
        cfg.attributes["connection"] = conn
        command.downgrade(cfg, revision)
