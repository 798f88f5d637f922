"""Command line: argparse, logging, exit codes, and one clear line for every failure.

Each command module in reviewbot/commands/ exposes `register(subparsers)`, which adds
its parser (a one-line `help`, a `help` for every option) and sets
`func=<callable(args) -> int>`. The registry below is explicit on purpose, and only
the chosen command's module is imported, so a query starts fast.

Errors: a command raises CommandError for the user's mistakes; anything else that
escapes is still reported as one line on stderr (what failed, and what to do) with
exit 1. Only -v shows the traceback.
"""

from __future__ import annotations

import argparse
import importlib
import os
import sys
from collections.abc import Sequence

from reviewbot import __version__

# Explicit registry: each command name -> its module under reviewbot/commands/ (grouped
# by noun: backlog, mail, trees; the operator's commands at the top).
COMMANDS: dict[str, str] = {
    "ingest": "ingest", "reparse": "reparse", "db": "db", "policy": "policy", "run": "run",
    "serve": "serve", "health": "health",
    "series": "backlog.series", "queue": "backlog.queue", "stats": "backlog.stats",
    "route": "backlog.route", "am": "backlog.am", "quarantine": "backlog.quarantine",
    "claim": "backlog.manual", "release": "backlog.manual", "assign": "backlog.manual",
    "override": "backlog.manual",
    "digest": "mail.digest", "nag": "mail.nag", "outbox": "mail.outbox",
    "suggest": "mail.suggest", "report": "mail.report",
    "trees": "trees.applied", "applied": "trees.applied", "cycle": "trees.cycle",
    "pr": "trees.pr", "debt": "trees.debt",
}
COMMAND_MODULES: tuple[str, ...] = tuple(dict.fromkeys(COMMANDS.values()))
_GLOBAL_VALUES = frozenset({"--db", "--config"})  # global options that take a value
DAEMON_COMMANDS = frozenset({"run"})  # log at INFO by default

EXIT_OK = 0
EXIT_ERROR = 1
EXIT_USAGE = 2
EXIT_INTERRUPTED = 130

DESCRIPTION = """\
reviewbot keeps every kernel subsystem's review queue visible and moving. It reads
mailing-list archives (public-inbox epochs, lore.kernel.org, mbox files), assembles
patch series, routes them with MAINTAINERS and tracks each subsystem's backlog."""

EPILOG = """\
Start with `reviewbot ingest --help`, then `reviewbot queue`. `reviewbot COMMAND --help`
describes each command and its options.

Settings: --config FILE, else $REVIEWBOT_CONFIG, $CONFIGURATION_DIRECTORY/config.toml,
~/.config/reviewbot/config.toml ($XDG_CONFIG_HOME), /etc/reviewbot/config.toml.
Database: --db URL, else $REVIEWBOT_DATABASE_URL, `database` in the settings, git config
reviewbot.database, else ~/.local/state/reviewbot/reviewbot.db ($XDG_STATE_HOME; under
systemd $STATE_DIRECTORY)."""


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
    parser = argparse.ArgumentParser(
        prog="reviewbot", description=DESCRIPTION, epilog=EPILOG,
        formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--version", action="version", version=f"reviewbot {__version__}",
                        help="print the version and exit")
    parser.add_argument("--db", metavar="URL",
                        help="database URL: sqlite:////path/file.db or "
                        "postgresql://user@host/db (default: see below)")
    parser.add_argument("--config", metavar="FILE",
                        help="settings file (TOML; default: see below)")
    parser.add_argument("-v", "--verbose", action="count", default=0,
                        help="more detail: -v logs progress, -vv debugging; errors then "
                        "show their traceback")
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
    # Before the parser exists (or if building it fails), -v is read off argv.
    verbose = sum(len(a) - 1 for a in argv if a[:1] == "-" and set(a[1:]) == {"v"}) \
        + argv.count("--verbose")
    try:
        parser = build_parser(argv)
        args = parser.parse_args(argv)
        from reviewbot.adapters.system import logs

        logs.setup(args.verbose, daemon=args.command in DAEMON_COMMANDS, env=os.environ,
                   stream=sys.stderr)
        return int(args.func(args))
    except KeyboardInterrupt:
        print("reviewbot: interrupted", file=sys.stderr)
        return EXIT_INTERRUPTED
    except BrokenPipeError:
        # `reviewbot queue | head`: the reader left; not an error worth a line.
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        return EXIT_OK
    except Exception as exc:
        if verbose:
            raise
        from reviewbot.commands.errors import describe

        message, code = describe(exc)
        print(f"reviewbot: error: {message}", file=sys.stderr)
        return code
