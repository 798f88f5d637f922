"""`reviewbot db upgrade`, and how every command opens the database.

Every command brings the schema to the newest migration before use (a fresh
SQLite file is created and migrated on first use), so `db upgrade` is only
needed to migrate ahead of time, e.g. in a systemd ExecStartPre.
"""

from __future__ import annotations

import argparse
import logging
import os
import sys

from sqlalchemy.exc import SQLAlchemyError

from reviewbot import config
from reviewbot.adapters.sql import migrate as sqlmigrate
from reviewbot.adapters.sql.store import SqlStore, make_engine
from reviewbot.core.maintainers.sections import MaintainersError
from reviewbot.core.model import SeriesId
from reviewbot.service.context import BacklogContext
from reviewbot.service.refresh import RefreshReport
from reviewbot.wiring import App, ContextError, build_app

log = logging.getLogger(__name__)


class CommandError(RuntimeError):
    """A clear message for the user; the command exits 1."""


def settings(args: argparse.Namespace) -> config.Settings:
    try:
        return config.load(getattr(args, "config", None), os.environ)
    except config.ConfigError as exc:
        raise CommandError(str(exc)) from exc


def open_store(args: argparse.Namespace, *, upgrade: bool = True) -> SqlStore:
    """The ingest store alone (for `db upgrade` and `db current`)."""
    conf = settings(args)
    url = conf.database(getattr(args, "db", None), os.environ)
    try:
        engine = make_engine(url)
        if upgrade:
            before, after = sqlmigrate.upgrade(engine)
            if before != after:
                log.info("database %s migrated from %s to %s", engine.url, before, after)
    except (SQLAlchemyError, sqlmigrate.MigrationsNotFound, ValueError) as exc:
        raise CommandError(f"cannot open database {url}: {exc}") from exc
    return SqlStore(engine, raw_codec=conf.raw_codec)


def open_app(args: argparse.Namespace, *, catch_up: bool = True,
             ctx: BacklogContext | None = None) -> App:
    """The database (migrated), its adapters and the backlog context, as the daemon builds
    them. With `catch_up`, stored series are brought up to date first (after an upgrade,
    a MAINTAINERS or policy change, or a daemon that was not running)."""
    conf = settings(args)
    url = conf.database(getattr(args, "db", None), os.environ)
    try:
        app = build_app(conf, url, os.environ, ctx)
    except ContextError as exc:
        raise CommandError(str(exc)) from exc
    except (SQLAlchemyError, sqlmigrate.MigrationsNotFound, ValueError) as exc:
        raise CommandError(f"cannot open database {url}: {exc}") from exc
    if catch_up:
        bring_up_to_date(app)
    return app


def bring_up_to_date(app: App) -> RefreshReport | None:
    """Re-derive stored mail if an upgrade asked for it, then refresh dirty series."""
    try:
        if app.reparse_needed():
            from reviewbot.service.ingest import reparse  # parsing is not for queries

            log.warning("re-deriving every stored mail after a schema upgrade (once)")
            _, report = reparse(app.store, app.raw_reader(), refresher=app.refresh)
            app.store.set_meta("reparse_needed", None)
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
            print(f"reviewbot: error: {exc}", file=sys.stderr)
            return 1
        except BrokenPipeError:
            # `reviewbot queue | head`: the reader left; not an error worth a traceback.
            os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
            return 0
    return wrapper


def _upgrade(args: argparse.Namespace) -> int:
    store = open_store(args, upgrade=False)
    try:
        before, after = sqlmigrate.upgrade(store.engine)
    except (SQLAlchemyError, sqlmigrate.MigrationsNotFound) as exc:
        raise CommandError(f"migration failed: {exc}") from exc
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
    p = sub.add_parser("db", help="database schema (Alembic migrations)")
    dbsub = p.add_subparsers(dest="db_command", metavar="ACTION", required=True)
    up = dbsub.add_parser("upgrade", help="run migrations up to the newest schema")
    up.set_defaults(func=run_guarded(_upgrade))
    cur = dbsub.add_parser("current", help="show the schema revision")
    cur.set_defaults(func=run_guarded(_current))
