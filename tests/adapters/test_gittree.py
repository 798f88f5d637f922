"""adapters.gittree against real git repositories built in tmp_path."""

from __future__ import annotations

import os
import stat
import subprocess
from datetime import UTC, datetime
from pathlib import Path

import pytest

from reviewbot.adapters.git.tree import GitTree

ENV = {
    **os.environ,
    "GIT_CONFIG_GLOBAL": os.devnull,
    "GIT_CONFIG_NOSYSTEM": "1",
    "GIT_COMMITTER_NAME": "Maint Ainer",
    "GIT_COMMITTER_EMAIL": "maint@kernel.org",
    "GIT_AUTHOR_NAME": "Dev Eloper",
    "GIT_AUTHOR_EMAIL": "dev@example.org",
}


class Repo:
    """A work tree we commit to with plain git commands."""

    def __init__(self, path: Path, branch: str = "main") -> None:
        self.path = path
        self.n = 0
        path.mkdir(parents=True, exist_ok=True)
        self.git("init", "-q", "-b", branch)

    def git(self, *args: str) -> str:
        return subprocess.run(["git", "-C", str(self.path), *args], env=ENV, check=True,
                              capture_output=True, text=True).stdout.strip()

    def commit(self, subject: str, body: str = "", path: str = "drivers/x.c",
               author: str = "Dev Eloper <Dev@Example.org>", when: str = "") -> str:
        self.n += 1
        f = self.path / path
        f.parent.mkdir(parents=True, exist_ok=True)
        with f.open("a") as fh:
            fh.write(f"line {self.n}\n")
        self.git("add", "-A")
        date = when or f"2025-03-{self.n:02d}T10:00:00+02:00"
        env_date = ["-c", "user.name=x", "-c", "user.email=x@x"]
        subprocess.run(
            ["git", "-C", str(self.path), *env_date, "commit", "-q", "--author", author,
             "--date", date, "-m", subject + ("\n\n" + body if body else "")],
            env={**ENV, "GIT_COMMITTER_DATE": date}, check=True,
        )
        return self.git("rev-parse", "HEAD")

    def patch_id(self, sha: str) -> str:
        show = subprocess.run(["git", "-C", str(self.path), "show", sha], env=ENV,
                              capture_output=True, check=True).stdout
        out = subprocess.run(["git", "patch-id", "--stable"], input=show,
                             capture_output=True, check=True).stdout.decode()
        return out.split()[0]


@pytest.fixture
def repo(tmp_path: Path) -> Repo:
    return Repo(tmp_path / "tree")


def watch(repo: Repo, *branches: str, **kw: object) -> GitTree:
    tree = GitTree(str(repo.path), branches or ("main",), **kw)  # type: ignore[arg-type]
    tree.sync()
    return tree


class TestCommitRecords:
    def test_first_look_lists_commits_oldest_first_with_their_facts(self, repo: Repo) -> None:
        """sha, subject, author, dates, Link:/Message-ID: trailers, files and patch-id."""
        a = repo.commit("RDMA/x: first", path="drivers/a.c")
        b = repo.commit(
            "RDMA/x: second",
            "Why.\n\nReviewed-by: R <r@x.org>\nLink: https://patch.msgid.link/p2@x.org\n"
            "Message-ID: <p2@x.org>\nSigned-off-by: Maint Ainer <maint@kernel.org>",
            path="include/b.h", when="2025-04-02T09:30:00+02:00",
        )
        up = watch(repo).new_commits({})
        assert [c.sha for c in up.commits] == [a, b]
        c = up.commits[1]
        assert (c.subject, c.author_name, c.author_email) == \
            ("RDMA/x: second", "Dev Eloper", "dev@example.org")
        assert c.author_date == datetime(2025, 4, 2, 7, 30, tzinfo=UTC)
        assert c.commit_date == datetime(2025, 4, 2, 7, 30, tzinfo=UTC)
        assert c.trailers == ("Link: https://patch.msgid.link/p2@x.org", "Message-ID: <p2@x.org>")
        assert c.files == ("include/b.h",)
        assert c.patch_id == repo.patch_id(b)
        assert c.branches == ("main",)
        assert up.tips == {"main": b}

    def test_renames_report_both_paths(self, repo: Repo) -> None:
        """A rename touches the old and the new path."""
        repo.commit("base", path="old/name.c")
        (repo.path / "new").mkdir()
        repo.git("mv", "old/name.c", "new/name.c")
        sha = repo.commit("move", path="new/name.c")
        [c] = watch(repo).new_commits({"main": repo.git("rev-parse", "HEAD~1")}).commits
        assert c.sha == sha and set(c.files) == {"old/name.c", "new/name.c"}

    def test_merge_commits_are_skipped(self, repo: Repo) -> None:
        """A merge applies no patch of its own."""
        base = repo.commit("base")
        repo.git("checkout", "-q", "-b", "topic")
        topic = repo.commit("topic work", path="t.c")
        repo.git("checkout", "-q", "main")
        main = repo.commit("main work", path="m.c")
        repo.git("-c", "user.name=x", "-c", "user.email=x@x", "merge", "-q", "--no-ff",
                 "-m", "Merge topic", "topic")
        up = watch(repo).new_commits({"main": base})
        assert sorted(c.sha for c in up.commits) == sorted([topic, main])


