"""Applied detection end to end: real corpus patches, a real git tree, the CLI and the daemon.

The first 150 corpus messages are ingested; a tree built in tmp_path applies
some of their patches the way maintainers do (b4 with a Link:, a code edit
with a Link:, a code edit with nothing pointing back), leaves one series
half applied and one patch not applied at all.
"""

from __future__ import annotations

import asyncio
import email
import email.policy
import json
import os
import shutil
import subprocess
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest

from reviewbot.adapters.git.tree import GitTree
from reviewbot.adapters.sql import locks
from reviewbot.adapters.sql.series.queries import SqlBacklogReader
from reviewbot.adapters.sql.store import SqlStore, make_engine
from reviewbot.adapters.sql.trees.applied import SqlTrees
from reviewbot.adapters.system.systemd import Notifier
from reviewbot.cli import main
from reviewbot.core.backlog.events import commit_matches
from reviewbot.core.mail.parse import parse_message
from reviewbot.core.model import Message, MessageId, Series, SeriesId
from reviewbot.core.series.assemble import assemble
from reviewbot.daemon import Daemon, TreePoller
from tests.applied_build import CommitSpec, fast_import, parse_diff, tree_states
from tests.corpus import read_corpus
from tests.epochs import make_epoch
from tests.live import refresher
from tests.sqlfixtures import BACKENDS

pytestmark = pytest.mark.parametrize("db_url", BACKENDS, indirect=True)

N = 150
A = SeriesId("cover.1735817449.git.leon@kernel.org")  # 3 patches, all applied with b4
B = SeriesId("cover.1736258116.git.leonro@nvidia.com")  # 2 patches, only the first applied
C = SeriesId("20250104061519.2540178-1-kalesh-anakkur.purayil@broadcom.com")  # edited + Link:
D = SeriesId("20250105131421.29030-1-ynachum@amazon.com")  # edited, no link: fuzzy
E = SeriesId("20250106004516.16611-1-lizhijian@fujitsu.com")  # never applied


@dataclass
class Corpus:
    raws: dict[MessageId, bytes]
    messages: dict[MessageId, Message]
    series: dict[SeriesId, Series]
    epoch: Path

    def patches(self, sid: SeriesId) -> list[MessageId]:
        return [p.message_id for p in self.series[sid].patches]


@pytest.fixture(scope="module")
def corpus(corpus_git: Path, tmp_path_factory: pytest.TempPathFactory) -> Corpus:
    mails = read_corpus(corpus_git, limit=N)
    messages = [parse_message(m.raw) for m in mails]
    series = {s.series_id: s for s in assemble(messages).series}
    epoch = make_epoch(tmp_path_factory.mktemp("epoch") / "0.git", [m.raw for m in mails])
    return Corpus({m.message_id: r.raw for m, r in zip(messages, mails, strict=True)},
                  {m.message_id: m for m in messages}, series, epoch)


def _diff(raw: bytes) -> str:
    msg = email.message_from_bytes(raw, policy=email.policy.default)
    body = msg.get_body(preferencelist=("plain",))
    assert isinstance(body, email.message.EmailMessage)
    text = str(body.get_content()).replace("\r\n", "\n")
    return text[text.index("diff --git "):]


def _edit(diff: str) -> list[Any]:
    """The maintainer's fix-up: one added line in the first hunk that adds code."""
    files = parse_diff(diff)
    for f in files:
        for h in f.hunks:
            for i, line in enumerate(h.lines):
                if f.new_path and line.startswith("+") and line[1:].strip():
                    h.lines.insert(i + 1, "+/* fixed up while applying */")
                    return files
    raise AssertionError("no added line to edit")


