"""The composition root: builds adapters and the backlog context from settings.

Shared by the CLI commands and the daemon, so both wire reviewbot the same way.
"""

from __future__ import annotations

import os
from collections.abc import Collection, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from functools import cached_property
from pathlib import Path
from typing import TYPE_CHECKING

from sqlalchemy.engine import Engine

from reviewbot.adapters.sql.series.queries import SqlBacklogReader
from reviewbot.adapters.sql.store import SqlStore
from reviewbot.config import DEFAULT_LORE_BACKFILL, Settings, SourceSettings, TreeSettings
from reviewbot.locations import packaged_policies
from reviewbot.ports import Source, Tree
from reviewbot.service.backlog.context import BacklogContext

# Imported where used: a query never parses mail, reads epochs, assembles series nor
# writes (these imports are a fifth of a `series` process' start-up).
if TYPE_CHECKING:
    from reviewbot.adapters.sources.epoch import EpochReader
    from reviewbot.adapters.sql.series.actions import SqlActions
    from reviewbot.adapters.sql.series.store import SqlSeriesStore
    from reviewbot.adapters.sql.trees.applied import SqlTrees
    from reviewbot.service.backlog.parsing import ParsePool
    from reviewbot.service.backlog.refresh import RefreshReport


class SourceError(ValueError):
    """A configured source that cannot be opened; the message says which and why."""


def build_source(s: SourceSettings, now: datetime | None = None) -> Source:
    """The adapter for one configured source. No I/O beyond existence checks.

    `now` anchors a lore source's default first-poll window (DEFAULT_LORE_BACKFILL).
    """
    # Imported here so one adapter's missing dependency never breaks the others.
    if s.epochs:
        for path in s.epochs:
            if not path.exists():
                raise SourceError(f"--epoch {path}: no such directory")
        from reviewbot.adapters.sources.epoch import EpochSource

        return EpochSource(s.list_name, list(s.epochs))
    if s.lore:
        from reviewbot.adapters.sources.lore import LoreSource

        since = s.since or (now or datetime.now(UTC)) - DEFAULT_LORE_BACKFILL
        return LoreSource(s.lore, s.list_name, since=since)
    if s.mbox is None:
        raise SourceError(f"{s.list_name}: the source names no epochs, lore URL or mbox")
    if not s.mbox.exists():
        raise SourceError(f"--mbox {s.mbox}: no such file or directory")
    from reviewbot.adapters.sources.mboxfile import MboxSource

    return MboxSource(s.mbox, s.list_name)


def tree_cache_dir(env: Mapping[str, str]) -> Path:
    """Where URL trees are cloned: $CACHE_DIRECTORY (systemd), $XDG_CACHE_HOME, ~/.cache."""
    if d := env.get("CACHE_DIRECTORY"):
        return Path(d.split(":")[0]) / "trees"
    base = Path(env["XDG_CACHE_HOME"]) if env.get("XDG_CACHE_HOME") else Path.home() / ".cache"
    return base / "reviewbot" / "trees"


def configured_trees(conf: Settings, env: Mapping[str, str] | None = None) -> list[TreeSettings]:
    """`[[trees]]`, then the `[tree]` of each policy in `[policy] dir` not already listed.

    A policy `[tree]` that names branches but no url watches the `T: git` tree
    of its MAINTAINERS sections (from the settings' `maintainers`, else
    $REVIEWBOT_MAINTAINERS).
    """
    trees = list(conf.trees)
    table = conf.extra.get("policy")
    if table is None or conf.path is None:
        return trees
    from reviewbot.adapters.kernel.policy_files import configured_dir, load_policies
    from reviewbot.core.policy.schema import PolicyError

    try:
        directory = configured_dir(table, conf.path.parent)
        policies = load_policies(directory) if directory is not None else None
    except (ValueError, PolicyError) as exc:
        raise SourceError(f"cannot read the policies' trees: {exc}") from exc
    if policies is None:
        return trees
    known = {t.source for t in trees}
    for policy in (policies.default, *policies.subsystems):
        url, branches = policy.tree.url, policy.tree.branches
        if branches and not url and policy.sections:
            url = _section_tree(policy.sections, conf, os.environ if env is None else env)
        if url and branches and url not in known:
            known.add(url)
            trees.append(TreeSettings(url, branches, subsystem=policy.name))
    return trees


