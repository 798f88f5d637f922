"""pytest plugin: the `store` fixture over SQLite and PostgreSQL, plus corpus helpers.

PostgreSQL runs when REVIEWBOT_TEST_PG_URL is set (CI sets it). Each session
works in its own schema, so the URL may point at any scratch database. When
the URL is unset, the postgres cases are deselected and the report header
and summary say so: never a silent skip.
"""

from __future__ import annotations

import os
import re
import shutil
import uuid
from collections.abc import Iterator
from datetime import UTC, datetime
from email.parser import BytesHeaderParser
from email.policy import compat32
from email.utils import parsedate_to_datetime
from pathlib import Path

import pytest
import sqlalchemy as sa
from sqlalchemy.engine import Engine

from reviewbot.adapters.sql import migrate as sqlmigrate
from reviewbot.adapters.sql.series.store import SqlSeriesStore
from reviewbot.adapters.sql.store import SqlStore, make_engine
from reviewbot.cli import main
from reviewbot.core.mail.parse import MalformedMessage
from reviewbot.core.model import Message, MessageId, MessageKind, Subject
from reviewbot.ports import Batch, Deletion, RawMail
from tests.corpus import read_corpus
from tests.epochs import make_epoch

PG_URL = os.environ.get("REVIEWBOT_TEST_PG_URL", "")
BACKENDS = ["sqlite", "postgres"]


def pytest_report_header(config: pytest.Config) -> str:
    if PG_URL:
        return f"reviewbot store backends: sqlite, postgres ({sa.make_url(PG_URL)})"
    return "reviewbot store backends: sqlite only; postgres DESELECTED (no REVIEWBOT_TEST_PG_URL)"


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    if PG_URL:
        return
    keep, drop = [], []
    for item in items:
        cs = getattr(item, "callspec", None)
        pg = item.get_closest_marker("postgres") is not None or (cs is not None and "postgres" in (
            cs.params.get("store"), cs.params.get("db_url"), cs.params.get("empty_engine")))
        (drop if pg else keep).append(item)
    if drop:
        config.hook.pytest_deselected(items=drop)
        items[:] = keep
        config._reviewbot_pg_deselected = len(drop)  # type: ignore[attr-defined]


def pytest_terminal_summary(terminalreporter: object, config: pytest.Config) -> None:
    n = getattr(config, "_reviewbot_pg_deselected", 0)
    if n:
        terminalreporter.write_line(  # type: ignore[attr-defined]
            f"reviewbot: {n} postgres store tests DESELECTED: REVIEWBOT_TEST_PG_URL is unset")


