"""`reviewbot run [--once]`: the daemon, wired from the settings.

Everything is checked before the database is touched (settings, policies, sources,
trees); a SIGHUP re-reads the same files through the same checks (`reload`), and
keeps the running set when anything is wrong.
"""

from __future__ import annotations

import argparse
import asyncio
import dataclasses
import logging
import os
import sys

from reviewbot.adapters.kernel.policy_files import PolicyStore
from reviewbot.adapters.sql import locks
from reviewbot.adapters.system.systemd import Notifier
from reviewbot.commands.db import CommandError, open_app, run_guarded, settings
from reviewbot.commands.mail.setup import build_mail_loops
from reviewbot.config import Settings
from reviewbot.core.maintainers.sections import MaintainersError
from reviewbot.core.policy.model import PolicySet
from reviewbot.core.policy.schema import PolicyError
from reviewbot.daemon import Daemon, Poller, Reload, TreePoller
from reviewbot.wiring import (
    App,
    ContextError,
    SourceError,
    backlog_context,
    build_source,
    build_tree,
    configured_trees,
    parse_pool,
    policy_dir,
    tree_cache_dir,
)

log = logging.getLogger(__name__)


def build_pollers(conf: Settings, args: argparse.Namespace
                  ) -> tuple[PolicyStore | None, list[Poller], list[TreePoller]]:
    """Policies, sources and trees from the settings; CommandError says what is wrong."""
    policies = load_policy_store(conf)
    tree_pollers = build_tree_pollers(conf, args.interval)
    interval = args.interval if args.interval is not None else conf.poll_interval
    try:
        pollers = [Poller(s.list_name, build_source(s), interval) for s in conf.sources]
    except SourceError as exc:
        raise CommandError(str(exc)) from exc
    return policies, pollers, tree_pollers


def build_daemon(args: argparse.Namespace) -> Daemon:
    """Settings -> store (migrated), sources, locks, notifier. Fails fast on bad config."""
    conf = settings(args)
    try:
        policies, pollers, tree_pollers = build_pollers(conf, args)
    except CommandError as exc:
        raise CommandError(f"refusing to start: {exc}") from exc
    if not pollers and not tree_pollers and not args.wait_for_config:
        raise CommandError("no [[sources]] configured: `run` polls the sources of the settings "
                           "file (see deploy/config.example.toml); use `ingest` for one-off runs"
                           ", or `run --wait-for-config` to wait for a reload (SIGHUP)")
    # Migrations, an upgrade's re-derivation and the catch-up refresh all run before
    # READY=1 is ever sent.
    app = open_app(args, write=True)
    mail = build_mail_loops(app, args)  # digests, reminders, email commands, sending
    from reviewbot.wiring_web import for_daemon  # the HTTP surface when [http] listen is set

    daemon = Daemon(store=app.store, pollers=pollers, locks=locks.for_engine(app.engine),
                    notifier=Notifier(os.environ), tree_pollers=tree_pollers,
                    trees=app.trees, policies=policies, refresher=app.refresh,
                    pool=parse_pool(), stop_timeout=conf.daemon.stop_timeout,
                    background=[mail.run] if mail else [],
                    on_policies=lambda new: _use_policies(app, new),
                    **for_daemon(app, conf, os.environ, CommandError))
    daemon.reloader = lambda: reload(args, app)
    return daemon


def _use_policies(app: App, policies: PolicySet) -> None:
    """An accepted policy edit: the next refresh sees the new context stamp and
    recomputes the standings it changes."""
    app.ctx = dataclasses.replace(app.ctx, policies=policies)


def reload(args: argparse.Namespace, app: App) -> Reload:
    """SIGHUP: the settings file, the policies and MAINTAINERS, read and checked again.

    Raises with the reason when anything is wrong, so the daemon keeps what it runs."""
    try:
        conf = settings(args)
        policies, pollers, tree_pollers = build_pollers(conf, args)
        ctx = backlog_context(conf, os.environ)
        if ctx.maintainers is not None:
            ctx.maintainers.index()  # read it now: a broken file must not replace a good one
    except (CommandError, ContextError, MaintainersError) as exc:
        raise RuntimeError(str(exc)) from exc
    old_url = app.settings.database(getattr(args, "db", None), os.environ)
    if conf.database(getattr(args, "db", None), os.environ) != old_url:
        log.warning("the database setting changed: that takes a restart; still using %s",
                    old_url)

    def apply() -> None:
        app.settings = conf
        app.ctx = ctx

    return Reload(pollers, tree_pollers, policies, apply, conf.daemon.stop_timeout)


def load_policy_store(conf: Settings) -> PolicyStore | None:
    """The policies in force; an invalid set stops the daemon's start (or a reload)."""
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
        raise CommandError(f"the policies in {directory} are invalid:\n{exc}") from exc
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


def serve(daemon: Daemon, *, once: bool = False) -> int:
    """Run the daemon to its end. If it stopped with polls still waiting on git or the
    network, exit at once: their worker threads would otherwise hold the interpreter's
    exit for as long as their timeouts (a batch not committed is read again next time)."""
    code = asyncio.run(daemon.run(once=once))
    if daemon.abandoned:
        logging.shutdown()
        sys.stdout.flush()
        sys.stderr.flush()
        os._exit(code)
    return code


def _run(args: argparse.Namespace) -> int:
    return serve(build_daemon(args), once=args.once)


def register(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    p = sub.add_parser(
        "run", help="the daemon: poll every configured source and tree on its interval",
        description="Polls every [[sources]] and watched tree of the settings file on its "
                    "interval and keeps the backlog current. Logs one line per poll. SIGHUP "
                    "reloads the settings, policies and MAINTAINERS (a bad edit is logged and "
                    "the running set kept); SIGTERM/SIGINT stop it after the current batch.")
    p.add_argument("--once", action="store_true",
                   help="poll every source, then every tree, once and exit (for cron and "
                   "tests); exit 1 if any failed")
    p.add_argument("--interval", type=float, metavar="SECONDS",
                   help="override the configured poll interval")
    p.add_argument("--wait-for-config", action="store_true",
                   help="with nothing configured, keep running (idle, healthy) until a "
                   "SIGHUP brings sources, instead of exiting 1 (the container's default)")
    p.set_defaults(func=run_guarded(_run))