class TestIncremental:
    def test_only_commits_after_the_remembered_tip(self, repo: Repo) -> None:
        """The second look lists what came after the tip the first returned."""
        tree = watch(repo)
        repo.commit("one")
        first = tree.new_commits({})
        two, three = repo.commit("two"), repo.commit("three")
        second = tree.new_commits(first.tips)
        assert [c.sha for c in second.commits] == [two, three]
        assert tree.new_commits(second.tips).commits == ()

    def test_rewound_branch_resumes_from_merge_base_and_warns(
        self, repo: Repo, caplog: pytest.LogCaptureFixture
    ) -> None:
        """Force-pushed: dropped commits are not listed, the rewritten ones are, with a warning."""
        base = repo.commit("base")
        repo.commit("dropped one")
        old_tip = repo.commit("dropped two")
        repo.git("reset", "-q", "--hard", base)
        new1, new2 = repo.commit("rewritten one", path="r.c"), repo.commit("rewritten two")
        up = watch(repo).new_commits({"main": old_tip})
        assert [c.sha for c in up.commits] == [new1, new2]
        assert up.tips == {"main": new2}
        assert len(up.warnings) == 1 and "rewound" in up.warnings[0] and base[:12] in up.warnings[0]
        assert "rewound" in caplog.text

    def test_first_look_is_bounded(self, repo: Repo) -> None:
        """A tree seen for the first time yields at most first_max_count newest commits."""
        shas = [repo.commit(f"c{i}") for i in range(5)]
        up = watch(repo, first_max_count=2).new_commits({})
        assert [c.sha for c in up.commits] == shas[-2:]


class TestBranches:
    def test_several_branches_each_commit_once(self, repo: Repo) -> None:
        """A commit on for-next and for-rc is listed once, naming both branches."""
        shared = repo.commit("shared fix")
        repo.git("branch", "for-rc")
        nxt = repo.commit("next feature")
        repo.git("checkout", "-q", "for-rc")
        rc = repo.commit("rc fix", path="rc.c")
        up = watch(repo, "main", "for-rc").new_commits({})
        by_sha = {c.sha: c.branches for c in up.commits}
        assert by_sha == {shared: ("main", "for-rc"), nxt: ("main",), rc: ("for-rc",)}
        assert up.tips == {"main": nxt, "for-rc": rc}

    def test_missing_branch_warns_and_keeps_the_others(self, repo: Repo) -> None:
        """A configured branch that is gone yields a warning, not an error."""
        sha = repo.commit("one")
        up = watch(repo, "main", "for-rc").new_commits({"for-rc": "ab" * 20})
        assert [c.sha for c in up.commits] == [sha]
        assert up.tips == {"main": sha, "for-rc": "ab" * 20}
        assert any("for-rc" in w for w in up.warnings)

    def test_local_clone_remote_tracking_branch(self, repo: Repo, tmp_path: Path) -> None:
        """In a local clone, "origin/main" names the remote-tracking branch."""
        sha = repo.commit("upstream")
        subprocess.run(["git", "clone", "-q", str(repo.path), str(tmp_path / "clone")],
                       env=ENV, check=True)
        tree = GitTree(str(tmp_path / "clone"), ("origin/main",))
        tree.sync()
        assert [c.sha for c in tree.new_commits({}).commits] == [sha]


