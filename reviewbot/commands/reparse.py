"""`reviewbot reparse`: re-derive everything from the stored raw mail (after a parser fix).

Quarantined mail is parsed again too: what the fixed parser accepts leaves the
quarantine. Reparsing rewrites every source's mail, so it holds the lock of every
source (the daemon's polls wait their turn); another writer is waited for, or with
--no-wait the command exits 75.
"""

from __future__ import annotations

import argparse
import sys
import time

from reviewbot.adapters.sql import ops
from reviewbot.commands.db import add_wait_option, holding, open_app, run_guarded, settings
from reviewbot.service.backlog.ingest import reparse
from reviewbot.wiring import App, SourceError, build_source


def _source_keys(args: argparse.Namespace) -> set[str]:
    """Every source ever ingested (it has a cursor) and every configured one."""
    keys = set()
    for s in settings(args).sources:
        try:
            keys.add(build_source(s).key)
        except (SourceError, ValueError):
            continue  # a source gone missing is not written by anyone
    return keys


def _run(args: argparse.Namespace) -> int:
    app = open_app(args, catch_up=False, write=True)
    with holding(app, sorted(_source_keys(args) | set(ops.source_keys(app.engine))),
                 wait=args.wait):
        return _reparse(app)


def _reparse(app: App) -> int:
    started = time.monotonic()
    tty = sys.stderr.isatty()

    def progress(n: int) -> None:
        sys.stderr.write(f"\rreparsed {n} mails ")
        sys.stderr.flush()

    outcome, refreshed = reparse(app.store, app.raw_reader(),
                                 progress=progress if tty else None, refresher=app.refresh)
    app.store.set_meta("reparse_needed", None)
    if tty:
        sys.stderr.write("\r\x1b[K")
    unreadable = (f", {outcome.unreadable} kept as they were (their epoch is not where the "
                  "last ingest found it)" if outcome.unreadable else "")
    series = refreshed.series if refreshed is not None else 0
    print(f"reparsed: {outcome.updated} updated, {outcome.recovered} recovered from quarantine, "
          f"{outcome.quarantined} newly quarantined{unreadable}; {series} series "
          f"in {time.monotonic() - started:.1f} s")
    return 0


def register(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    p = sub.add_parser("reparse", help="reparse every stored and quarantined mail, reassemble",
                       description=__doc__)
    add_wait_option(p)
    p.set_defaults(func=run_guarded(_run))
