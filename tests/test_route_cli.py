"""`reviewbot route` and where MAINTAINERS comes from (file, tree, git; reloads)."""

from __future__ import annotations

import json
import os
import subprocess
from pathlib import Path

import pytest

from reviewbot.adapters.kernel.maintainers_file import MaintainersSource, MaintainersWatch
from reviewbot.cli import main
from reviewbot.core.maintainers.sections import MaintainersError
from tests.conftest import DATA

PATCH = """\
From: Dev <dev@example.org>
Subject: [PATCH] RDMA/cma: fix a thing

Signed-off-by: Dev <dev@example.org>
---
diff --git a/drivers/infiniband/core/cma.c b/drivers/infiniband/core/cma.c
index 1111111..2222222 100644
--- a/drivers/infiniband/core/cma.c
+++ b/drivers/infiniband/core/cma.c
@@ -1,3 +1,3 @@
 a
-b
+c
"""

NET_PATCH = PATCH.replace("drivers/infiniband/core/cma.c", "drivers/net/ethernet/foo/x.c")

SMALL = """\
ALPHA
M:\tAl Alpha <al@example.org>
L:\talpha@lists.example.org
S:\tMaintained
T:\tgit git://example.org/alpha.git
F:\tlib/alpha

THE REST
M:\tLinus Torvalds <torvalds@linux-foundation.org>
L:\tlinux-kernel@vger.kernel.org
S:\tBuried alive in reporters
F:\t*
F:\t*/
"""


def small_patch(path: str) -> str:
    return f"diff --git a/{path} b/{path}\n--- a/{path}\n+++ b/{path}\n@@ -1 +1 @@\n-a\n+b\n"


@pytest.fixture
def patch_file(tmp_path: Path) -> Path:
    p = tmp_path / "0001.patch"
    p.write_text(PATCH)
    return p


@pytest.fixture(autouse=True)
def no_env(monkeypatch: pytest.MonkeyPatch) -> None:
    for var in ("REVIEWBOT_MAINTAINERS", "REVIEWBOT_CONFIG"):
        monkeypatch.delenv(var, raising=False)


def test_get_maintainer_format_prints_one_address_per_line(
        kernel_maintainers: Path, patch_file: Path, capsys: pytest.CaptureFixture[str]) -> None:
    """With the kernel's .mailmap lines, the output is get_maintainer.pl's for cma.c."""
    rc = main(["route", "--maintainers", str(kernel_maintainers), "--mailmap",
               str(DATA / "get_maintainer" / "mailmap"), "--format=get_maintainer",
               str(patch_file)])
    assert rc == 0
    assert capsys.readouterr().out.splitlines() == [
        "Jason Gunthorpe <jgg@ziepe.ca>", "Leon Romanovsky <leon@kernel.org>",
        "linux-rdma@vger.kernel.org", "linux-kernel@vger.kernel.org"]


def test_without_mailmap_the_maintainers_addresses_are_printed(
        kernel_maintainers: Path, patch_file: Path, capsys: pytest.CaptureFixture[str]) -> None:
    """A bare MAINTAINERS file has no .mailmap: addresses stay as MAINTAINERS has them."""
    assert main(["route", "--maintainers", str(kernel_maintainers), "--format=get_maintainer",
                 str(patch_file)]) == 0
    assert "Jason Gunthorpe <jgg@nvidia.com>" in capsys.readouterr().out.splitlines()


