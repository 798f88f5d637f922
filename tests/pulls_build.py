"""Real git repositories for the pull-request, cycle and debt tests (pytest plugin).

Built once per session in a temporary directory, from real corpus patches:

- `linux`: a mainline-like history. One commit holds the pre-image of every file
  the chosen patches touch (tests/applied_build.py synthesises them from the
  hunks), then "Linux 6.15", the 6.16 rcs and release, each an annotated tag
  on its real date. Two corpus patches land upstream after -rc1 (`git am`; one
  edited on the way, so only subject and author match).
- `rdma`: a maintainer's clone. `for-next` (on v6.16-rc1) holds four reviewed
  tracked series applied with `git am -s`; `rdma-for-6.17` is a tag signed
  with a GPG key made here, pushed with the branch to `rdma-public.git`;
  `linux-next` merges for-next. `bad` (on an untagged mainline commit) holds
  a NAKed patch, an unreviewed patch, a superseded revision touching
  include/uapi applied without the maintainer's Signed-off-by, a patch with a Fixes: tag naming a
  commit this history lacks and touching mlx5 core files nobody acked, and
  the maintainer's own unposted commit, all committed in a last-minute rush;
  its tag `rdma-bad` is signed by a key whose public half is gone, and never
  pushed. `rdma-unsigned` is an annotated tag without signature.
- `vendor`: a downstream clone whose `ofed` branch mixes upstreamed, applied,
  posted (waiting on reviewers, on the author, expired) and never-posted
  commits, some committed before their posting.

The corpus is ingested into one SQLite template database (via the CLI), and
`trees poll` records what `for-next` applied; tests copy the template.
"""

from __future__ import annotations

import email
import email.policy
import os
import shutil
import subprocess
from collections.abc import Iterator
from dataclasses import dataclass
from email.message import EmailMessage
from pathlib import Path

import pytest

from reviewbot.adapters.sql.store import make_engine
from reviewbot.cli import main
from tests.applied_build import parse_diff, tree_states
from tests.conftest import KERNEL_MAINTAINERS
from tests.corpus import read_corpus

# The series each branch takes (Message-IDs of the patches, as posted).
GOOD = {  # for-next: reviewed by people other than their authors, no Fixes:
    "1749559717-3424-1-git-send-email-kotaranov@linux.microsoft.com": "2025-06-12T10:00:00+00:00",
    "20250611162758.10000-1-dskmtsd@gmail.com": "2025-06-13T10:00:00+00:00",  # rxe v3
    "20250620114332.4072051-1-arnd@kernel.org": "2025-06-23T10:00:00+00:00",
    "20250704043857.19158-2-kalesh-anakkur.purayil@broadcom.com": "2025-07-07T10:00:00+00:00",
    "20250704043857.19158-3-kalesh-anakkur.purayil@broadcom.com": "2025-07-07T10:05:00+00:00",
    "20250704043857.19158-4-kalesh-anakkur.purayil@broadcom.com": "2025-07-07T10:10:00+00:00",
}
NAKED = "8-v5-642aa0c94070+4447f-fwctl_jgg@nvidia.com"  # Jakub NAKed fwctl
SUPERSEDED = "20250515145040.6862-1-mrgolin@amazon.com"  # EFA CQ v1, touches include/uapi
UNREVIEWED = "3FDAD147897E51E6+20250619093719.90186-1-wangyuli@uniontech.com"
FIXES_OUTSIDE = "20250710182629.78456-2-cpaasch@openai.com"  # Fixes: + mlx5 core files
UPSTREAM_SAME = "20250507131834.253823-1-colin.i.king@gmail.com"  # siw_verbs.c
UPSTREAM_EDITED = "20250505210226.88994-1-linux@treblig.org"  # siw_mem.c
IN_TREE = "20250620114332.4072051-1-arnd@kernel.org"  # also in for-next
WAITING_REVIEW = (UNREVIEWED,
                  "aaf0072f350d1c7e8731f43b79e11a560bafb9e0.1750070205.git.leon@kernel.org")
