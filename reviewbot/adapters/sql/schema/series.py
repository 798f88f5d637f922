"""Derived tables (migration 0005): thread components, series with their standing, routing.

Everything here is recomputed from the messages, the context (MAINTAINERS,
policies, aliases) and the facts people or trees recorded (series_action,
tree_applied). A component is dirty while its stored series may be out of date;
`gen` counts changes, so a refresh that computed from an older generation
writes nothing for it (a concurrent batch made it stale again).
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import sqlalchemy as sa
from sqlmodel import Field, SQLModel

from reviewbot.adapters.sql.schema.tables import AwareDateTime

EPOCH = datetime(1970, 1, 1, tzinfo=UTC)


def _aware(nullable: bool = False, index: bool = False) -> Any:
    return Field(default=None, sa_column=sa.Column(AwareDateTime(), nullable=nullable,
                                                   index=index))


def _micros(nullable: bool = False) -> Any:
    return Field(default=None, sa_column=sa.Column(sa.BigInteger(), nullable=nullable))


def micros(when: datetime) -> int:
    """An aware datetime as microseconds since the epoch."""
    delta = when - EPOCH
    return (delta.days * 86400 + delta.seconds) * 1_000_000 + delta.microseconds


def from_micros(value: int) -> datetime:
    return EPOCH + timedelta(microseconds=value)


def _text(nullable: bool = False) -> Any:
    return Field(default=None, sa_column=sa.Column(sa.Text(), nullable=nullable))


def _blob() -> Any:
    return Field(sa_column=sa.Column(sa.LargeBinary(), nullable=False))


class ComponentRow(SQLModel, table=True):
    """A closed set of messages that assemble together (core.series.closure).

    Ids are never reused (AUTOINCREMENT on SQLite; PostgreSQL's sequences never go
    back): a refresh stores its results only where (id, gen) is still what it read,
    and a merged-away component's id handed to a new one would pass that check.
    """

    __tablename__ = "component"
    __table_args__ = (
        sa.Index("ix_component_dirty", "id", sqlite_where=sa.text("dirty"),
                 postgresql_where=sa.text("dirty")),
        {"sqlite_autoincrement": True},
    )

    id: int | None = Field(default=None, primary_key=True)
    size: int = 0  # messages, for merging the smaller into the larger
    gen: int = 0
    dirty: bool = True


class ThreadKeyRow(SQLModel, table=True):
    """A key no stored message is named by: a referenced Message-ID not seen yet, or
    a revision-family key (change-id, title + sender, ...). Messages carry `comp`."""

    __tablename__ = "thread_key"

    key: str = Field(primary_key=True)
    comp: int = Field(index=True)


class SeriesRow(SQLModel, table=True):
    """One assembled series, its routing summary and its standing (core.backlog.standing)."""

    __tablename__ = "series"

    id: int = Field(primary_key=True)  # the root message's row id
    series_id: str = Field(unique=True)  # the root's Message-ID
    comp: int = Field(index=True)
    title: str = _text()
    version: int
    total: int
    patch_count: int
    author_name: str
    author_email: str = Field(index=True)
    date: datetime = _aware(index=True)
    is_rfc: bool
    superseded_by: str | None = None
    doc: bytes = _blob()  # codec.encode_series: the whole Series but its members
    files_hash: str  # of the sorted file set: routing is reused while it and the stamp hold
    route_stamp: str
    routes: str = _text()  # JSON: [[section, is_taker], ...] and unowned files
    policy: str  # the name of the policy the taker's section follows
    ignored: str | None = None  # why the policy leaves it out of the queue
    state: str = Field(index=True)  # Standing.state
    turn: str
    can_open: bool = Field(index=True)
    # The standing's times, as microseconds since the epoch (UTC): listings read them for
    # every series of a subsystem, and integers need none of the datetime conversions
    # that cost most of such a query (bench/live.py).
    posted_us: int = _micros()
    last_event_us: int = _micros()
    first_review_us: int | None = _micros(nullable=True)
    applied_us: int | None = _micros(nullable=True)
    standing: str | None = _text(nullable=True)  # encode_standing; None: not replayable
    actors: str = _text()  # " a@x b@y ": every address its events name, for alias changes


class SeriesSectionRow(SQLModel, table=True):
    """A MAINTAINERS section (not THE REST) a series touches: the subsystem filter."""

    __tablename__ = "series_section"

    section: str = Field(primary_key=True)
    series: int = Field(primary_key=True, index=True)
    is_taker: bool


class SubsystemRow(SQLModel, table=True):
    """MAINTAINERS sections as last loaded: names, lists, M:, R: (for queries)."""

    __tablename__ = "subsystem"

    name: str = Field(primary_key=True)
    lists: str = _text()  # JSON
    maintainers: str = _text()  # JSON, "Name <addr>"
    reviewers: str = _text()  # JSON


class PersonRow(SQLModel, table=True):
    """How often an address signed with a name (senders and trailer givers of live mail)."""

    __tablename__ = "person"

    name_key: str = Field(primary_key=True)  # core.maintainers.people.name_key
    address: str = Field(primary_key=True)
    uses: int = 0