def test_json_names_sections_taker_and_lists(
        kernel_maintainers: Path, tmp_path: Path, patch_file: Path,
        capsys: pytest.CaptureFixture[str]) -> None:
    """A two-patch series touching RDMA and netdev shows both; each file votes once."""
    net = tmp_path / "0002.patch"
    net.write_text(NET_PATCH)
    assert main(["route", "--maintainers", str(kernel_maintainers), "--json",
                 str(patch_file), str(net)]) == 0
    out = json.loads(capsys.readouterr().out)
    assert out["files"] == ["drivers/infiniband/core/cma.c", "drivers/net/ethernet/foo/x.c"]
    names = [s["name"] for s in out["sections"]]
    assert names == ["INFINIBAND SUBSYSTEM", "THE REST", "NETWORKING DRIVERS"]
    ib = out["sections"][0]
    assert ib["lists"] == ["linux-rdma@vger.kernel.org"]
    assert ib["status"] == "Supported" and ib["depth"] == 2
    assert ib["trees"] == ["git git://git.kernel.org/pub/scm/linux/kernel/git/rdma/rdma.git"]
    assert out["expected_taker"]["section"] == "INFINIBAND SUBSYSTEM"
    assert out["expected_taker"]["votes"] == [
        {"section": "INFINIBAND SUBSYSTEM", "files": 1},
        {"section": "NETWORKING DRIVERS", "files": 1}]
    assert out["unowned_files"] == []


def test_text_output_names_the_taker(
        kernel_maintainers: Path, patch_file: Path, capsys: pytest.CaptureFixture[str]) -> None:
    """The default text lists the expected taker and each section's people."""
    assert main(["route", "--maintainers", str(kernel_maintainers), str(patch_file)]) == 0
    out = capsys.readouterr().out
    assert "expected to take: INFINIBAND SUBSYSTEM" in out
    assert "  maintainer: Leon Romanovsky <leonro@nvidia.com>" in out


def test_environment_names_the_maintainers_file(
        kernel_maintainers: Path, patch_file: Path, monkeypatch: pytest.MonkeyPatch,
        capsys: pytest.CaptureFixture[str]) -> None:
    """$REVIEWBOT_MAINTAINERS is used when --maintainers is not given."""
    monkeypatch.setenv("REVIEWBOT_MAINTAINERS", str(kernel_maintainers))
    assert main(["route", "--format=get_maintainer", str(patch_file)]) == 0
    assert "linux-rdma@vger.kernel.org" in capsys.readouterr().out


def test_missing_maintainers_is_a_clear_error(
        patch_file: Path, capsys: pytest.CaptureFixture[str]) -> None:
    """No --maintainers and nothing configured: say how to give one."""
    assert main(["route", str(patch_file)]) == 1
    assert "pass --maintainers PATH" in capsys.readouterr().err