# changes requested, and the author never answered (Arnd's mlx5 fix, used before, counts as
# answered now that his two addresses are one person)
WAITING_AUTHOR = "20250703182314.16442-1-mrgolin@amazon.com"
EXPIRED = "20250523143537.10362-1-dskmtsd@gmail.com"  # under review, idle since May

MAINLINE_TAGS = [  # (tag, date): the real 6.16 cycle
    ("v6.15", "2025-05-25T21:00:00+00:00"), ("v6.16-rc1", "2025-06-08T21:00:00+00:00"),
    ("v6.16-rc2", "2025-06-15T21:00:00+00:00"), ("v6.16-rc3", "2025-06-22T21:00:00+00:00"),
    ("v6.16-rc4", "2025-06-29T21:00:00+00:00"), ("v6.16-rc5", "2025-07-06T21:00:00+00:00"),
    ("v6.16-rc6", "2025-07-13T21:00:00+00:00"), ("v6.16-rc7", "2025-07-20T21:00:00+00:00"),
    ("v6.16", "2025-07-27T21:00:00+00:00"),
]
LINUS = ("Linus Torvalds", "torvalds@linux-foundation.org")
LEON = ("Leon Romanovsky", "leon@kernel.org")
VENDOR = ("Vendor Engineer", "engineer@vendor.example")


@dataclass(frozen=True)
class World:
    root: Path
    linux: Path
    rdma: Path
    public: Path
    vendor: Path
    gnupg: Path
    good_key: str  # fingerprint of the maintainer's key
    good: dict[str, str]  # Message-ID -> sha on for-next
    ofed: dict[str, str]  # name -> sha on the vendor's ofed branch


def git(repo: Path, *args: str, when: str | None = None, who: tuple[str, str] = LEON,
        stdin: bytes | None = None, env: dict[str, str] | None = None) -> str:
    e = {**os.environ, **(env or {}), "GIT_COMMITTER_NAME": who[0],
         "GIT_COMMITTER_EMAIL": who[1], "GIT_AUTHOR_NAME": who[0], "GIT_AUTHOR_EMAIL": who[1]}
    if when:
        e["GIT_COMMITTER_DATE"] = e["GIT_AUTHOR_DATE"] = when
    proc = subprocess.run(["git", "-C", str(repo), *args], input=stdin, env=e,
                          capture_output=True, check=False)
    if proc.returncode != 0:
        raise RuntimeError(f"git {' '.join(args)}: {proc.stderr.decode(errors='replace')}")
    return proc.stdout.decode()


def am(repo: Path, raw: bytes, when: str, *, signoff: bool = True) -> str:
    """`git am` one real posting as the maintainer would; its new sha."""
    git(repo, "am", "-q", "--keep-cr", *(["-s"] if signoff else []), stdin=raw,
        env={"GIT_COMMITTER_DATE": when})
    return git(repo, "rev-parse", "HEAD").strip()


def commit_file(repo: Path, path: str, text: str, message: str, when: str,
                who: tuple[str, str] = LEON) -> str:
    target = repo / path
    target.parent.mkdir(parents=True, exist_ok=True)
    target.write_text(text)
    git(repo, "add", path)
    git(repo, "commit", "-q", "-m", message, when=when, who=who)
    return git(repo, "rev-parse", "HEAD").strip()


def _diff(raw: bytes) -> str:
    msg = email.message_from_bytes(raw, policy=email.policy.default)
    assert isinstance(msg, EmailMessage)
    body = msg.get_body(preferencelist=("plain",))
    assert body is not None
    text = str(body.get_content()).replace("\r\n", "\n")
    return text[text.index("diff --git "):]


def pre_images(raws: list[bytes]) -> dict[str, tuple[str, bytes]]:
    """The files every patch applies to, made from its hunks; no file twice."""
    files: dict[str, tuple[str, bytes]] = {}
    for n, raw in enumerate(raws):
        base, _ = tree_states(parse_diff(_diff(raw)), f"w{n}")
        for path, spec in base.items():
            if spec is None:
                continue
            if path in files and files[path] != spec:
                raise AssertionError(f"{path} is touched by two chosen patches")
            files[path] = spec
    return files


