"""`reviewbot reparse`: re-derive everything from the stored raw mail (after a parser fix)."""

from __future__ import annotations

import argparse
import sys
import time

from reviewbot.commands.db import open_app, run_guarded
from reviewbot.service.ingest import reparse


def _run(args: argparse.Namespace) -> int:
    app = open_app(args, catch_up=False)
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
    p = sub.add_parser("reparse", help="reparse every stored and quarantined mail, reassemble")
    p.set_defaults(func=run_guarded(_run))