def _section_tree(sections: tuple[str, ...], conf: Settings,
                  env: Mapping[str, str]) -> str | None:
    """The first `T: git` URL of these MAINTAINERS sections, or None."""
    from reviewbot.adapters.kernel.maintainers_file import MaintainersSource
    from reviewbot.core.maintainers.sections import MaintainersError

    where = conf.maintainers or env.get("REVIEWBOT_MAINTAINERS")
    if not where:
        raise SourceError(f"a policy for {', '.join(sections)} takes its tree from MAINTAINERS' "
                          "T: but no MAINTAINERS is configured (`maintainers` in the settings)")
    try:
        index = MaintainersSource.from_path(where).load().index
    except MaintainersError as exc:
        raise SourceError(f"MAINTAINERS for the policies' trees: {exc}") from exc
    wanted = {s.casefold() for s in sections}
    for section in index.sections:
        if section.name.casefold() in wanted and section.git_urls:
            return section.git_urls[0]
    return None


def build_tree(t: TreeSettings, cache_dir: Path) -> Tree:
    """The adapter for one watched tree. No I/O beyond an existence check."""
    from reviewbot.adapters.git.tree import GitTree

    tree = GitTree(t.source, t.branches, cache_dir=cache_dir)
    if not tree.is_remote and not Path(t.source).is_dir():
        raise SourceError(f"tree {t.source}: no such directory")
    return tree


def policy_dir(conf: Settings, env: Mapping[str, str]) -> Path | None:
    """Where the policies live: $REVIEWBOT_POLICIES, else the settings' `[policy] dir`
    (relative to the settings file), else the policies shipped inside the package
    (never the working directory's), else None (the built-in default policy).
    Raises ValueError on a bad `[policy]` table."""
    from reviewbot.adapters.kernel.policy_files import configured_dir

    if directory := env.get("REVIEWBOT_POLICIES"):
        return Path(directory)
    base = conf.path.parent if conf.path else Path()
    configured = configured_dir(conf.extra.get("policy"), base)
    if configured is not None:
        return configured
    return packaged_policies()


# -- the composition root ----------------------------------------------------------------

class ContextError(ValueError):
    """Policies, MAINTAINERS or the mailmap cannot be read; the message says which and why."""


def backlog_context(conf: Settings, env: Mapping[str, str]) -> BacklogContext:
    """The backlog context from the settings: policies, MAINTAINERS (read lazily), mailmap.

    MAINTAINERS comes from the settings' `maintainers` (else $REVIEWBOT_MAINTAINERS); the
    policies from policy_dir() (else the built-in default policy). Without MAINTAINERS
    nothing is routed: statuses use the default policy and nobody counts as a maintainer.
    """
    from reviewbot.adapters.kernel.maintainers_file import LazyMaintainers, MaintainersSource
    from reviewbot.adapters.kernel.policy_files import load_policies
    from reviewbot.core.maintainers.people import mailmap_aliases
    from reviewbot.core.maintainers.recipients import parse_mailmap
    from reviewbot.core.maintainers.sections import MaintainersError
    from reviewbot.core.policy.model import Policy, PolicySet
    from reviewbot.core.policy.schema import PolicyError

    try:
        directory = policy_dir(conf, env)
        policies = load_policies(directory) if directory else PolicySet(Policy())
    except (ValueError, PolicyError) as exc:
        raise ContextError(f"policies: {exc}") from exc
    where = conf.maintainers or env.get("REVIEWBOT_MAINTAINERS")
    if where:
        try:
            source = MaintainersSource.from_path(where, mailmap=conf.mailmap)
        except MaintainersError as exc:
            raise ContextError(f"MAINTAINERS: {exc}") from exc
        return BacklogContext(policies, LazyMaintainers(source))
    mailmap: dict[str, str] = {}
    if conf.mailmap:
        try:
            text = conf.mailmap.read_text(encoding="utf-8", errors="replace")
        except OSError as exc:
            raise ContextError(f"mailmap {conf.mailmap}: {exc.strerror}") from exc
        mailmap = mailmap_aliases(parse_mailmap(text).addresses)
    return BacklogContext(policies, None, mailmap)