def gpg(home: Path, *args: str) -> str:
    proc = subprocess.run(["gpg", "--homedir", str(home), "--batch", "--yes",
                           "--pinentry-mode", "loopback", "--passphrase", "", *args],
                          capture_output=True, text=True, check=False)
    if proc.returncode != 0:
        raise RuntimeError(f"gpg {' '.join(args)}: {proc.stderr}")
    return proc.stdout


def make_key(home: Path, who: tuple[str, str]) -> str:
    gpg(home, "--quick-gen-key", f"{who[0]} <{who[1]}>", "ed25519", "sign", "never")
    out = gpg(home, "--with-colons", "--list-secret-keys", who[1])
    return next(line.split(":")[9] for line in out.splitlines() if line.startswith("fpr:"))


def signed_tag(repo: Path, name: str, key: str, message: str, when: str, home: Path,
               ref: str = "HEAD") -> None:
    git(repo, "tag", "-s", "-u", key, "-m", message, name, ref, when=when,
        env={"GNUPGHOME": str(home)})


def _mainline(root: Path, raws: dict[str, bytes]) -> Path:
    linux = root / "linux"
    git(root, "init", "-q", "-b", "master", str(linux))
    for path, (mode, data) in pre_images(list(raws.values())).items():
        target = linux / path
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_bytes(data)
        if mode == "100755":
            target.chmod(0o755)
    git(linux, "add", "-A")
    git(linux, "commit", "-q", "-m", "Import the files the test patches touch",
        when="2025-05-20T12:00:00+00:00", who=LINUS)
    for tag, when in MAINLINE_TAGS:
        version = tag.removeprefix("v")
        commit_file(linux, "Makefile", f"VERSION = {version}\n", f"Linux {version}", when, LINUS)
        git(linux, "tag", "-a", "-m", f"Linux {version}", tag, when=when, who=LINUS)
        if tag == "v6.16-rc1":
            commit_file(linux, "mm/unrelated.c", "/* unrelated */\n", "mm: an unrelated change",
                        "2025-06-10T08:00:00+00:00", LINUS)
            am(linux, raws[UPSTREAM_SAME], "2025-06-11T08:00:00+00:00")
            am(linux, raws[UPSTREAM_EDITED], "2025-06-12T08:00:00+00:00")
            path = next(iter(parse_diff(_diff(raws[UPSTREAM_EDITED])))).new_path
            assert path is not None
            with (linux / path).open("a") as f:
                f.write("/* edited while applying */\n")
            git(linux, "commit", "-q", "-a", "--amend", "--no-edit",
                when="2025-06-12T08:00:00+00:00")
    return linux


def _rdma(root: Path, linux: Path, raws: dict[str, bytes], home: Path,
          key: str) -> tuple[Path, Path, dict[str, str]]:
    public = root / "rdma-public.git"
    git(root, "init", "-q", "--bare", str(public))
    rdma = root / "rdma"
    git(root, "clone", "-q", str(linux), str(rdma))
    git(rdma, "checkout", "-q", "-b", "for-next", "v6.16-rc1")
    good = {mid: am(rdma, raws[mid], when) for mid, when in GOOD.items()}
    signed_tag(rdma, "rdma-for-6.17", key, "RDMA changes for v6.17\n\nDriver updates for "
               "bnxt_re, mana_ib, rxe and siw.", "2025-07-23T09:00:00+00:00", home)
    git(rdma, "push", "-q", str(public), "for-next", "refs/tags/rdma-for-6.17")
    git(rdma, "tag", "-a", "-m", "not signed", "rdma-unsigned", "for-next",
        when="2025-07-23T09:00:00+00:00")
    git(rdma, "checkout", "-q", "-b", "linux-next", "origin/master")
    git(rdma, "merge", "-q", "--no-ff", "-m", "Merge branch 'for-next' of rdma", "for-next",
        when="2025-07-22T05:00:00+00:00")
    # The bad branch: everything a reviewer of the pull request should catch.
    untagged = git(linux, "log", "--format=%H", "-1", "--grep", "unrelated", "master").strip()
    git(rdma, "checkout", "-q", "-b", "bad", untagged)
    for mid in (NAKED, FIXES_OUTSIDE, UNREVIEWED):
        am(rdma, raws[mid], "2025-07-25T18:00:00+00:00")
    am(rdma, raws[SUPERSEDED], "2025-07-25T18:30:00+00:00", signoff=False)
    commit_file(rdma, "drivers/infiniband/hw/hns/NOTES", "local notes\n",
                "RDMA/hns: Keep local notes\n\nSigned-off-by: Leon Romanovsky <leon@kernel.org>",
                "2025-07-26T07:00:00+00:00")
    stranger = make_key(home, ("Somebody Else", "else@example.org"))
    signed_tag(rdma, "rdma-bad", stranger, "RDMA changes, in a hurry",
               "2025-07-26T08:00:00+00:00", home)
    gpg(home, "--delete-secret-and-public-key", stranger)
    git(rdma, "checkout", "-q", "for-next")
    return rdma, public, good


