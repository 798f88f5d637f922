"""SQLModel tables. Mapping to core types lives in sqlstore.py, not here.

Raw mail is kept losslessly (the bytes, as-is or zlib-compressed per row, and
the sha256 of the original bytes); the parsed Message is cached as compact JSON
so reassembly never has to reparse. Series rows are derived data, rewritten by reassembly.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import sqlalchemy as sa
from sqlalchemy.engine import Dialect
from sqlmodel import Field, SQLModel


class AwareDateTime(sa.types.TypeDecorator[datetime]):
    """Stores UTC; always returns aware UTC datetimes (SQLite drops the offset)."""

    impl = sa.DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError(f"naive datetime {value!r}: reviewbot stores aware datetimes only")
        value = value.astimezone(UTC)
        return value.replace(tzinfo=None) if dialect.name == "sqlite" else value

    def process_result_value(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            return value.replace(tzinfo=UTC)
        return value.astimezone(UTC)


def _aware(nullable: bool = False, index: bool = False) -> Any:
    return Field(default=None, sa_column=sa.Column(AwareDateTime(), nullable=nullable, index=index))


def _blob() -> Any:
    return Field(sa_column=sa.Column(sa.LargeBinary(), nullable=False))


def _codec() -> Any:
    # Rows from before migration 0002 were all zlib; new rows always name their codec.
    return Field(default="identity", sa_column=sa.Column(
        sa.String(), nullable=False, server_default="zlib"))


def _text(nullable: bool = False) -> Any:
    return Field(default=None, sa_column=sa.Column(sa.Text(), nullable=nullable))


class MessageRow(SQLModel, table=True):
    __tablename__ = "message"

    id: int | None = Field(default=None, primary_key=True)
    message_id: str = Field(unique=True)
    list_name: str
    sha256: str = Field(unique=True)  # of the uncompressed raw bytes
    raw: bytes = _blob()  # the original bytes, stored as raw_codec says
    raw_codec: str = _codec()  # "identity" | "zlib" (sqlcodec.pack_raw)
    origin: str
    received: datetime | None = _aware(nullable=True)
    date: datetime = _aware(index=True)
    subject: str
    from_email: str
    parsed: str = _text()  # sqlcodec JSON of core.model.Message
    codec: int
    deleted: bool = Field(default=False)
    duplicates: int = Field(default=0)  # extra copies that arrived (see `duplicate`)


class DuplicateRow(SQLModel, table=True):
    """Another copy of a stored Message-ID with different bytes, kept verbatim."""

    __tablename__ = "duplicate"

    id: int | None = Field(default=None, primary_key=True)
    message_id: str = Field(index=True)
    list_name: str
    sha256: str = Field(unique=True)
    raw: bytes = _blob()
    raw_codec: str = _codec()
    origin: str
    received: datetime | None = _aware(nullable=True)


class QuarantineRow(SQLModel, table=True):
    """Mail the parser rejected: kept verbatim with the reason, retried by reparse."""

    __tablename__ = "quarantine"

    id: int | None = Field(default=None, primary_key=True)
    sha256: str = Field(unique=True)
    message_id: str | None = Field(default=None, index=True)  # best effort, from the raw header
    list_name: str
    reason: str = _text()
    raw: bytes = _blob()
    raw_codec: str = _codec()
    origin: str
    received: datetime | None = _aware(nullable=True)


class CursorRow(SQLModel, table=True):
    """Per Source.key: where the next ingest resumes. Written with its batch."""

    __tablename__ = "source_cursor"

    key: str = Field(primary_key=True)
    cursor: str | None = _text(nullable=True)


class MetaRow(SQLModel, table=True):
    __tablename__ = "meta"

    key: str = Field(primary_key=True)
    value: str = _text()


class SeriesRow(SQLModel, table=True):
    __tablename__ = "series"

    series_id: str = Field(primary_key=True)
    title: str = _text()
    version: int
    total: int
    author_name: str
    author_email: str = Field(index=True)
    date: datetime = _aware(index=True)
    cover_message_id: str | None = None
    missing: str  # JSON list of indexes
    revisions: str = _text()  # JSON list of root ids, oldest first
    superseded_by: str | None = Field(default=None, index=True)
    revision_link: str | None = None
    change_id: str | None = None
    is_rfc: bool
    is_resend: bool
    is_autosel: bool
    tags: str  # JSON list
    state: str = Field(index=True)
    patch_count: int
    digest: str  # of everything stored for this series; unchanged series are not rewritten


class SeriesPatchRow(SQLModel, table=True):
    __tablename__ = "series_patch"

    id: int | None = Field(default=None, primary_key=True)
    series_id: str = Field(index=True)
    idx: int
    message_id: str = Field(index=True)
    subject: str = _text()
    files: str = _text()  # JSON list
    patch_id: str | None = None


class SeriesTrailerRow(SQLModel, table=True):
    """patch_idx 0 holds the cover letter's own trailers."""

    __tablename__ = "series_trailer"

    id: int | None = Field(default=None, primary_key=True)
    series_id: str = Field(index=True)
    patch_idx: int
    pos: int
    kind: str
    name: str
    email: str
    value: str = _text()
    qualifier: str | None = None
    source: str | None = None


class SeriesMemberRow(SQLModel, table=True):
    """Every message of a series' thread(s) -> its series."""

    __tablename__ = "series_member"

    message_id: str = Field(primary_key=True)
    series_id: str = Field(index=True)
