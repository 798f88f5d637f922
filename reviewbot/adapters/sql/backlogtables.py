"""Backlog tables (migration 0003): routing per series, manual actions, person aliases.

Routing and aliases are derived (rewritten when MAINTAINERS or the series change);
manual actions are facts people recorded and are never rewritten.
"""

from __future__ import annotations

from datetime import datetime

import sqlalchemy as sa
from sqlmodel import Field, SQLModel

from reviewbot.adapters.sql.tables import AwareDateTime


class SeriesRouteRow(SQLModel, table=True):
    """One MAINTAINERS section (not THE REST) a series touches."""

    __tablename__ = "series_route"

    id: int | None = Field(default=None, primary_key=True)
    series_id: str = Field(index=True)
    section: str = Field(index=True)
    is_taker: bool  # the section expected to apply it (core.routing.expected_taker)
    lists: str = Field(sa_column=sa.Column(sa.Text(), nullable=False))  # JSON
    maintainers: str = Field(sa_column=sa.Column(sa.Text(), nullable=False))  # JSON, M:
    reviewers: str = Field(sa_column=sa.Column(sa.Text(), nullable=False))  # JSON, R:


class SeriesUnownedRow(SQLModel, table=True):
    """Series files only THE REST claims (nobody is expected to take them)."""

    __tablename__ = "series_unowned"

    id: int | None = Field(default=None, primary_key=True)
    series_id: str = Field(index=True)
    path: str = Field(sa_column=sa.Column(sa.Text(), nullable=False))


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