def build_tree(repo: Path, corpus: Corpus, plan: list[tuple[MessageId, str]]) -> dict[str, str]:
    """One pre-image commit and one patch commit per planned posting; Message-ID -> sha."""
    specs: list[CommitSpec] = []
    for n, (mid, kind) in enumerate(plan):
        m = corpus.messages[mid]
        diff = _diff(corpus.raws[mid])
        files = _edit(diff) if kind.startswith("edited") else parse_diff(diff)
        base, change = tree_states(files, f"p{n}")
        when = int(m.date.timestamp())
        link = {"b4": f"Link: https://patch.msgid.link/{mid}",
                "edited+link": f"Link: https://lore.kernel.org/r/{mid}"}.get(kind, "")
        message = (f"{m.subject.title}\n\nApplied from the list.\n\n{link}\n"
                   "Signed-off-by: Leon Romanovsky <leon@kernel.org>\n")
        specs.append(CommitSpec(base, "Tree Builder <builder@example.org>", when, when,
                                f"Import pre-image {n}\n"))
        author = f"{m.author_name or m.from_name} <{m.author_email or m.from_email}>"
        specs.append(CommitSpec(change, author, when, when + 7200, message))
    marks = fast_import(repo, "main", specs)
    return {mid: marks[specs[2 * n + 1].mark] for n, (mid, _) in enumerate(plan)}


def the_plan(corpus: Corpus, *, with_b: bool = True) -> list[tuple[MessageId, str]]:
    plan = [(mid, "b4") for mid in corpus.patches(A)]
    if with_b:
        plan.append((corpus.patches(B)[0], "b4"))
    return [*plan, (corpus.patches(C)[0], "edited+link"), (corpus.patches(D)[0], "edited")]


def cli(capsys: pytest.CaptureFixture[str], *args: str) -> tuple[int, str, str]:
    code = main(list(args))
    out, err = capsys.readouterr()
    return code, out, err


def applied(capsys: pytest.CaptureFixture[str], db: str, sid: str) -> dict[str, Any]:
    code, out, err = cli(capsys, "--db", db, "applied", sid, "--json")
    assert code == 0, err
    return dict(json.loads(out))


def stored(db: str) -> list[tuple[Any, ...]]:
    engine = make_engine(db)
    try:
        with engine.connect() as conn:
            return sorted(tuple(r) for r in conn.exec_driver_sql(
                "SELECT tree, branch, sha, message_id, patch_idx, method, fuzzy FROM tree_applied"))
    finally:
        engine.dispose()


def matches(db: str) -> dict[SeriesId, list[Any]]:
    """Per series, the commits its replayed history now holds (as the standing saw them)."""
    engine = make_engine(db)
    try:
        reader = SqlBacklogReader(engine)
        with engine.connect() as conn:
            sids = conn.exec_driver_sql("SELECT series_id FROM series").scalars().all()
        out: dict[SeriesId, list[Any]] = {}
        for sid, h in reader.histories(sids).items():
            found = commit_matches(h.series, h.commits)
            if found:
                out[sid] = found
        return out
    finally:
        engine.dispose()


def config(tmp_path: Path, tree: str, *, epoch: Path | None = None,
           branches: str = '"main"') -> Path:
    cfg = tmp_path / "config.toml"
    source = f'[[sources]]\nlist = "linux-rdma"\nepochs = ["{epoch}"]\n\n' if epoch else ""
    key = "url" if "://" in tree else "path"
    cfg.write_text(f'{source}[[trees]]\n{key} = "{tree}"\nbranches = [{branches}]\n')
    return cfg


@pytest.fixture
def ingested(db_url: str, corpus: Corpus, capsys: pytest.CaptureFixture[str]) -> Iterator[str]:
    code, _, err = cli(capsys, "--db", db_url, "ingest", "--epoch", str(corpus.epoch),
                       "--list", "linux-rdma")
    assert code == 0, err
    yield db_url