@dataclass
class App:
    """The storage adapters and the backlog context that the daemon owns for its lifetime
    and every command builds the same way (build_app)."""

    settings: Settings
    engine: Engine
    store: SqlStore
    reader: SqlBacklogReader
    ctx: BacklogContext
    read_only: str | None = None  # why the database can only be read; None: writable

    @cached_property
    def series(self) -> SqlSeriesStore:
        from reviewbot.adapters.sql.series.store import SqlSeriesStore

        return SqlSeriesStore(self.engine)

    @cached_property
    def actions(self) -> SqlActions:
        from reviewbot.adapters.sql.series.actions import SqlActions

        return SqlActions(self.engine)

    @cached_property
    def trees(self) -> SqlTrees:
        from reviewbot.adapters.sql.trees.applied import SqlTrees

        return SqlTrees(self.engine)

    def refresh(self) -> RefreshReport:
        from reviewbot.service.backlog.refresh import refresh

        return refresh(self.series, self.ctx)

    def raw_reader(self) -> EpochReader:
        from reviewbot.adapters.sources.epoch import EpochReader

        return EpochReader(self.store.raw_locations())

    def attest(self, message_ids: Collection[str]) -> dict[str, dict[str, str]]:
        """b4's attestation of stored postings, from the raw mail (no network), as
        `series --json` and the API show it: {message id: {result, identity, detail}}."""
        from reviewbot.adapters.b4.attest import B4Attestor
        from reviewbot.adapters.sql.series.lookup import SqlSeriesLookup

        raws = SqlSeriesLookup(self.engine, self.raw_reader()).raw_messages(message_ids)
        return {str(mid): {"result": a.result, "identity": a.identity, "detail": a.detail}
                for mid, a in B4Attestor().attest(raws).items()}

    def reparse_needed(self) -> bool:
        """An upgrade (migration 0005) asked for every message to be derived again."""
        return self.store.meta("reparse_needed") == "1"


def parse_pool(cpus: int | None = None) -> ParsePool | None:
    """Worker processes for parsing big ingests: every core but the one that stores and
    refreshes. None on a single core."""
    from reviewbot.adapters.sql.schema.codec import decode_message, encode_message
    from reviewbot.core.mail.parse import parse_message
    from reviewbot.service.backlog.parsing import ParsePool

    cpus = os.cpu_count() if cpus is None else cpus
    if not cpus or cpus < 2:
        return None
    return ParsePool(parse_message, encode_message, decode_message, cpus - 1)


def build_app(conf: Settings, url: str, env: Mapping[str, str],
              ctx: BacklogContext | None = None, *, engine: Engine | None = None,
              read_only: str | None = None) -> App:
    """Open (and migrate) the database at `url`, or use `engine` as it was opened (the
    CLI opens read-only databases itself); build the adapters and the context.

    Raises sqlalchemy's errors, MigrationsNotFound and ContextError for the caller
    (the CLI or the daemon) to report.
    """
    from reviewbot.adapters.sql import migrate
    from reviewbot.adapters.sql.store import make_engine

    if engine is None:
        engine = make_engine(url)
        migrate.upgrade(engine)
    return App(conf, engine, SqlStore(engine, raw_codec=conf.raw_codec),
               SqlBacklogReader(engine), ctx or backlog_context(conf, env), read_only)
