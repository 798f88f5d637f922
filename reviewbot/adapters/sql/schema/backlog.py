"""Backlog tables (migration 0003): manual actions and person aliases.

Manual actions are facts people recorded and are never rewritten (only re-keyed
when the series they name is reassembled under another root). Aliases are
derived: the map the last refresh used, kept so the next one can tell what changed.
"""

from __future__ import annotations

from datetime import datetime

import sqlalchemy as sa
from sqlmodel import Field, SQLModel

from reviewbot.adapters.sql.schema.tables import AwareDateTime


class SeriesActionRow(SQLModel, table=True):
    """A manual override, claim, release or assignment, with who and when."""

    __tablename__ = "series_action"

    id: int | None = Field(default=None, primary_key=True)
    series_id: str = Field(index=True)
    kind: str  # core.events.EventKind value
    actor: str
    at: datetime = Field(sa_column=sa.Column(AwareDateTime(), nullable=False))
    action: str | None = None  # OverrideAction value
    until: datetime | None = Field(default=None,
                                   sa_column=sa.Column(AwareDateTime(), nullable=True))
    target: str = ""
    note: str = Field(default="", sa_column=sa.Column(sa.Text(), nullable=False))


class PersonAliasRow(SQLModel, table=True):
    """address -> the person's canonical address (core.people)."""

    __tablename__ = "person_alias"

    address: str = Field(primary_key=True)
    canonical: str
