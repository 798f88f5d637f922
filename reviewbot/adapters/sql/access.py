"""Opening a database the way the operator left it: writable, or read-only.

A read-only SQLite file (mode 0444, a read-only directory or file system, a
snapshot) is opened with SQLite's `mode=ro` (and `immutable=1` when no writer can
exist: the directory is read-only and there is no WAL to replay), so queries still
answer and any write fails at once as "attempt to write a readonly database". A
PostgreSQL server or role whose transactions are read-only (a hot standby,
`default_transaction_read_only`) is reported the same way.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any
from urllib.parse import quote

import sqlalchemy as sa
from sqlalchemy.engine import Engine


def normalise_url(url: str) -> str:
    """`postgresql://` and `postgres://` mean psycopg 3 (the driver reviewbot ships
    with), whichever default the installed SQLAlchemy has."""
    for prefix in ("postgresql://", "postgres://"):
        if url.startswith(prefix):
            return "postgresql+psycopg://" + url[len(prefix):]
    return url


def sqlite_path(url: str) -> Path | None:
    """The file of an SQLite URL (None: not SQLite, or in memory)."""
    parsed = sa.make_url(url)
    if parsed.get_backend_name() != "sqlite" or parsed.database in (None, "", ":memory:"):
        return None
    return Path(parsed.database)


def where(url: str) -> str:
    """How messages name a database: the SQLite file, else the URL without password."""
    path = sqlite_path(url)
    return str(path) if path is not None else sa.make_url(url).render_as_string(
        hide_password=True)


def _writable(path: Path) -> bool:
    return os.access(path, os.W_OK)


def sqlite_read_only(path: Path) -> str | None:
    """Why an existing SQLite file can only be read, or None when it can be written.

    SQLite writes the file and, in WAL mode, the -wal/-shm files beside it."""
    if not _writable(path):
        return "the file is not writable"
    wal, shm = path.with_name(path.name + "-wal"), path.with_name(path.name + "-shm")
    if not _writable(path.parent) and not (wal.exists() and shm.exists()
                                           and _writable(wal) and _writable(shm)):
        return "its directory is not writable"
    return None


def sqlite_read_only_engine(path: Path) -> Engine:
    """An engine that only reads `path` (SQLite URI mode=ro; immutable when no one can
    be writing it: the directory is read-only and no WAL is left to replay)."""
    wal = path.with_name(path.name + "-wal")
    immutable = not _writable(path.parent) and not (wal.exists() and wal.stat().st_size)
    uri = f"file:{quote(str(path.resolve()))}?mode=ro" + ("&immutable=1" if immutable else "")
    engine = sa.create_engine(f"sqlite:///{uri}&uri=true")
    sa.event.listen(engine, "connect", _read_only_pragmas)
    return engine


def _read_only_pragmas(dbapi_conn: Any, _record: Any) -> None:
    cur = dbapi_conn.cursor()
    for pragma in ("query_only=ON", "foreign_keys=ON", "busy_timeout=10000",
                   "temp_store=MEMORY"):
        cur.execute(f"PRAGMA {pragma}")
    cur.close()


def server_read_only(engine: Engine) -> str | None:
    """Why a PostgreSQL connection can only read (standby, read-only default), or None."""
    if engine.dialect.name != "postgresql":
        return None
    with engine.connect() as conn:
        if conn.execute(sa.text("SELECT pg_is_in_recovery()")).scalar():
            return "the server is a standby"
        if conn.execute(sa.text("SHOW transaction_read_only")).scalar() == "on":
            return "its transactions are read-only"
    return None


def is_read_only_error(exc: BaseException) -> bool:
    """A write refused because the database is read-only (either backend)."""
    text = str(getattr(exc, "orig", None) or exc).lower()
    return ("readonly database" in text or "read-only transaction" in text
            or "attempt to write a read-only" in text)
