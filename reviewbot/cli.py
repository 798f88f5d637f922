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

# Explicit registry: each command name -> the module in reviewbot/commands/ that adds it.
COMMANDS: dict[str, str] = {
    "ingest": "ingest", "series": "series", "queue": "queue", "stats": "stats",
    "reparse": "reparse", "db": "db", "policy": "policy", "run": "run", "route": "route",
    "trees": "trees", "applied": "trees", "claim": "manual", "release": "manual",
    "assign": "manual", "override": "manual", "outbox": "outbox", "cycle": "cycle",
    "pr": "pr", "debt": "debt", "am": "am",
    "digest": "digest", "nag": "nag", "suggest": "suggest", "report": "report",
    "serve": "serve",
}
COMMAND_MODULES: tuple[str, ...] = tuple(dict.fromkeys(COMMANDS.values()))
_GLOBAL_VALUES = frozenset({"--db", "--config"})  # global options that take a value

EXIT_OK = 0
EXIT_ERROR = 1
EXIT_USAGE = 2


def _command_in(argv: Sequence[str]) -> str | None:
    """The command word of `argv`, skipping global options and their values."""
    skip = False
    for arg in argv:
        if skip:
            skip = False
        elif arg in _GLOBAL_VALUES:
            skip = True
        elif not arg.startswith("-"):
            return arg if arg in COMMANDS else None
    return None


def build_parser(argv: Sequence[str] | None = None) -> argparse.ArgumentParser:
    """The parser; given `argv`, only the module of the command it names is imported
    (each command's libraries cost start-up time: `queue` must answer in well under
    a second), otherwise all of them (for --help)."""
    parser = argparse.ArgumentParser(prog="reviewbot", description=__doc__)
    parser.add_argument("--version", action="version", version=f"reviewbot {__version__}")
    parser.add_argument("--db", metavar="URL",
                        help="database URL (default: $REVIEWBOT_DATABASE_URL, "
                        "else sqlite:///reviewbot.db in the working directory)")
    parser.add_argument("--config", metavar="FILE", help="settings file (TOML)")
    parser.add_argument("-v", "--verbose", action="count", default=0)
    sub = parser.add_subparsers(dest="command", metavar="COMMAND", required=True)
    command = _command_in(argv) if argv is not None else None
    for name in (COMMANDS[command],) if command else COMMAND_MODULES:
        importlib.import_module(f"reviewbot.commands.{name}").register(sub)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    argv = list(sys.argv[1:] if argv is None else argv)
    if argv == ["--version"]:  # answered without loading any command
        print(f"reviewbot {__version__}")
        return EXIT_OK
    parser = build_parser(argv)
    args = parser.parse_args(argv)
    logging.basicConfig(
        level=logging.WARNING - 10 * min(args.verbose, 2),
        format="%(levelname)s %(name)s: %(message)s",
        stream=sys.stderr,
    )
    return int(args.func(args))