@pytest.fixture(scope="session")
def sqlite_template(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A migrated empty SQLite file, copied per test (migrating each time is slow)."""
    path = tmp_path_factory.mktemp("sqlite-template") / "template.db"
    engine = make_engine(f"sqlite:///{path}")
    sqlmigrate.upgrade(engine)
    with engine.connect() as conn:
        conn.exec_driver_sql("PRAGMA wal_checkpoint(TRUNCATE)")
    engine.dispose()
    return path


@pytest.fixture(scope="session")
def pg_engine() -> Iterator[Engine]:
    """A migrated private schema in the test PostgreSQL database."""
    schema = f"rbtest_{uuid.uuid4().hex[:10]}"
    admin = sa.create_engine(PG_URL)
    with admin.begin() as conn:
        conn.exec_driver_sql(f"CREATE SCHEMA {schema}")
    # The schema rides in the URL, so the CLI (given only a URL) lands in it too.
    url = sa.make_url(PG_URL).update_query_dict({"options": f"-csearch_path={schema}"})
    engine = sa.create_engine(url)
    sqlmigrate.upgrade(engine)
    try:
        yield engine
    finally:
        engine.dispose()
        with admin.begin() as conn:
            conn.exec_driver_sql(f"DROP SCHEMA {schema} CASCADE")
        admin.dispose()


def _truncate(engine: Engine) -> None:
    with engine.begin() as conn:
        tables = [r[0] for r in conn.exec_driver_sql(
            "SELECT tablename FROM pg_tables WHERE schemaname = current_schema() "
            "AND tablename <> 'alembic_version'")]
        if tables:
            conn.exec_driver_sql(f"TRUNCATE {', '.join(tables)} RESTART IDENTITY")


@pytest.fixture
def db_url(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    """A migrated, empty database URL (SQLite file, or a fresh PostgreSQL schema state)."""
    if getattr(request, "param", "sqlite") == "postgres":
        engine: Engine = request.getfixturevalue("pg_engine")
        _truncate(engine)
        return engine.url.render_as_string(hide_password=False)
    template: Path = request.getfixturevalue("sqlite_template")
    path = tmp_path / "reviewbot.db"
    shutil.copy(template, path)
    return f"sqlite:///{path}"


@pytest.fixture(params=BACKENDS)
def store(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[SqlStore]:
    """An empty, migrated SqlStore on each backend."""
    if request.param == "postgres":
        engine: Engine = request.getfixturevalue("pg_engine")
        _truncate(engine)
        yield SqlStore(engine)
        return
    template: Path = request.getfixturevalue("sqlite_template")
    path = tmp_path / "reviewbot.db"
    shutil.copy(template, path)
    engine = make_engine(f"sqlite:///{path}")
    yield SqlStore(engine)
    engine.dispose()


# -- corpus helpers -----------------------------------------------------------------




class ListSource:
    """A Source over a list of items, `size` per batch; cursor = items consumed.

    `fail_after` raises after that many batches were yielded (an interrupted ingest).
    """

    def __init__(self, items: list[RawMail | Deletion], size: int, key: str = "test:list",
                 fail_after: int | None = None) -> None:
        self.items, self.size, self.key, self.fail_after = items, size, key, fail_after

    def batches(self, cursor: str | None) -> Iterator[Batch]:
        start = int(cursor or 0)
        for n, i in enumerate(range(start, len(self.items), self.size)):
            if self.fail_after is not None and n == self.fail_after:
                raise ConnectionError("archive went away")
            part = self.items[i:i + self.size]
            yield Batch(list(part), str(i + len(part)))


_HEADERS = BytesHeaderParser(policy=compat32)
_COUNTER = re.compile(r"\[[^]]*?(\d+)/(\d+)[^]]*\]")


def header_parse(raw: bytes, *, fallback_date: datetime | None = None) -> Message:
    """A stand-in parser (headers only) so store/service tests do not test the parser."""
    h = _HEADERS.parsebytes(raw)
    mid = (h.get("Message-ID") or "").strip().strip("<>").strip()
    if not mid:
        raise MalformedMessage("no Message-ID header")
    try:
        date = parsedate_to_datetime(str(h.get("Date"))).astimezone(UTC)
    except (TypeError, ValueError):
        if fallback_date is None:
            raise MalformedMessage("no usable Date header") from None
        date = fallback_date
    subject = " ".join(str(h.get("Subject", "")).split())
    irt = (h.get("In-Reply-To") or "").strip().strip("<>") or None
    is_reply = subject.lower().startswith("re:")
    counter = _COUNTER.search(subject)
    is_patch = "[patch" in subject.lower() and not is_reply
    kind = (MessageKind.REPLY if is_reply else MessageKind.PATCH if b"\ndiff --git " in raw
            else MessageKind.COVER if is_patch else MessageKind.OTHER)
    refs = tuple(MessageId(r.strip("<>")) for r in str(h.get("References", "")).split())
    return Message(
        message_id=MessageId(mid),
        subject=Subject(raw=subject, title=subject.split("]", 1)[-1].strip(), is_reply=is_reply,
                        is_patch=is_patch, counter=int(counter[1]) if counter else None,
                        total=int(counter[2]) if counter else None),
        from_name="", from_email=str(h.get("From", "")).lower(), date=date, kind=kind,
        in_reply_to=MessageId(irt) if irt else None, references=refs)


@pytest.fixture(scope="session")
def corpus_mails(corpus_git: Path) -> list[RawMail]:
    """All 8,487 corpus messages in arrival order (read once per session)."""
    return read_corpus(corpus_git)


@pytest.fixture
def fresh_sqlite(sqlite_template: Path, tmp_path: Path) -> Iterator[SqlStore]:
    """A second, independent SQLite store (a reference run to compare against)."""
    path = tmp_path / "reference.db"
    shutil.copy(sqlite_template, path)
    engine = make_engine(f"sqlite:///{path}")
    yield SqlStore(engine)
    engine.dispose()


def snapshot(store: SqlStore) -> dict[str, object]:
    """Everything ingest and refreshes derive, independent of row ids, component ids and
    insert order."""
    with store.engine.connect() as conn:
        def rows(sql: str) -> list[tuple[object, ...]]:
            return sorted(tuple(r) for r in conn.exec_driver_sql(sql))

        return {
            "messages": rows("SELECT message_id, sha256, deleted, duplicates, parsed FROM message"),
            "duplicates": rows("SELECT message_id, sha256 FROM duplicate"),
            "quarantine": rows("SELECT sha256, reason FROM quarantine"),
            "series": sorted(repr(r) for r in SqlSeriesStore(store.engine).records()),
        }


@pytest.fixture(params=BACKENDS)
def empty_engine(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Engine]:
    """An engine on a database with no schema at all (for migration tests)."""
    if request.param == "sqlite":
        engine = make_engine(f"sqlite:///{tmp_path}/empty.db")
        yield engine
        engine.dispose()
        return
    schema = f"rbempty_{uuid.uuid4().hex[:10]}"
    admin = sa.create_engine(PG_URL)
    with admin.begin() as conn:
        conn.exec_driver_sql(f"CREATE SCHEMA {schema}")
    engine = sa.create_engine(
        sa.make_url(PG_URL).update_query_dict({"options": f"-csearch_path={schema}"}))
    try:
        yield engine
    finally:
        engine.dispose()
        with admin.begin() as conn:
            conn.exec_driver_sql(f"DROP SCHEMA {schema} CASCADE")
        admin.dispose()


@pytest.fixture(scope="module")
def small_epoch(tmp_path_factory: pytest.TempPathFactory, corpus_mails: list[RawMail]) -> Path:
    """A real-format epoch holding the corpus's first 300 messages."""
    return make_epoch(tmp_path_factory.mktemp("epoch") / "0.git", corpus_mails[:300])


def run(capsys: pytest.CaptureFixture[str], *argv: str) -> tuple[int, str, str]:
    """The CLI in-process: exit code, stdout, stderr."""
    code = main(list(argv))
    out, err = capsys.readouterr()
    return code, out, err
