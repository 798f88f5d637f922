"""Per-source ingest locks, so two daemons never ingest the same source at once.

SQLite installations share one machine: an flock(2) on a file beside the
database. PostgreSQL installations may span machines: a session-level
advisory lock held on a dedicated connection. Both are released by the
kernel or the server when the process dies, so a crash never leaves a
stale lock behind.

Advisory locks belong to the whole PostgreSQL database, so their keys name the
schema too: installations (or test runs) in other schemas of one database never
wait for each other.
"""

from __future__ import annotations

import fcntl
import hashlib
import os
import time
from collections.abc import Callable
from pathlib import Path
from typing import IO

import sqlalchemy as sa
from sqlalchemy.engine import Connection, Engine

from reviewbot.ports import SourceLocks


def _digest(key: str) -> bytes:
    return hashlib.sha256(key.encode()).digest()


class FileLocks:
    def __init__(self, directory: Path) -> None:
        self._dir = directory
        self._held: dict[str, IO[bytes]] = {}

    def path_for(self, key: str) -> Path:
        return self._dir / f".reviewbot-{_digest(key).hex()[:16]}.lock"

    def try_acquire(self, key: str) -> bool:
        if key in self._held:
            return True
        self._dir.mkdir(parents=True, exist_ok=True)
        fh = open(self.path_for(key), "ab")  # noqa: SIM115 - held open while locked
        try:
            fcntl.flock(fh.fileno(), fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            fh.close()
            return False
        fh.truncate(0)
        fh.write(f"{os.getpid()} {key}\n".encode())
        fh.flush()
        self._held[key] = fh
        return True

    def release(self, key: str) -> None:
        fh = self._held.pop(key, None)
        if fh is not None:
            fcntl.flock(fh.fileno(), fcntl.LOCK_UN)
            fh.close()

    def holder(self, key: str) -> str | None:
        """Who holds `key` as the holder wrote it ("pid <n>"), when it can be read."""
        try:
            text = self.path_for(key).read_text(errors="replace").split()
        except OSError:
            return None
        return f"pid {text[0]}" if text and text[0].isdigit() else None


def pg_lock_key(param: str) -> str:
    """SQL for the 64-bit advisory lock key of the name in bind parameter `param`, in
    this connection's schema."""
    return f"hashtextextended('reviewbot ' || current_schema() || ' ' || :{param}, 0)"


class PgAdvisoryLocks:
    def __init__(self, engine: Engine) -> None:
        self._engine = engine
        self._held: dict[str, Connection] = {}

    def try_acquire(self, key: str) -> bool:
        if key in self._held:
            return True
        conn = self._engine.connect()
        got = conn.execute(sa.text(f"SELECT pg_try_advisory_lock({pg_lock_key('k')})"),
                           {"k": f"source {key}"})
        if not got.scalar():
            conn.close()
            return False
        conn.commit()  # end the implicit transaction; the session lock stays
        self._held[key] = conn
        return True

    def release(self, key: str) -> None:
        conn = self._held.pop(key, None)
        if conn is not None:
            conn.execute(sa.text(f"SELECT pg_advisory_unlock({pg_lock_key('k')})"),
                         {"k": f"source {key}"})
            conn.close()


def wait_acquire(locks: SourceLocks, key: str, *, interval: float = 0.25,
                 timeout: float | None = None, sleep: Callable[[float], None] = time.sleep
                 ) -> bool:
    """Take `key`, waiting for its holder to finish; False if `timeout` passed first.

    Polls rather than blocking in the kernel or the server, so Ctrl-C and SIGTERM
    interrupt the wait at once on both backends."""
    deadline = None if timeout is None else time.monotonic() + timeout
    while not locks.try_acquire(key):
        if deadline is not None and time.monotonic() >= deadline:
            return False
        sleep(interval)
    return True


def holder(locks: SourceLocks, key: str) -> str | None:
    """Who holds `key`, when the backend can tell (lock files name their pid)."""
    return locks.holder(key) if isinstance(locks, FileLocks) else None


def for_engine(engine: Engine) -> SourceLocks:
    """Advisory locks on PostgreSQL; lock files beside the SQLite database otherwise."""
    if engine.dialect.name == "postgresql":
        return PgAdvisoryLocks(engine)
    db = engine.url.database
    directory = Path(db).resolve().parent if db and db != ":memory:" else Path.cwd()
    return FileLocks(directory)
