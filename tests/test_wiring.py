"""Building sources from settings: lore's first poll is bounded, bad settings are refused."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

import pytest

from reviewbot.config import ConfigError, SourceSettings, load
from reviewbot.wiring import SourceError, build_source

NOW = datetime(2026, 3, 1, 12, 0, tzinfo=UTC)


def _settings(tmp_path: Path, text: str) -> Path:
    cfg = tmp_path / "config.toml"
    cfg.write_text(text)
    return cfg


def test_a_lore_source_without_since_starts_thirty_days_back() -> None:
    """A first poll of lore fetches a month, not the list's whole history."""
    source = build_source(SourceSettings("linux-rdma", lore="https://lore.example/linux-rdma"),
                          NOW)
    assert source.since == datetime(2026, 1, 30, 12, 0, tzinfo=UTC)  # type: ignore[attr-defined]


def test_since_in_the_settings_file_is_a_utc_date(tmp_path: Path) -> None:
    """`since = 2025-01-01` on a lore source means midnight UTC that day."""
    conf = load(str(_settings(tmp_path, '[[sources]]\nlist = "linux-rdma"\n'
                                        'lore = "https://lore.example/linux-rdma"\n'
                                        'since = 2025-01-01\n')), {})
    source = build_source(conf.sources[0], NOW)
    assert source.since == datetime(2025, 1, 1, tzinfo=UTC)  # type: ignore[attr-defined]


def test_since_on_an_epoch_source_is_refused(tmp_path: Path) -> None:
    """An epoch is read whole; a `since` there would be silently ignored, so it is an error."""
    cfg = _settings(tmp_path, '[[sources]]\nlist = "x"\nepochs = ["0.git"]\nsince = 2025-01-01\n')
    with pytest.raises(ConfigError, match="since applies to lore sources only"):
        load(str(cfg), {})


def test_a_missing_epoch_is_a_clear_error(tmp_path: Path) -> None:
    """A configured epoch path that does not exist names itself."""
    with pytest.raises(SourceError, match="no such directory"):
        build_source(SourceSettings("x", epochs=(tmp_path / "nope.git",)))


def test_a_policy_tree_without_url_watches_the_sections_t_git_tree(
        tmp_path: Path, kernel_maintainers: Path) -> None:
    """`[tree] branches` with no url takes the URL from the section's `T: git` in MAINTAINERS."""
    from reviewbot.wiring import configured_trees

    policies = tmp_path / "policies"
    policies.mkdir()
    (policies / "default.toml").write_text("")
    (policies / "rdma.toml").write_text('[subsystem]\nsections = ["INFINIBAND SUBSYSTEM"]\n\n'
                                        '[tree]\nbranches = ["for-next", "for-rc"]\n')
    cfg = _settings(tmp_path, f'maintainers = "{kernel_maintainers}"\n\n'
                              '[policy]\ndir = "policies"\n')
    trees = configured_trees(load(str(cfg), {}), {})
    assert [(t.source, t.branches, t.subsystem) for t in trees] == [
        ("git://git.kernel.org/pub/scm/linux/kernel/git/rdma/rdma.git",
         ("for-next", "for-rc"), "rdma")]


def test_a_policy_tree_from_t_needs_maintainers(tmp_path: Path) -> None:
    """Without MAINTAINERS there is no T: to read: a clear error, not a silently unwatched tree."""
    from reviewbot.wiring import configured_trees

    policies = tmp_path / "policies"
    policies.mkdir()
    (policies / "default.toml").write_text("")
    (policies / "rdma.toml").write_text('[subsystem]\nsections = ["INFINIBAND SUBSYSTEM"]\n\n'
                                        '[tree]\nbranches = ["for-next"]\n')
    cfg = _settings(tmp_path, '[policy]\ndir = "policies"\n')
    with pytest.raises(SourceError, match="no MAINTAINERS is configured"):
        configured_trees(load(str(cfg), {}), {})