def _vendor(root: Path, linux: Path, raws: dict[str, bytes]) -> tuple[Path, dict[str, str]]:
    vendor = root / "vendor"
    git(root, "clone", "-q", str(linux), str(vendor))
    git(vendor, "checkout", "-q", "-b", "ofed", "v6.16-rc1")
    plan = [("upstream_same", UPSTREAM_SAME, "2025-06-09T12:00:00+00:00"),
            ("upstream_edited", UPSTREAM_EDITED, "2025-06-09T12:10:00+00:00"),
            ("in_tree", IN_TREE, "2025-06-18T12:00:00+00:00"),  # before it was posted
            ("waiting_review", WAITING_REVIEW[0], "2025-06-25T12:00:00+00:00"),
            ("waiting_review_2", WAITING_REVIEW[1], "2025-06-26T12:00:00+00:00"),
            ("waiting_author", WAITING_AUTHOR, "2025-07-01T12:00:00+00:00"),  # posted 07-03
            ("expired", EXPIRED, "2025-05-30T12:00:00+00:00")]
    shas = {name: am(vendor, raws[mid], when) for name, mid, when in plan}
    shas["never_posted"] = commit_file(
        vendor, "drivers/infiniband/hw/mlx5/vendor_tune.c", "/* tuning */\n",
        "RDMA/mlx5: Vendor-specific tuning knob", "2025-07-02T12:00:00+00:00", VENDOR)
    return vendor, shas


def corpus_raws(corpus_git: Path) -> dict[str, bytes]:
    wanted = {*GOOD, NAKED, SUPERSEDED, UNREVIEWED, FIXES_OUTSIDE, UPSTREAM_SAME,
              UPSTREAM_EDITED, *WAITING_REVIEW, WAITING_AUTHOR, EXPIRED}
    found: dict[str, bytes] = {}
    for mail in read_corpus(corpus_git):
        mid = _message_id(mail.raw)
        if mid in wanted and mid not in found:
            found[mid] = mail.raw
    missing = wanted - set(found)
    assert not missing, f"not in the corpus: {missing}"
    return found


def _message_id(raw: bytes) -> str | None:
    head = raw.split(b"\n\n", 1)[0]
    for line in head.split(b"\n"):
        if line.lower().startswith(b"message-id:"):
            return line.split(b":", 1)[1].strip().strip(b"<>").decode(errors="replace")
    return None


def ingest_template(path: Path, corpus_git: Path) -> None:
    url = f"sqlite:///{path}"
    assert main(["--db", url, "ingest", "--list", "linux-rdma", "--epoch", str(corpus_git)]) == 0


