"""`reviewbot ingest`: read a source into the database, then bring its series up to date.

Each source is ingested under the daemon's lock for it, so a CLI ingest and a
running daemon (or two ingests) never write one source at once: the second waits,
or with --no-wait exits 75. A successful ingest counts as a poll for `health`.
"""

from __future__ import annotations

import argparse
import os
import sys
import time
import urllib.parse
from contextlib import ExitStack
from datetime import UTC, datetime
from pathlib import Path

from reviewbot.adapters.sql.polllog import SqlPollLog
from reviewbot.commands.db import (
    CommandError,
    add_wait_option,
    bring_up_to_date,
    holding,
    open_app,
    run_guarded,
    settings,
)
from reviewbot.config import SourceSettings
from reviewbot.core.policy.model import Policy, PolicySet
from reviewbot.service.backlog.context import BacklogContext
from reviewbot.service.backlog.ingest import IngestReport, ingest
from reviewbot.service.backlog.parsing import ParsePool
from reviewbot.service.backlog.refresh import RefreshReport
from reviewbot.wiring import (
    App,
    ContextError,
    SourceError,
    backlog_context,
    build_source,
    parse_pool,
)


def _since(text: str) -> datetime:
    """`2025-01-01` (midnight UTC) or an ISO timestamp (UTC when it names no zone)."""
    try:
        when = datetime.fromisoformat(text)
    except ValueError as exc:
        raise argparse.ArgumentTypeError(f"{text!r} is not a date (YYYY-MM-DD) or ISO time") \
            from exc
    return when if when.tzinfo else when.replace(tzinfo=UTC)


def _lore_url(text: str) -> str:
    """An http(s) URL naming a host and a list, as lore.kernel.org/LIST."""
    try:
        parts = urllib.parse.urlsplit(text)
        ok = parts.scheme in ("http", "https") and bool(parts.hostname) and bool(
            parts.path.strip("/"))
    except ValueError:
        ok = False
    if not ok:
        raise argparse.ArgumentTypeError(
            f"{text!r} is not the URL of a list on a public-inbox server (e.g. "
            "https://lore.kernel.org/linux-rdma)")
    return text


def _sources(args: argparse.Namespace) -> list[SourceSettings]:
    given = [k for k in ("epoch", "lore", "mbox") if getattr(args, k)]
    if len(given) > 1:
        raise CommandError("give one kind of source: --epoch, --lore or --mbox")
    if given:
        if not args.list:
            raise CommandError(f"--{given[0]} needs --list NAME (e.g. --list linux-rdma)")
        if args.epoch:
            return [SourceSettings(args.list, epochs=tuple(Path(e) for e in args.epoch))]
        if args.lore:
            return [SourceSettings(args.list, lore=args.lore.rstrip("/"), since=args.since)]
        return [SourceSettings(args.list, mbox=Path(args.mbox))]
    configured = settings(args).sources
    if args.list:
        configured = tuple(s for s in configured if s.list_name == args.list)
    if not configured:
        raise CommandError("nothing to ingest: give --epoch PATH, --lore URL or --mbox FILE "
                           "with --list NAME, or configure [[sources]] in the settings file")
    return list(configured)


class _Progress:
    """A one-line, self-overwriting progress display; only on a terminal."""

    def __init__(self, label: str) -> None:
        self.label = label
        self.start = time.monotonic()
        self.shown = False

    def __call__(self, r: IngestReport) -> None:
        rate = r.messages / max(time.monotonic() - self.start, 1e-6)
        sys.stderr.write(f"\r{self.label}: {r.messages} messages ({r.new} new, "
                         f"{r.quarantined} quarantined) {rate:.0f}/s ")
        sys.stderr.flush()
        self.shown = True

    def done(self) -> None:
        if self.shown:
            sys.stderr.write("\r\x1b[K")
            sys.stderr.flush()


def _run(args: argparse.Namespace) -> int:
    sources = _sources(args)
    try:
        ctx, broken = backlog_context(settings(args), os.environ), None
    except ContextError as exc:
        # Store the mail anyway; its series are brought up to date by the first command
        # that has a working context (queries then name the problem).
        ctx, broken = BacklogContext(PolicySet(Policy())), str(exc)
        print(f"reviewbot: warning: series not routed: {exc}", file=sys.stderr)
    app = open_app(args, catch_up=False, ctx=ctx, write=True)
    pool = parse_pool()
    try:
        for n, s in enumerate(sources):
            _ingest_one(app, s, pool, last=n == len(sources) - 1 and broken is None,
                        wait=args.wait)
    finally:
        if pool is not None:
            pool.close()
    return 0


def _ingest_one(app: App, s: SourceSettings, pool: ParsePool | None, *, last: bool,
                wait: bool) -> None:
    """One source to its end, under its lock; with `last`, the series of everything
    stored are refreshed (once, after the last source: components often span lists)."""
    with ExitStack() as stack:
        try:
            source = build_source(s)
        except (SourceError, ValueError) as exc:
            raise CommandError(str(exc)) from exc
        if hasattr(source, "close"):
            stack.callback(source.close)
        stack.enter_context(holding(app, [source.key], wait=wait))
        started = time.monotonic()
        shown = _Progress(f"{s.list_name} ({s.kind})") if sys.stderr.isatty() else None

        polls = SqlPollLog(app.engine)  # `reviewbot health` sees a CLI ingest's batches too

        def progress(r: IngestReport) -> None:
            polls.progress(source.key, s.list_name, datetime.now(UTC))
            if shown is not None:
                shown(r)

        before = app.store.get_cursor(source.key)
        try:
            report = ingest(source, app.store, list_name=s.list_name, progress=progress,
                            refresher=(lambda: _refresh(app)) if last else None,
                            pool=pool)
        except (OSError, RuntimeError, ValueError) as exc:  # EpochError, MboxError, HTTP
            kept = ("; the batches before the failure are stored: run the same command "
                    "again to resume" if app.store.get_cursor(source.key) != before else "")
            raise CommandError(f"{s.list_name} ({s.kind}): {exc}{kept}") from exc
        finally:
            if shown is not None:
                shown.done()
        polls.progress(source.key, s.list_name, datetime.now(UTC))
        print(report.summary(time.monotonic() - started))


def _refresh(app: App) -> RefreshReport:
    """Bring the series up to date (after any upgrade's re-derivation of stored mail)."""
    return bring_up_to_date(app) or RefreshReport()


def register(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    p = sub.add_parser(
        "ingest", help="read a list archive into the database and assemble series",
        description="Reads new mail from a source (incrementally: each source keeps a cursor) "
                    "and brings the series it touches up to date. Without a source option, "
                    "ingests every [[sources]] of the settings file (only those of --list "
                    "NAME when given). Waits while the daemon or another ingest writes the "
                    "same source.")
    p.add_argument("--list", metavar="NAME", help="the list's name, e.g. linux-rdma")
    p.add_argument("--epoch", metavar="PATH", action="append",
                   help="public-inbox v2 epoch git dir or inbox dir (repeatable)")
    p.add_argument("--lore", metavar="URL", type=_lore_url,
                   help="a list on lore.kernel.org or another public-inbox-httpd, e.g. "
                        "https://lore.kernel.org/linux-rdma")
    p.add_argument("--mbox", metavar="FILE", help="mbox file or maildir")
    p.add_argument("--since", metavar="DATE", type=_since,
                   help="with --lore: where the first poll starts (YYYY-MM-DD or ISO time, "
                        "UTC); default 30 days ago. Later polls continue from the cursor")
    add_wait_option(p)
    p.set_defaults(func=run_guarded(_run))