def test_missing_patch_and_non_patch_are_errors(
        kernel_maintainers: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    """A file that is not there, or holds no diff, is refused with its name."""
    assert main(["route", "--maintainers", str(kernel_maintainers),
                 str(tmp_path / "nope.patch")]) == 1
    assert "nope.patch" in capsys.readouterr().err
    letter = tmp_path / "cover.txt"
    letter.write_text("Subject: [PATCH 0/2] cover\n\nhello\n")
    assert main(["route", "--maintainers", str(kernel_maintainers), str(letter)]) == 1
    assert "does not look like a patch" in capsys.readouterr().err


def test_kernel_tree_supplies_mailmap_and_directories(tmp_path: Path) -> None:
    """In a tree, lib/alpha is a file (no directory), and .mailmap rewrites addresses."""
    (tmp_path / "MAINTAINERS").write_text(SMALL)
    (tmp_path / ".mailmap").write_text("Al New <al@new.example.org> <al@example.org>\n")
    (tmp_path / "lib").mkdir()
    loaded = MaintainersSource.from_path(tmp_path).load()
    idx = loaded.index
    assert [idx.sections[s].name for s, _ in idx.file_sections("lib/alpha/x.c")] == ["THE REST"]
    assert loaded.mailmap is not None
    assert loaded.mailmap.canonical("Al Alpha <al@example.org>") == "Al New <al@new.example.org>"
    (tmp_path / "lib" / "alpha").mkdir()
    idx = MaintainersSource.from_path(tmp_path).load().index
    assert [idx.sections[s].name for s, _ in idx.file_sections("lib/alpha/x.c")] == [
        "ALPHA", "THE REST"]


def git(repo: Path, *args: str) -> str:
    env = {**os.environ, "GIT_AUTHOR_NAME": "t", "GIT_AUTHOR_EMAIL": "t@x",
           "GIT_COMMITTER_NAME": "t", "GIT_COMMITTER_EMAIL": "t@x"}
    return subprocess.run(["git", "-C", str(repo), *args], check=True, capture_output=True,
                          text=True, env=env).stdout


def test_git_repository_is_read_at_a_ref_and_reloaded_on_new_commits(tmp_path: Path) -> None:
    """A bare kernel repository: MAINTAINERS from HEAD; a new commit triggers a reload."""
    work = tmp_path / "work"
    work.mkdir()
    git(work, "init", "-q")
    (work / "MAINTAINERS").write_text(SMALL)
    (work / "lib" / "alpha").mkdir(parents=True)
    (work / "lib" / "alpha" / "a.c").write_text("x\n")
    git(work, "add", ".")
    git(work, "commit", "-q", "-m", "one")
    bare = tmp_path / "linux.git"
    subprocess.run(["git", "clone", "-q", "--bare", str(work), str(bare)], check=True)
    watch = MaintainersWatch(MaintainersSource.from_path(bare))
    first = watch.current()
    assert first.origin.startswith(f"git {bare}@HEAD")
    assert [s.name for s in first.index.sections] == ["ALPHA", "THE REST"]
    assert watch.current() is first  # unchanged: no reload
    (work / "MAINTAINERS").write_text(SMALL.replace("ALPHA", "BETA"))
    git(work, "commit", "-q", "-am", "two")
    git(work, "push", "-q", str(bare), "HEAD:" + git(bare, "symbolic-ref", "HEAD").strip())
    assert [s.name for s in watch.current().index.sections] == ["BETA", "THE REST"]


def test_a_changed_file_is_reloaded_and_a_broken_one_keeps_the_last_good(tmp_path: Path) -> None:
    """mtime/size change means reload; an unusable edit keeps the old copy and says why."""
    f = tmp_path / "MAINTAINERS"
    f.write_text(SMALL)
    watch = MaintainersWatch(MaintainersSource.from_path(f))
    assert watch.current().index.sections[0].name == "ALPHA"
    f.write_text(SMALL.replace("ALPHA", "GAMMA") + "\n")
    assert watch.current().index.sections[0].name == "GAMMA"
    f.write_text("no sections here\n")
    assert watch.current().index.sections[0].name == "GAMMA"
    assert watch.last_error is not None and "no MAINTAINERS sections" in watch.last_error


def test_a_directory_that_is_not_a_kernel_tree_is_refused(tmp_path: Path) -> None:
    """Neither MAINTAINERS nor a git repository inside: a clear error."""
    with pytest.raises(MaintainersError, match="without MAINTAINERS"):
        MaintainersSource.from_path(tmp_path)


def test_tree_yaml_files_add_the_addresses_they_name(
        tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    """From a kernel tree, a touched .yaml binding's `maintainers:` are printed too."""
    tree = tmp_path / "linux"
    (tree / "lib" / "alpha").mkdir(parents=True)
    (tree / "MAINTAINERS").write_text(SMALL)
    (tree / "lib" / "alpha" / "b.yaml").write_text("maintainers:\n  - Bo Binding <bo@x.org>\n")
    patch = tmp_path / "p.patch"
    patch.write_text(small_patch("lib/alpha/b.yaml"))
    assert main(["route", "--maintainers", str(tree), "--format=get_maintainer",
                 str(patch)]) == 0
    assert capsys.readouterr().out.splitlines() == [
        "Al Alpha <al@example.org>", "Bo Binding <bo@x.org>", "alpha@lists.example.org",
        "linux-kernel@vger.kernel.org"]