class TestRemote:
    def test_url_is_cloned_into_cache_then_fetched(self, repo: Repo, tmp_path: Path) -> None:
        """file:// URL: first sync clones into the cache, later syncs fetch new and rewound work."""
        bare = tmp_path / "pub.git"
        repo.commit("one")
        subprocess.run(["git", "clone", "-q", "--bare", str(repo.path), str(bare)],
                       env=ENV, check=True)
        cache = tmp_path / "cache"
        tree = GitTree(f"file://{bare}", ("main",), cache_dir=cache)
        tree.sync()
        assert tree.git_dir.parent == cache
        first = tree.new_commits({})
        assert [c.subject for c in first.commits] == ["one"]

        two = repo.commit("two")
        repo.git("push", "-q", str(bare), "main")
        second = tree.poll(first.tips)  # the daemon's round: fetch, then list
        assert [c.sha for c in second.commits] == [two]

        repo.git("reset", "-q", "--hard", "HEAD~1")
        redo = repo.commit("two, redone", path="y.c")
        repo.git("push", "-q", "--force", str(bare), "main")
        tree.sync()
        third = tree.new_commits(second.tips)
        assert [c.sha for c in third.commits] == [redo]
        assert third.warnings and "rewound" in third.warnings[0]

    def test_one_log_and_one_patch_id_process_per_listing(
        self, repo: Repo, tmp_path: Path
    ) -> None:
        """However many commits are new, one `git log -p` and one `git patch-id` run."""
        for i in range(6):
            repo.commit(f"c{i}", path=f"f{i}.c")
        calls = tmp_path / "calls"
        wrapper = tmp_path / "git-wrapper"
        wrapper.write_text(f'#!/bin/sh\necho "$@" >> {calls}\nexec git "$@"\n')
        wrapper.chmod(wrapper.stat().st_mode | stat.S_IEXEC)
        tree = GitTree(str(repo.path), ("main",), git=str(wrapper))
        tree.sync()
        up = tree.new_commits({})
        lines = calls.read_text().splitlines()
        assert len(up.commits) == 6 and all(c.patch_id for c in up.commits)
        assert sum(" log " in f" {x} " for x in lines) == 1
        assert sum(" patch-id " in f" {x} " for x in lines) == 1


class TestPatchIdSurvivesMaintainerEdits:
    def test_reword_trailers_and_whitespace_keep_the_patch_id(self, repo: Repo) -> None:
        """The same change, reworded, with trailers and re-indented, has the same patch-id;
        on a tree whose context moved it does not."""
        src = repo.path / "y.c"

        def apply(branch: str, start: str, text: str, message: str) -> str:
            repo.git("checkout", "-q", "-b", branch, start)
            src.write_text(text)
            repo.git("add", "-A")
            repo.git("commit", "-q", "-m", message)
            return repo.git("rev-parse", "HEAD")

        src.write_text("int a;\nint b;\nint c;\n")
        repo.git("add", "-A")
        repo.git("commit", "-q", "-m", "base")
        base = repo.git("rev-parse", "HEAD")
        moved = apply("moved", base, "int A;\nint b;\nint c;\n", "upstream change")
        posted = apply("posted", base, "int a;\nint b = 1;\nint c;\n", "x: set b")
        edited = apply("edited", base, "int a;\nint  b =  1;\nint c;\n",
                       "x: Set b\n\nReworded.\n\nReviewed-by: R <r@x.org>\nLink: https://x/y")
        rebased = apply("rebased", moved, "int A;\nint b = 1;\nint c;\n", "x: set b")
        up = watch(repo, "posted", "edited", "rebased").new_commits(
            {"posted": base, "edited": base, "rebased": moved})
        pid = {c.sha: c.patch_id for c in up.commits}
        assert pid[posted] == pid[edited] == repo.patch_id(posted)
        assert pid[rebased] != pid[posted]
