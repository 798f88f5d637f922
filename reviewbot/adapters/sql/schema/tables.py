"""SQLModel tables. Mapping to core types lives in sqlstore.py, not here.

Raw mail is kept losslessly: by reference into a public-inbox epoch (the blob
id), or its bytes compressed, with the sha256 of the original bytes. The parsed
Message is cached as compressed JSON so reassembly never has to reparse. The
series tables (seriestables.py) are derived data, rewritten by reassembly.
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


def _blob(nullable: bool = False) -> Any:
    return Field(default=None if nullable else ..., sa_column=sa.Column(
        sa.LargeBinary(), nullable=nullable))


def _codec() -> Any:
    # Rows from before migration 0002 were all zlib; new rows always name their codec.
    return Field(default="identity", sa_column=sa.Column(
        sa.String(), nullable=False, server_default="zlib"))


def _text(nullable: bool = False) -> Any:
    return Field(default=None, sa_column=sa.Column(sa.Text(), nullable=nullable))


class MessageRow(SQLModel, table=True):
    """One stored mail: where its bytes are, and its parsed form.

    `raw` is None when the bytes are kept by reference: `origin` names a blob of a
    public-inbox epoch ("epoch:<list>/<epoch>#<oid>", see `raw_location`), which
    `git cat-file` reads back byte for byte. Other sources' bytes are stored
    compressed. `comp` is the thread component (core.series.closure) the mail
    belongs to; `series` the row id of its series (None: in none).
    """

    __tablename__ = "message"
    __table_args__ = (
        sa.Index("ix_message_patch_id", "patch_id", sqlite_where=sa.text("patch_id IS NOT NULL"),
                 postgresql_where=sa.text("patch_id IS NOT NULL")),
        sa.Index("ix_message_subject_key", "subject_key",
                 sqlite_where=sa.text("subject_key IS NOT NULL"),
                 postgresql_where=sa.text("subject_key IS NOT NULL")),
    )

    id: int | None = Field(default=None, primary_key=True)
    message_id: str = Field(unique=True)
    list_name: str
    sha256: str = Field(unique=True)  # of the uncompressed raw bytes
    raw: bytes | None = _blob(nullable=True)  # the bytes as raw_codec says; None: by reference
    raw_codec: str = _codec()  # "identity" | "zlib" (codec.pack_raw)
    origin: str
    received: datetime | None = _aware(nullable=True)
    date: datetime = _aware(index=True)
    parsed: bytes = _blob()  # codec.encode_message: compressed JSON of core.model.Message
    codec: int
    deleted: bool = Field(default=False)
    duplicates: int = Field(default=0)  # extra copies that arrived (see `duplicate`)
    comp: int | None = Field(default=None, index=True)
    series: int | None = Field(default=None, index=True)
    # applied detection's lookups (patch postings only): `git patch-id --stable`, and a
    # 63-bit hash of the normalised subject (core.applied.match.normalise_subject)
    patch_id: str | None = None
    subject_key: int | None = Field(default=None, sa_column=sa.Column(sa.BigInteger(),
                                                                      nullable=True))


class DuplicateRow(SQLModel, table=True):
    """Another copy of a stored Message-ID with different bytes, kept (or referenced)."""

    __tablename__ = "duplicate"

    id: int | None = Field(default=None, primary_key=True)
    message_id: str = Field(index=True)
    list_name: str
    sha256: str = Field(unique=True)
    raw: bytes | None = _blob(nullable=True)
    raw_codec: str = _codec()
    origin: str
    received: datetime | None = _aware(nullable=True)


class QuarantineRow(SQLModel, table=True):
    """Mail the parser rejected: kept with the reason, retried by reparse."""

    __tablename__ = "quarantine"

    id: int | None = Field(default=None, primary_key=True)
    sha256: str = Field(unique=True)
    message_id: str | None = Field(default=None, index=True)  # best effort, from the raw header
    list_name: str
    reason: str = _text()
    raw: bytes | None = _blob(nullable=True)
    raw_codec: str = _codec()
    origin: str
    received: datetime | None = _aware(nullable=True)


class RawLocationRow(SQLModel, table=True):
    """Where an origin prefix ("epoch:<list>/<epoch>") lives on this machine now.

    Written by every ingest of the source, so a mirror re-cloned elsewhere is
    found again; the blob ids in `origin` do not change with the clone.
    """

    __tablename__ = "raw_location"

    key: str = Field(primary_key=True)
    path: str = _text()


class CursorRow(SQLModel, table=True):
    """Per Source.key: where the next ingest resumes. Written with its batch."""

    __tablename__ = "source_cursor"

    key: str = Field(primary_key=True)
    cursor: str | None = _text(nullable=True)


class MetaRow(SQLModel, table=True):
    __tablename__ = "meta"

    key: str = Field(primary_key=True)
    value: str = _text()
