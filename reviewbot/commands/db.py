"""`reviewbot db upgrade`, and how every command opens the database.

Every command brings the schema to the newest migration before use (a fresh
SQLite file is created and migrated on first use), so `db upgrade` is only
needed to migrate ahead of time, e.g. in a systemd ExecStartPre. The default
database (in the state directory, see reviewbot/locations.py) is created only by
commands that write: a query on a machine without one says so instead.

A read-only database (a 0444 file, a read-only directory or file system, a
PostgreSQL standby) still answers every query, from its stored state (series
are not brought up to date, which would write); commands that write refuse it
with one line saying "read-only". The commands that write a source (ingest,
trees poll, reparse) hold the daemon's per-source locks (`holding`).
"""

from __future__ import annotations

import argparse
import contextlib
import logging
import os
import sys
import traceback
from collections.abc import Iterator, Sequence
from pathlib import Path
from typing import TYPE_CHECKING

from sqlalchemy.engine import Engine
from sqlalchemy.exc import ArgumentError, SQLAlchemyError

from reviewbot import config
from reviewbot.adapters.sql import access
from reviewbot.adapters.sql import migrate as sqlmigrate
from reviewbot.adapters.sql.store import SqlStore, make_engine
from reviewbot.core.maintainers.sections import MaintainersError
from reviewbot.core.model import SeriesId
from reviewbot.service.backlog.context import BacklogContext
from reviewbot.wiring import App, ContextError, build_app

if TYPE_CHECKING:
    from reviewbot.service.backlog.refresh import RefreshReport

log = logging.getLogger(__name__)

EX_TEMPFAIL = 75  # sysexits.h: try again later (a lock is held and --no-wait was given)


class CommandError(RuntimeError):
    """A clear message for the user; the command exits with `code` (default 1)."""

    def __init__(self, message: str, code: int = 1) -> None:
        super().__init__(message)
        self.code = code


def settings(args: argparse.Namespace) -> config.Settings:
    try:
        return config.load(getattr(args, "config", None), os.environ)
    except config.ConfigError as exc:
        raise CommandError(str(exc)) from exc


def command_name(args: argparse.Namespace) -> str:
    """`ingest`, `trees poll`, ...: how messages name the command that was run."""
    words = [getattr(args, "command", None)]
    words += [v for k, v in vars(args).items() if k.endswith("_command") and k != "command"]
    return " ".join(str(w) for w in words if w) or "this command"


_OPENED: list[str] = []  # databases this process opened, for error messages


def last_opened() -> str | None:
    """The database this process opened last (how error messages name it)."""
    return _OPENED[-1] if _OPENED else None


def open_engine(args: argparse.Namespace, conf: config.Settings, *, write: bool,
                upgrade: bool = True) -> tuple[Engine, str, str | None]:
    """The engine, the database's name for messages and why it is read-only (None:
    writable). A writable database is migrated (with `upgrade`); a read-only one must
    be current already. A command that writes (`write`) refuses a read-only database."""
    given, origin = conf.database_origin(getattr(args, "db", None), os.environ)
    url = access.normalise_url(given)
    try:
        where = access.where(given)
        path = access.sqlite_path(url)
    except (ArgumentError, ValueError) as exc:
        raise CommandError(f"{url} (from {origin}) is not a database URL: {exc}; give e.g. "
                           "sqlite:////path/to/reviewbot.db or postgresql://host/db") from exc
    _OPENED.append(where)
    if path is not None and not path.exists():
        _prepare_new_sqlite(path, origin, write)
    try:
        read_only = access.sqlite_read_only(path) if path is not None and path.exists() else None
        engine = access.sqlite_read_only_engine(path) if read_only and path else make_engine(url)
        read_only = read_only or access.server_read_only(engine)
        if read_only and write:
            raise CommandError(f"the database {where} is read-only ({read_only}): "
                               f"`{command_name(args)}` writes to it; run it where the "
                               "database is writable, or give another --db")
        if read_only and upgrade:
            _check_current(engine, where)
        elif upgrade:
            before, after = sqlmigrate.upgrade(engine)
            if before != after:
                log.info("database %s migrated from %s to %s", where, before, after)
    except ModuleNotFoundError as exc:
        raise CommandError(f"{where}: the database driver is missing ({exc}); "
                           "pip install 'reviewbot[postgres]' for PostgreSQL") from exc
    except (SQLAlchemyError, sqlmigrate.MigrationsNotFound, ValueError) as exc:
        raise CommandError(f"cannot open database {where}: {first_line(exc)}") from exc
    return engine, where, read_only


