"""Alembic environment: reviewbot's SQLModel metadata, batch mode for SQLite.

`reviewbot db upgrade` hands over an open connection in
config.attributes["connection"]; the plain `alembic` command builds an engine
from sqlalchemy.url or $REVIEWBOT_DATABASE_URL.
"""

from __future__ import annotations

import os

import sqlalchemy as sa
from alembic import context
from sqlmodel import SQLModel

import reviewbot.adapters.sql.mail.outbox
import reviewbot.adapters.sql.mail.state
import reviewbot.adapters.sql.schema.backlog
import reviewbot.adapters.sql.schema.series
import reviewbot.adapters.sql.schema.tables
import reviewbot.adapters.sql.trees.applied
import reviewbot.adapters.sql.trees.pulls  # noqa: F401  (registers the tables)

config = context.config
target_metadata = SQLModel.metadata


def _configure(connection: sa.engine.Connection) -> None:
    context.configure(
        connection=connection,
        target_metadata=target_metadata,
        render_as_batch=True,  # SQLite cannot ALTER most things; batch mode copies tables
        compare_type=True,
    )
    with context.begin_transaction():
        context.run_migrations()


def run_offline() -> None:
    context.configure(
        url=config.get_main_option("sqlalchemy.url") or os.environ["REVIEWBOT_DATABASE_URL"],
        target_metadata=target_metadata,
        literal_binds=True,
        render_as_batch=True,
    )
    with context.begin_transaction():
        context.run_migrations()


def run_online() -> None:
    connection = config.attributes.get("connection")
    if connection is not None:
        _configure(connection)
        return
    url = config.get_main_option("sqlalchemy.url") or os.environ.get(
        "REVIEWBOT_DATABASE_URL", "sqlite:///reviewbot.db")
    engine = sa.create_engine(url)
    with engine.connect() as conn:
        _configure(conn)
        conn.commit()


if context.is_offline_mode():
    run_offline()
else:
    run_online()