def test_poll_records_which_commits_applied_which_patches(
        ingested: str, corpus: Corpus, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    """`trees poll --once` matches by patch-id, Link: and subject+author; records series state."""
    built = build_tree(tmp_path / "tree", corpus, the_plan(corpus))
    cfg = config(tmp_path, str(tmp_path / "tree"))
    code, out, err = cli(capsys, "--db", ingested, "--config", str(cfg), "trees", "poll", "--once")
    assert code == 0, err
    assert "12 new commits, 6 matched (6 new), 0 dropped" in out

    a = applied(capsys, ingested, A)
    assert a["state"] == "applied" and not a["fuzzy"]
    assert [[c["sha"] for c in p["commits"]] for p in a["patches"]] == \
        [[built[mid]] for mid in corpus.patches(A)]
    assert {c["method"] for p in a["patches"] for c in p["commits"]} == {"patch-id"}
    b = applied(capsys, ingested, corpus.patches(B)[1])  # any message of the series will do
    assert b["state"] == "partial"
    assert [len(p["commits"]) for p in b["patches"]] == [1, 0]
    c, d = applied(capsys, ingested, C), applied(capsys, ingested, D)
    assert (c["state"], c["patches"][0]["commits"][0]["method"]) == ("applied", "trailer")
    assert (d["state"], d["patches"][0]["commits"][0]["method"]) == ("applied", "subject+author")
    assert d["fuzzy"] and d["patches"][0]["commits"][0]["fuzzy"]
    assert applied(capsys, ingested, E)["state"] == "none"
    _, text, _ = cli(capsys, "--db", ingested, "applied", B)
    assert "partial: 1/2 patches" in text and "not applied" in text

    got = matches(ingested)
    assert set(got) == {A, B, C, D}
    assert [(m.sha, m.patches, m.branch) for m in got[A]] == \
        [(built[mid], (i,), "main") for i, mid in enumerate(corpus.patches(A), 1)]
    assert [m.patches for m in got[B]] == [(1,)]
    when = corpus.messages[corpus.patches(C)[0]].date
    assert got[C][0].at == when.replace(microsecond=0) + timedelta(hours=2)  # commit date


def test_polling_again_changes_nothing(
        ingested: str, corpus: Corpus, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    """A second poll lists no commits; a --rescan lists them all again but stores nothing new."""
    build_tree(tmp_path / "tree", corpus, the_plan(corpus))
    cfg = str(config(tmp_path, str(tmp_path / "tree")))
    assert cli(capsys, "--db", ingested, "--config", cfg, "trees", "poll", "--once")[0] == 0
    before, before_matches = stored(ingested), matches(ingested)
    _, out, _ = cli(capsys, "--db", ingested, "--config", cfg, "trees", "poll", "--once")
    assert "0 new commits, 0 matched (0 new)" in out
    _, out, _ = cli(capsys, "--db", ingested, "--config", cfg, "trees", "poll", "--rescan")
    assert "12 new commits, 6 matched (0 new)" in out
    assert stored(ingested) == before and matches(ingested) == before_matches


def test_a_commit_reaching_a_second_branch_is_counted_once(
        ingested: str, corpus: Corpus, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    """for-next appearing with the commits main already had adds no match and no CommitMatch."""
    repo = tmp_path / "tree"
    build_tree(repo, corpus, the_plan(corpus))
    cfg = str(config(tmp_path, str(repo), branches='"main", "for-next"'))
    _, out, _ = cli(capsys, "--db", ingested, "--config", cfg, "trees", "poll", "--once")
    assert "warning: branch for-next not found" in out
    before, before_matches = stored(ingested), matches(ingested)
    subprocess.run(["git", "-C", str(repo), "branch", "for-next", "main"], check=True)
    _, out, _ = cli(capsys, "--db", ingested, "--config", cfg, "trees", "poll", "--once")
    assert "12 new commits, 6 matched (0 new)" in out
    assert stored(ingested) == before and matches(ingested) == before_matches
    assert {row[1] for row in before} == {"main"}


def test_a_force_pushed_branch_drops_the_commits_it_lost(
        ingested: str, corpus: Corpus, tmp_path: Path, capsys: pytest.CaptureFixture[str],
        monkeypatch: pytest.MonkeyPatch) -> None:
    """Upstream rebuilt without B's patch: B is no longer applied, C and D move to new shas."""
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "cache"))
    upstream = tmp_path / "upstream"
    first = build_tree(upstream, corpus, the_plan(corpus))
    cfg = str(config(tmp_path, f"file://{upstream}"))
    assert cli(capsys, "--db", ingested, "--config", cfg, "trees", "poll", "--once")[0] == 0
    assert applied(capsys, ingested, B)["state"] == "partial"
    shutil.rmtree(upstream)
    (tmp_path / "upstream.marks").unlink()
    second = build_tree(upstream, corpus, the_plan(corpus, with_b=False))
    assert [second[m] for m in corpus.patches(A)] == [first[m] for m in corpus.patches(A)]

    code, out, err = cli(capsys, "--db", ingested, "--config", cfg, "trees", "poll", "--once")
    assert code == 0, err
    assert "was rewound" in out
    assert "4 new commits, 2 matched (2 new), 3 dropped" in out
    assert applied(capsys, ingested, B)["state"] == "none"
    got = matches(ingested)
    assert set(got) == {A, C, D}
    assert got[C][0].sha == second[corpus.patches(C)[0]] != first[corpus.patches(C)[0]]
    assert len(stored(ingested)) == 5


def test_run_once_polls_the_trees_after_the_sources(
        db_url: str, corpus: Corpus, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    """The daemon's one-shot round ingests the list, then matches the tree against it."""
    build_tree(tmp_path / "tree", corpus, the_plan(corpus))
    cfg = str(config(tmp_path, str(tmp_path / "tree"), epoch=corpus.epoch))
    code, _, err = cli(capsys, "--db", db_url, "--config", cfg, "run", "--once")
    assert code == 0, err
    assert applied(capsys, db_url, A)["state"] == "applied"
    assert set(matches(db_url)) == {A, B, C, D}


def test_a_broken_tree_fails_its_poll_but_not_the_daemon(
        db_url: str, corpus: Corpus, tmp_path: Path, capsys: pytest.CaptureFixture[str],
        caplog: pytest.LogCaptureFixture) -> None:
    """A configured tree that is no git repository: run --once exits 1, the list is ingested."""
    (tmp_path / "not-git").mkdir()
    cfg = str(config(tmp_path, str(tmp_path / "not-git"), epoch=corpus.epoch))
    assert cli(capsys, "--db", db_url, "--config", cfg, "run", "--once")[0] == 1
    assert "not-git is not a git repository" in caplog.text
    _, out, _ = cli(capsys, "--db", db_url, "stats", "--json")
    assert json.loads(out)["messages"] == N


def test_tree_settings_are_checked(db_url: str, tmp_path: Path,
                                   capsys: pytest.CaptureFixture[str]) -> None:
    """A [[trees]] entry without branches, or a missing path, is refused with the reason."""
    cfg = tmp_path / "bad.toml"
    cfg.write_text('[[trees]]\npath = "x"\n')
    code, _, err = cli(capsys, "--db", db_url, "--config", str(cfg), "trees", "poll", "--once")
    assert code == 1 and "branches must be a non-empty list" in err
    cfg.write_text(f'[[trees]]\npath = "{tmp_path / "nowhere"}"\nbranches = ["main"]\n')
    code, _, err = cli(capsys, "--db", db_url, "--config", str(cfg), "trees", "poll", "--once")
    assert code == 1 and "no such directory" in err


def test_the_policies_trees_are_polled_too(
        ingested: str, corpus: Corpus, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    """A policy's [tree] url and branches are watched without any [[trees]] entry."""
    repo = tmp_path / "tree"
    build_tree(repo, corpus, the_plan(corpus))
    policies = tmp_path / "policies"
    shutil.copytree(Path(__file__).resolve().parents[1] / "policies", policies)
    rdma = policies / "infiniband.toml"
    text = rdma.read_text()
    start = text.index("[tree]")
    end = text.index("\n[", start + 1)
    rdma.write_text(f'{text[:start]}[tree]\nurl = "{repo}"\nbranches = ["main"]\n{text[end:]}')
    cfg = tmp_path / "config.toml"
    cfg.write_text(f'[policy]\ndir = "{policies}"\n')
    code, out, err = cli(capsys, "--db", ingested, "--config", str(cfg), "trees", "poll", "--once")
    assert code == 0, err
    assert f"{repo}: 12 new commits, 6 matched" in out


def test_a_tree_locked_elsewhere_is_refused_with_no_wait(
        ingested: str, corpus: Corpus, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    """Another reviewbot polling the same tree holds its lock: with --no-wait this poll
    exits 75 (EX_TEMPFAIL) saying so, and stores nothing."""
    repo = tmp_path / "tree"
    build_tree(repo, corpus, the_plan(corpus))
    cfg = str(config(tmp_path, str(repo)))
    engine = make_engine(ingested)
    other = locks.for_engine(engine)
    assert other.try_acquire(f"tree:{repo}")
    try:
        code, _, err = cli(capsys, "--db", ingested, "--config", cfg, "trees", "poll", "--once",
                           "--no-wait")
    finally:
        other.release(f"tree:{repo}")
        engine.dispose()
    assert code == 75
    holder = f" (pid {os.getpid()})" if ingested.startswith("sqlite") else ""  # lock files
    assert err == (f"reviewbot: error: tree:{repo} is being written by another reviewbot"
                   f"{holder}, a daemon or another command; try again later, or leave out "
                   "--no-wait to wait for it\n")
    assert stored(ingested) == []


class _Counting:
    """A Tree that stops the daemon at its `stop_at`th poll."""

    def __init__(self, tree: GitTree, daemon: list[Daemon], stop_at: int = 2) -> None:
        self.tree, self.daemon, self.polls, self.stop_at = tree, daemon, 0, stop_at
        self.source, self.branches = tree.source, tree.branches

    def poll(self, tips: Any) -> Any:
        self.polls += 1
        if self.polls == self.stop_at:
            self.daemon[0].stop()
        return self.tree.poll(tips)

    def contains(self, branch: str, sha: str) -> bool:
        return self.tree.contains(branch, sha)


def test_tree_loops_poll_on_their_interval_and_stop_cleanly(
        ingested: str, corpus: Corpus, tmp_path: Path) -> None:
    """In serving mode each tree has its own loop; stop() ends it after the current poll."""
    repo = tmp_path / "tree"
    build_tree(repo, corpus, the_plan(corpus))
    store = SqlStore(make_engine(ingested))
    holder: list[Daemon] = []
    tree = _Counting(GitTree(str(repo), ("main",)), holder)
    holder.append(Daemon(store, [], locks.for_engine(store.engine), Notifier({}),
                         tree_pollers=[TreePoller(tree, interval=0.01)],
                         trees=SqlTrees(store.engine), refresher=refresher(store)))
    try:
        assert asyncio.run(asyncio.wait_for(holder[0].run(), 60)) == 0
    finally:
        store.engine.dispose()
    reports = [r.tree_report for r in holder[0].results]
    assert tree.polls == 2
    assert [(r.commits, r.added) for r in reports if r is not None] == [(12, 6), (0, 0)]


def test_serving_polls_a_tree_once_every_list_caught_up(
        db_url: str, corpus: Corpus, tmp_path: Path) -> None:
    """A fresh daemon's first tree poll waits for the lists' first poll, so its commits match."""
    from reviewbot.adapters.sources.epoch import EpochSource
    from reviewbot.daemon import Poller

    repo = tmp_path / "tree"
    build_tree(repo, corpus, the_plan(corpus))
    store = SqlStore(make_engine(db_url))
    holder: list[Daemon] = []
    tree = _Counting(GitTree(str(repo), ("main",)), holder, stop_at=1)
    lists = [Poller("linux-rdma", EpochSource("linux-rdma", [corpus.epoch]), 3600)]
    holder.append(Daemon(store, lists, locks.for_engine(store.engine), Notifier({}),
                         tree_pollers=[TreePoller(tree, interval=0.01)],
                         trees=SqlTrees(store.engine), refresher=refresher(store)))
    try:
        assert asyncio.run(asyncio.wait_for(holder[0].run(), 60)) == 0
    finally:
        store.engine.dispose()
    ingest, trees = holder[0].results
    assert ingest.report is not None and ingest.report.new == N
    assert trees.tree_report is not None and trees.tree_report.added == 6
