"""`reviewbot stats [--json]`: what the database holds."""

from __future__ import annotations

import argparse
import json

from reviewbot.commands.db import open_app, run_guarded


def _run(args: argparse.Namespace) -> int:
    stats = open_app(args).reader.stats()
    if args.json:
        print(json.dumps(stats, indent=2, ensure_ascii=False))
        return 0
    for key in ("messages", "deleted", "duplicates", "quarantined", "series", "patches", "open"):
        print(f"{key:<12} {stats[key]}")
    for state, n in stats["states"].items():
        print(f"  {state:<18} {n}")  # changes_requested is the longest state
    return 0


def register(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    p = sub.add_parser("stats", help="counts of messages, series, patches, quarantine")
    p.add_argument("--json", action="store_true", help="machine-readable output")
    p.set_defaults(func=run_guarded(_run))