def write_settings(tmp: Path, world: World, gitlab: str = "http://127.0.0.1:9") -> Path:
    """config.toml and policies/ (rdma by mail, msm as a GitLab merge request) in `tmp`."""
    policies = tmp / "policies"
    policies.mkdir()
    (policies / "default.toml").write_text("")
    (policies / "rdma.toml").write_text(f"""\
[subsystem]
sections = ["INFINIBAND SUBSYSTEM"]
lists = ["linux-rdma@vger.kernel.org"]

[tree]
url = "{world.public}"
branches = ["for-next"]

[pull]
name = "RDMA"
upstream_ref = "origin/master"
linux_next_ref = "linux-next"
""")
    (policies / "msm.toml").write_text(f"""\
[subsystem]
lists = ["freedreno@lists.freedesktop.org"]

[pull]
url = "{world.public}"
subject_template = "[PULL] {{branch}}"
transport = "gitlab-mr"
gitlab_url = "{gitlab}"
gitlab_project = "drm/msm"
source_branch = "msm-next"
target_branch = "drm-next"
labels = ["msm"]
""")
    conf = tmp / "config.toml"
    conf.write_text(f'maintainers = "{KERNEL_MAINTAINERS}"\n[policy]\ndir = "policies"\n')
    return conf


def checkpoint(path: Path) -> None:
    """Fold SQLite's WAL into the file, so a plain copy of it holds everything."""
    engine = make_engine(f"sqlite:///{path}")
    with engine.connect() as conn:
        conn.exec_driver_sql("PRAGMA wal_checkpoint(TRUNCATE)")
    engine.dispose()


def build(root: Path, corpus_git: Path, home: Path) -> World:
    """Every repository, in `root`; GPG keys in `home` (keep its path short)."""
    raws = corpus_raws(corpus_git)
    key = make_key(home, LEON)
    linux = _mainline(root, raws)
    rdma, public, good = _rdma(root, linux, raws, home, key)
    vendor, ofed = _vendor(root, linux, raws)
    return World(root, linux, rdma, public, vendor, home, key, good, ofed)


@pytest.fixture(scope="session")
def world(corpus_git: Path, tmp_path_factory: pytest.TempPathFactory) -> Iterator[World]:
    root = tmp_path_factory.mktemp("world")
    home = Path(os.environ.get("TMPDIR", "/tmp")) / f"rb-gnupg-{os.getpid()}"
    shutil.rmtree(home, ignore_errors=True)
    home.mkdir(mode=0o700)  # a short path: gpg-agent's socket lives here
    try:
        yield build(root, corpus_git, home)
    finally:
        subprocess.run(["gpgconf", "--homedir", str(home), "--kill", "all"], check=False,
                       capture_output=True)
        shutil.rmtree(home, ignore_errors=True)


@pytest.fixture(scope="session")
def world_template(world: World, corpus_git: Path,
                   tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The whole corpus ingested, and what `for-next` applied recorded by `trees poll`."""
    template = tmp_path_factory.mktemp("world-db") / "template.db"
    ingest_template(template, corpus_git)
    assert main(["--db", f"sqlite:///{template}", "trees", "poll", "--once", "--tree",
                 str(world.rdma), "--branch", "for-next"]) == 0
    checkpoint(template)
    return template


@pytest.fixture
def world_db(world: World, world_template: Path, tmp_path: Path,
             monkeypatch: pytest.MonkeyPatch) -> str:
    """A fresh copy of the ingested corpus; git sees the test GPG keyring."""
    monkeypatch.setenv("GNUPGHOME", str(world.gnupg))
    db = tmp_path / "reviewbot.db"
    shutil.copy(world_template, db)
    return f"sqlite:///{db}"



if __name__ == "__main__":
    # Build the same world to look at by hand: python -m tests.pulls_build DIR
    import sys

    from tests.conftest import CORPUS_GIT

    out = Path(sys.argv[1]).resolve()
    (out / "gnupg").mkdir(parents=True, mode=0o700)
    w = build(out, CORPUS_GIT, out / "gnupg")
    db = out / "reviewbot.db"
    ingest_template(db, CORPUS_GIT)
    main(["--db", f"sqlite:///{db}", "trees", "poll", "--once", "--tree", str(w.rdma),
          "--branch", "for-next"])
    write_settings(out, w)
    print(f"export GNUPGHOME={w.gnupg} REVIEWBOT_DATABASE_URL=sqlite:///{db}")
    print(f"reviewbot --config {out}/config.toml pr prepare --subsystem rdma --tree {w.rdma} "
          "--tag rdma-for-6.17 --as-of 2025-07-24")
    print(f"reviewbot debt --tree {w.vendor} --branch ofed --upstream origin/master "
          "--as-of 2025-07-12")
