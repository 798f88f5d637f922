"""Builds adapters from settings: shared by the CLI commands and the daemon."""

from __future__ import annotations

import os
from collections.abc import Mapping
from datetime import UTC, datetime
from pathlib import Path

from reviewbot.config import DEFAULT_LORE_BACKFILL, Settings, SourceSettings, TreeSettings
from reviewbot.ports import Source, Tree


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


DEFAULT_POLICY_DIR = Path("policies")


def policy_dir(conf: Settings, env: Mapping[str, str]) -> Path | None:
    """Where the policies live: $REVIEWBOT_POLICIES, else the settings' `[policy] dir`
    (relative to the settings file), else ./policies when it exists, else None
    (the built-in default policy). Raises ValueError on a bad `[policy]` table."""
    from reviewbot.adapters.kernel.policy_files import configured_dir

    if directory := env.get("REVIEWBOT_POLICIES"):
        return Path(directory)
    base = conf.path.parent if conf.path else Path()
    configured = configured_dir(conf.extra.get("policy"), base)
    if configured is not None:
        return configured
    return DEFAULT_POLICY_DIR if DEFAULT_POLICY_DIR.is_dir() else None
