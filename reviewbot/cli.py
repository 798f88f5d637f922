"""Command line: argparse, exit codes. Subcommands live in reviewbot/commands/.

Each command module exposes `register(subparsers)` which adds its parser and
sets `func=<callable(args) -> int>`. The registry below is explicit on purpose.
"""

from __future__ import annotations

import argparse
import importlib
import logging
import sys
from collections.abc import Sequence

from reviewbot import __version__

# Explicit registry: add a module name here when you add a command module.
COMMAND_MODULES: tuple[str, ...] = (
    "ingest", "series", "queue", "stats", "reparse", "db", "policy", "run", "route", "trees",
    "manual", "outbox", "cycle", "pr", "debt",
)

EXIT_OK = 0
EXIT_ERROR = 1
EXIT_USAGE = 2


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="reviewbot", description=__doc__)
    parser.add_argument("--version", action="version", version=f"reviewbot {__version__}")
    parser.add_argument("--db", metavar="URL",
                        help="database URL (default: $REVIEWBOT_DATABASE_URL, "
                        "else sqlite:///reviewbot.db in the working directory)")
    parser.add_argument("--config", metavar="FILE", help="settings file (TOML)")
    parser.add_argument("-v", "--verbose", action="count", default=0)
    sub = parser.add_subparsers(dest="command", metavar="COMMAND", required=True)
    for name in COMMAND_MODULES:
        importlib.import_module(f"reviewbot.commands.{name}").register(sub)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    logging.basicConfig(
        level=logging.WARNING - 10 * min(args.verbose, 2),
        format="%(levelname)s %(name)s: %(message)s",
        stream=sys.stderr,
    )
    return int(args.func(args))
