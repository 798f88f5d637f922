"""`reviewbot reparse`: re-derive everything from the stored raw mail (after a parser fix)."""

from __future__ import annotations

import argparse
import sys
import time

from reviewbot.commands.db import open_store, run_guarded
from reviewbot.service import reparse


def _run(args: argparse.Namespace) -> int:
    store = open_store(args)
    started = time.monotonic()
    tty = sys.stderr.isatty()

    def progress(n: int) -> None:
        sys.stderr.write(f"\rreparsed {n} mails ")
        sys.stderr.flush()

    outcome, series = reparse(store, progress=progress if tty else None)
    if tty:
        sys.stderr.write("\r\x1b[K")
    print(f"reparsed: {outcome.updated} updated, {outcome.recovered} recovered from quarantine, "
          f"{outcome.quarantined} newly quarantined; {series} series "
          f"in {time.monotonic() - started:.1f} s")
    return 0


def register(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    p = sub.add_parser("reparse", help="reparse every stored and quarantined mail, reassemble")
    p.set_defaults(func=run_guarded(_run))