def _prepare_new_sqlite(path: Path, origin: str, write: bool) -> None:
    """A database that does not exist yet: the default one is made by writing commands
    only (a query must not leave an empty database behind), in a directory made for it."""
    if origin == "default" and not write:
        raise CommandError(f"no database yet at {path}: `reviewbot ingest` creates it (see "
                           "`reviewbot ingest --help`), or give --db URL")
    if not path.parent.is_dir():
        if origin != "default":
            raise CommandError(f"cannot create the database {path} (from {origin}): "
                               f"no directory {path.parent}")
        try:
            path.parent.mkdir(parents=True, mode=0o700, exist_ok=True)
        except OSError as exc:
            raise CommandError(f"cannot create {path.parent} for the database: "
                               f"{exc.strerror}; give --db URL") from exc


def _check_current(engine: Engine, where: str) -> None:
    current, head = sqlmigrate.current_revision(engine), sqlmigrate.head_revision()
    if current != head:
        raise CommandError(f"the database {where} is read-only and its schema "
                           f"({current or 'empty'}) is not this reviewbot's ({head}): run "
                           "`reviewbot db upgrade` where it is writable")


def first_line(exc: BaseException) -> str:
    """An exception's message without SQLAlchemy's SQL dump and background links."""
    text = str(getattr(exc, "orig", None) or exc).strip()
    return text.splitlines()[0] if text else type(exc).__name__


def open_store(args: argparse.Namespace, *, upgrade: bool = True,
               write: bool = False) -> SqlStore:
    """The ingest store alone (for `db upgrade`, `db current` and the outbox)."""
    conf = settings(args)
    engine, _, _ = open_engine(args, conf, write=write, upgrade=upgrade)
    return SqlStore(engine, raw_codec=conf.raw_codec)


def open_app(args: argparse.Namespace, *, catch_up: bool = True,
             ctx: BacklogContext | None = None, write: bool = False) -> App:
    """The database (migrated), its adapters and the backlog context, as the daemon builds
    them. With `catch_up`, stored series are brought up to date first (after an upgrade,
    a MAINTAINERS or policy change, or a daemon that was not running); a read-only
    database answers from its stored state instead. `write`: the command writes, so a
    read-only database is refused at once."""
    conf = settings(args)
    engine, where, read_only = open_engine(args, conf, write=write)
    try:
        app = build_app(conf, where, os.environ, ctx, engine=engine, read_only=read_only)
    except ContextError as exc:
        raise CommandError(str(exc)) from exc
    if read_only:
        log.info("database %s is read-only (%s): answering from its stored state",
                 where, read_only)
    elif catch_up:
        bring_up_to_date(app)
    return app


@contextlib.contextmanager
def holding(app: App, keys: Sequence[str], *, wait: bool) -> Iterator[None]:
    """Hold the per-source locks of `keys` (the daemon's), in order. A held lock is
    waited for, or with `wait` False refused with exit 75 (EX_TEMPFAIL)."""
    from reviewbot.adapters.sql import locks as sqllocks  # asyncio: only writers need it

    locks = sqllocks.for_engine(app.engine)
    held: list[str] = []
    try:
        for key in sorted(set(keys)):
            if not locks.try_acquire(key):
                who = sqllocks.holder(locks, key)
                busy = (f"{key} is being written by another reviewbot"
                        + (f" ({who})" if who else "") + ", a daemon or another command")
                if not wait:
                    raise CommandError(f"{busy}; try again later, or leave out --no-wait "
                                       "to wait for it", EX_TEMPFAIL)
                print(f"reviewbot: {busy}; waiting for it to finish", file=sys.stderr,
                      flush=True)
                sqllocks.wait_acquire(locks, key)
            held.append(key)
        yield
    finally:
        for key in reversed(held):
            locks.release(key)


