"""Column values and small upserts that both the ingest store and reparse write."""

from __future__ import annotations

import uuid
from collections.abc import Mapping
from typing import Any

import sqlalchemy as sa
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.engine import Connection

from reviewbot.adapters.sql.schema.series import PersonRow
from reviewbot.adapters.sql.schema.tables import MetaRow
from reviewbot.core.applied.match import subject_hash
from reviewbot.core.model import Message, MessageKind

META: sa.Table = MetaRow.__table__  # type: ignore[attr-defined]
PERSON: sa.Table = PersonRow.__table__  # type: ignore[attr-defined]
PEOPLE_KEY = "people_version"
# the backlog context (policies, MAINTAINERS) the stored standings were computed under
CONTEXT_KEY = "context_stamp"
ALIASES_KEY = "aliases_version"  # service.backlog.context.aliases_version of the stored alias map


def subject_key(m: Message) -> int | None:
    """For patch postings: a 63-bit hash of the normalised subject (applied detection's
    subject + author fallback looks postings up by it)."""
    if m.kind is not MessageKind.PATCH or m.subject.is_reply or m.subject.is_autosel:
        return None
    return subject_hash(m.subject.title or m.subject.raw)


def upsert(conn: Connection, table: sa.Table, key_col: str, key: str, **values: Any) -> None:
    """Insert or update one row by its primary key (portable upsert for small tables)."""
    where = table.c[key_col] == key
    if conn.execute(sa.update(table).where(where).values(**values)).rowcount == 0:
        conn.execute(sa.insert(table).values({key_col: key, **values}))


def set_meta(conn: Connection, key: str, value: str) -> None:
    upsert(conn, META, "key", key, value=value)


def get_meta(conn: Connection, key: str) -> str | None:
    value = conn.execute(sa.select(META.c.value).where(META.c.key == key)).scalar()
    return str(value) if value is not None else None


def add_person_uses(conn: Connection, uses: Mapping[tuple[str, str], int]) -> None:
    if not uses:
        return
    rows = [{"name_key": k, "address": a, "uses": n} for (k, a), n in sorted(uses.items())]
    insert = (postgresql.insert(PERSON) if conn.dialect.name == "postgresql"
              else sqlite.insert(PERSON))
    conn.execute(insert.on_conflict_do_update(
        index_elements=["name_key", "address"],
        set_={"uses": PERSON.c.uses + insert.excluded.uses}), rows)
    # Any change gives the people a new version, so a refresh knows to redo the aliases.
    set_meta(conn, PEOPLE_KEY, uuid.uuid4().hex)


