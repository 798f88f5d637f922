"""What the backlog commands share: the context (MAINTAINERS, policies, aliases, commit
matches) from the settings, `--as-of`, and the clock (read here, in the shell, only).

MAINTAINERS comes from the settings' `maintainers` (else $REVIEWBOT_MAINTAINERS); the
policies from `[policy] dir` (else the built-in default policy); commit matches from
applied detection's tables. Without MAINTAINERS nothing is routed: statuses use the
default policy and nobody counts as a maintainer.
"""

from __future__ import annotations

import argparse
import os
from datetime import UTC, date, datetime, time, timedelta

from reviewbot.adapters.kernel.maintainers_file import MaintainersSource
from reviewbot.adapters.kernel.policy_files import load_policies
from reviewbot.adapters.sql import trees as sqltrees
from reviewbot.adapters.sql.backlog import SqlBacklog
from reviewbot.adapters.sql.store import SqlStore
from reviewbot.commands.db import CommandError, settings
from reviewbot.core.maintainers.people import mailmap_aliases
from reviewbot.core.maintainers.recipients import parse_mailmap
from reviewbot.core.maintainers.sections import MaintainersError
from reviewbot.core.policy.model import Policy, PolicySet
from reviewbot.core.policy.schema import PolicyError
from reviewbot.service.backlog import Context, ensure_routed
from reviewbot.wiring import policy_dir

ENV = "REVIEWBOT_MAINTAINERS"
NO_MAINTAINERS = ("no MAINTAINERS configured: series are not routed to subsystems. Set "
                  "`maintainers = \"/path/to/linux\"` (a MAINTAINERS file, kernel tree or git "
                  f"repository) in the settings file, or ${ENV}")


def parse_when(text: str) -> datetime:
    """`2025-12-31` (the end of that day, UTC) or an ISO timestamp (UTC if no zone)."""
    try:
        if len(text) == 10:
            return datetime.combine(date.fromisoformat(text) + timedelta(days=1), time(),
                                    UTC) - timedelta(microseconds=1)
        when = datetime.fromisoformat(text)
    except ValueError as exc:
        raise argparse.ArgumentTypeError(
            f"{text!r} is not a date (YYYY-MM-DD) or ISO timestamp") from exc
    return when if when.tzinfo else when.replace(tzinfo=UTC)


def now_or(as_of: datetime | None) -> datetime:
    return as_of if as_of is not None else datetime.now(UTC)


def _policies(args: argparse.Namespace) -> PolicySet:
    try:
        directory = policy_dir(settings(args), os.environ)
        return load_policies(directory) if directory else PolicySet(Policy())
    except (ValueError, PolicyError) as exc:
        raise CommandError(f"policies: {exc}") from exc


def context(args: argparse.Namespace, store: SqlStore) -> tuple[Context, SqlBacklog]:
    """The backlog context, with every stored series routed (if MAINTAINERS is known)."""
    conf = settings(args)
    policies = _policies(args)
    backlog = SqlBacklog(store.engine)
    commits = sqltrees.commit_matches(store.engine)
    where = conf.maintainers or os.environ.get(ENV)
    if not where:
        mailmap = {}
        if conf.mailmap:
            try:
                mailmap = mailmap_aliases(parse_mailmap(conf.mailmap.read_text(
                    encoding="utf-8", errors="replace")).addresses)
            except OSError as exc:
                raise CommandError(f"mailmap {conf.mailmap}: {exc.strerror}") from exc
        return Context(policies, mailmap=mailmap, commits=commits), backlog
    try:
        loaded = MaintainersSource.from_path(where, mailmap=conf.mailmap).load()
    except MaintainersError as exc:
        raise CommandError(f"MAINTAINERS: {exc}") from exc
    ctx = Context(policies, loaded.index, repr((loaded.origin, loaded.stamp)),
                  mailmap_aliases(loaded.mailmap.addresses) if loaded.mailmap else {},
                  commits)
    ensure_routed(backlog, ctx)
    return ctx, backlog


def add_as_of(p: argparse.ArgumentParser) -> None:
    p.add_argument("--as-of", type=parse_when, metavar="DATE",
                   help="derive states as of this date (YYYY-MM-DD: end of day UTC) or ISO "
                   "timestamp (default: now)")