def add_wait_option(p: argparse.ArgumentParser) -> None:
    p.add_argument("--no-wait", dest="wait", action="store_false",
                   help="if another reviewbot (the daemon) is writing the same source, exit "
                        "75 at once instead of waiting for it")


def bring_up_to_date(app: App) -> RefreshReport | None:
    """Re-derive stored mail if an upgrade asked for it, then refresh dirty series."""
    try:
        if app.reparse_needed():
            from reviewbot.service.backlog.ingest import reparse  # parsing is not for queries

            log.warning("re-deriving every stored mail after a schema upgrade (once)")
            _, report = reparse(app.store, app.raw_reader(), refresher=app.refresh)
            app.store.set_meta("reparse_needed", None)
        elif app.reader.up_to_date(app.ctx.stamp):
            report = None
        else:
            report = app.refresh()
    except MaintainersError as exc:
        raise CommandError(f"MAINTAINERS: {exc}") from exc
    if report is not None and report.components:
        log.info("%s", report.summary())
    return report


def find_series(app: App, text: str, *, noun: str = "message") -> SeriesId:
    """The stored series holding the message `text` names (with or without <>).

    Raises a CommandError that tells an unknown id from a stored mail outside any series.
    """
    mid = text.strip().removeprefix("<").removesuffix(">")
    sid = app.reader.find_series(mid)
    if sid is not None:
        return sid
    raise CommandError(unknown_series(mid, app.reader.has_message(mid), noun))


def unknown_series(mid: str, stored: bool, noun: str = "message") -> str:
    if stored:
        return (f"<{mid}> is stored but belongs to no series "
                "(not a patch, cover letter or reply to one)")
    hint = " (give any Message-ID of the series)" if noun == "series" else ""
    return f"unknown {noun} <{mid}>{hint}"


def run_guarded(func: object) -> object:
    """Wrap a command so CommandError becomes `reviewbot: error: ...` and exit 1."""
    def wrapper(args: argparse.Namespace) -> int:
        try:
            return int(func(args))  # type: ignore[operator]
        except CommandError as exc:
            if getattr(args, "verbose", 0):  # -v: the cause, for a bug report
                traceback.print_exc(file=sys.stderr)
            print(f"reviewbot: error: {exc}", file=sys.stderr)
            return exc.code
        except BrokenPipeError:
            # `reviewbot queue | head`: the reader left; not an error worth a traceback.
            os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
            return 0
    return wrapper


def _upgrade(args: argparse.Namespace) -> int:
    store = open_store(args, upgrade=False, write=True)
    try:
        before, after = sqlmigrate.upgrade(store.engine)
    except (SQLAlchemyError, sqlmigrate.MigrationsNotFound) as exc:
        raise CommandError(f"migration failed: {first_line(exc)}") from exc
    url = store.engine.url.render_as_string(hide_password=True)
    if before == after:
        print(f"{url}: schema is current ({after})")
    else:
        print(f"{url}: upgraded {before or 'empty'} -> {after}")
    return 0


def _current(args: argparse.Namespace) -> int:
    store = open_store(args, upgrade=False)
    print(f"current {sqlmigrate.current_revision(store.engine) or 'empty'}, "
          f"head {sqlmigrate.head_revision()}")
    return 0


def register(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    p = sub.add_parser("db", help="the database schema: upgrade it ahead of time, show its "
                       "revision")
    dbsub = p.add_subparsers(dest="db_command", metavar="ACTION", required=True)
    up = dbsub.add_parser("upgrade", help="run migrations up to the newest schema")
    up.set_defaults(func=run_guarded(_upgrade))
    cur = dbsub.add_parser("current", help="show the schema revision")
    cur.set_defaults(func=run_guarded(_current))
