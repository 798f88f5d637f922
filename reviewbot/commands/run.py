"""`reviewbot run [--once]`: the daemon. The composition root lives here."""

from __future__ import annotations

import argparse
import asyncio
import logging
import os

from reviewbot.adapters.kernel.policy_files import PolicyStore
from reviewbot.adapters.sql import locks
from reviewbot.adapters.system.systemd import Notifier
from reviewbot.commands.db import CommandError, open_app, run_guarded, settings
from reviewbot.commands.mailsetup import build_mail_loops
from reviewbot.config import Settings
from reviewbot.core.policy.schema import PolicyError
from reviewbot.daemon import Daemon, Poller, TreePoller
from reviewbot.wiring import (
    SourceError,
    build_source,
    build_tree,
    configured_trees,
    parse_pool,
    policy_dir,
    tree_cache_dir,
)

log = logging.getLogger(__name__)


def build_daemon(args: argparse.Namespace) -> Daemon:
    """Settings -> store (migrated), sources, locks, notifier. Fails fast on bad config."""
    conf = settings(args)
    policies = load_policy_store(conf)
    tree_pollers = build_tree_pollers(conf, args.interval)
    if not conf.sources and not tree_pollers:
        raise CommandError("no [[sources]] configured: `run` polls the sources of the settings "
                           "file (see deploy/config.example.toml); use `ingest` for one-off runs")
    interval = args.interval if args.interval is not None else conf.poll_interval
    try:
        pollers = [Poller(s.list_name, build_source(s), interval) for s in conf.sources]
    except SourceError as exc:
        raise CommandError(str(exc)) from exc
    # Migrations, an upgrade's re-derivation and the catch-up refresh all run before
    # READY=1 is ever sent.
    app = open_app(args)
    mail = build_mail_loops(app, args)  # digests, reminders, email commands, sending
    from reviewbot.wiring_web import for_daemon  # the HTTP surface when [http] listen is set

    return Daemon(store=app.store, pollers=pollers, locks=locks.for_engine(app.engine),
                  notifier=Notifier(os.environ), tree_pollers=tree_pollers,
                  trees=app.trees, policies=policies, refresher=app.refresh,
                  pool=parse_pool(), background=[mail.run] if mail else [],
                  **for_daemon(app, conf, os.environ, CommandError))


def load_policy_store(conf: Settings) -> PolicyStore | None:
    """The policies in force; the daemon refuses to start on an invalid set."""
    try:
        directory = policy_dir(conf, os.environ)
    except ValueError as exc:
        raise CommandError(str(exc)) from exc
    if directory is None:
        return None
    store = PolicyStore(directory)
    try:
        store.load()
    except PolicyError as exc:
        raise CommandError(f"refusing to start, the policies in {directory} are invalid:\n"
                           f"{exc}") from exc
    return store


def build_tree_pollers(conf: Settings, interval: float | None) -> list[TreePoller]:
    """[[trees]] and the policies' trees; `interval` overrides each tree's own."""
    try:
        cache = tree_cache_dir(os.environ)
        return [TreePoller(build_tree(t, cache),
                           interval if interval is not None else t.interval or conf.poll_interval)
                for t in configured_trees(conf)]
    except SourceError as exc:
        raise CommandError(str(exc)) from exc


def _run(args: argparse.Namespace) -> int:
    daemon = build_daemon(args)
    return asyncio.run(daemon.run(once=args.once))


def register(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    p = sub.add_parser("run", help="the daemon: poll every configured source on its interval",
                       description="Stops cleanly on SIGTERM/SIGINT after the current batch.")
    p.add_argument("--once", action="store_true",
                   help="poll every source, then every tree, once and exit (for cron and "
                   "tests); exit 1 if any failed")
    p.add_argument("--interval", type=float, metavar="SECONDS",
                   help="override the configured poll interval")
    p.set_defaults(func=run_guarded(_run))
