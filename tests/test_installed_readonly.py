"""The installed wheel on a read-only database, and its quarantine, as real processes."""

from __future__ import annotations

import json
import shutil
import subprocess
from collections.abc import Iterator
from pathlib import Path

import pytest

from reviewbot.ports import RawMail
from tests.epochs import make_epoch
from tests.installed import AS_USER, Installed, no_traceback

pytestmark = pytest.mark.slow
COVER = "cover.1735817449.git.leon@kernel.org"  # a 3-patch series of the corpus' first days


@pytest.fixture(scope="module")
def filled(installed: Installed, small_epoch: Path,
           tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A database holding 300 corpus mails and a claim (copied per test)."""
    home = tmp_path_factory.mktemp("filled")
    url = f"sqlite:///{home / 'rb.db'}"
    for args in (("ingest", "--list", "linux-rdma", "--epoch", str(small_epoch)),
                 ("claim", COVER, "--by", "reviewer@example.org")):
        result = installed.run("--db", url, *args, home=home)
        assert result.returncode == 0, result.stderr
    return home / "rb.db"


@pytest.fixture(params=["file", "directory"])
def read_only(request: pytest.FixtureRequest, filled: Path, tmp_path: Path) -> Iterator[Path]:
    """The database as a 0444 file (in a writable directory), or in a 0555 directory."""
    directory = tmp_path / "ro"
    directory.mkdir()
    db = directory / "rb.db"
    shutil.copy(filled, db)
    db.chmod(0o444)
    if request.param == "directory":
        directory.chmod(0o555)
    try:
        yield db
    finally:
        directory.chmod(0o755)
        db.chmod(0o644)


READS = [
    ["stats"], ["stats", "--json"], ["queue", "--as-of", "2025-02-01"], ["queue", "--json"],
    ["series", COVER], ["series", COVER, "--json"], ["applied", COVER], ["quarantine"],
    ["health"], ["db", "current"], ["outbox"],
]
WRITES = [
    ["ingest", "--list", "linux-rdma", "--mbox", "{home}/x.mbox"],
    ["claim", COVER, "--by", "me@example.org"],
    ["override", COVER, "--by", "me@example.org", "--state", "deferred"],
    ["reparse"], ["db", "upgrade"], ["trees", "poll", "--once", "--tree", "{home}"],
]


def test_read_only_database_answers_queries_and_refuses_writes(
        installed: Installed, home: Path, read_only: Path) -> None:
    """Every query answers from the stored state (exit 0); every command that writes
    says "read-only" in one line (exit 1); the file is unchanged."""
    before = read_only.read_bytes()
    url = f"sqlite:///{read_only}"
    (home / "x.mbox").write_text("")
    for args in READS:
        result = installed.run("--db", url, *args, home=home, prefix=AS_USER)
        no_traceback(result)
        assert result.returncode == 0, (args, result.stderr)
    for args in WRITES:
        argv = [a.format(home=home) for a in args]
        result = installed.run("--db", url, *argv, home=home, prefix=AS_USER)
        no_traceback(result)
        assert result.returncode == 1, (argv, result.stdout)
        assert result.stderr.count("\n") == 1 and "is read-only" in result.stderr, result.stderr
    assert read_only.read_bytes() == before


def test_read_only_database_is_not_brought_up_to_date(
        installed: Installed, home: Path, read_only: Path) -> None:
    """Changed policies make a writable database recompute every standing on open; a
    read-only one answers from what it stored, and says so with -v."""
    policies = home / "policies"
    policies.mkdir()
    (policies / "default.toml").write_text('[sla]\nstale_after = "3d"\n')
    env = installed.env(home, REVIEWBOT_POLICIES=str(policies))
    stored = installed.run("-v", "--db", f"sqlite:///{read_only}", "stats", "--json",
                           home=home, env=env, prefix=AS_USER)
    assert stored.returncode == 0, stored.stderr
    assert f"database {read_only} is read-only" in stored.stderr
    assert "recomputing" not in stored.stderr
    writable = home / "rw.db"
    shutil.copy(read_only, writable)
    writable.chmod(0o644)
    redone = installed.run("-v", "--db", f"sqlite:///{writable}", "stats", "--json",
                           home=home, env=env)
    assert redone.returncode == 0, redone.stderr
    assert "MAINTAINERS, policies or mailmap changed: recomputing" in redone.stderr
    assert json.loads(redone.stdout)["messages"] == json.loads(stored.stdout)["messages"]


# -- quarantine ---------------------------------------------------------------------

NOT_A_MAIL = b"just some text\nwith no headers at all\n"
EMPTY = b""


def test_quarantine_lists_reasons_and_shows_the_raw_mail(
        installed: Installed, home: Path, corpus_mails: list[RawMail], tmp_path: Path) -> None:
    """Refused mail is counted per reason; `show` prints each one byte for byte, whether
    kept by reference (an epoch) or stored (an mbox)."""
    refused = [NOT_A_MAIL, EMPTY, NOT_A_MAIL + b"2"]
    epoch = make_epoch(tmp_path / "0.git", [*corpus_mails[:5], *refused])
    mbox = home / "x.mbox"
    odd = b"X-Only: a header\n\nand a body\n"
    mbox.write_bytes(b"From a@b Thu Jan  2 00:00:00 2025\n" + odd)
    url = f"sqlite:///{home / 'rb.db'}"
    for args in (("--epoch", str(epoch), "--list", "linux-rdma"),
                 ("--mbox", str(mbox), "--list", "other")):
        result = installed.run("--db", url, "ingest", *args, home=home)
        assert result.returncode == 0, result.stderr
    listing = installed.run("--db", url, "quarantine", "--json", home=home)
    assert listing.returncode == 0, listing.stderr
    data = json.loads(listing.stdout)
    reasons = {r["reason"]: r["count"] for r in data["reasons"]}
    assert data["total"] == 4
    assert reasons == {"not a mail: none of From, Subject, Date, Message-ID": 3,
                       "empty message": 1}
    text = installed.run("--db", url, "quarantine", home=home).stdout
    assert text.splitlines()[0].startswith("4 quarantined mails")
    assert "     3  not a mail: none of From, Subject, Date, Message-ID" in text
    shown = {}
    for reason in data["reasons"]:
        for mail in reason["mails"]:
            result = subprocess.run([str(installed.exe), "--db", url, "quarantine", "show",
                                     str(mail["id"])], cwd=home, env=installed.env(home),
                                    capture_output=True)
            assert result.returncode == 0, result.stderr
            shown[mail["origin"].split("#")[0]] = shown.get(mail["origin"].split("#")[0], [])
            shown[mail["origin"].split("#")[0]].append(result.stdout)
    assert sorted(shown["epoch:linux-rdma/0"]) == sorted(refused)
    assert [raw for origin, raws in shown.items() if origin.startswith("mbox")
            for raw in raws] == [odd]
