"""Acceptance (issue 7): a queue a maintainer can act on, and `reviewbot am`, on the whole
2025 linux-rdma corpus through the CLI, as of 2025-12-31.

Filters and the apply list read the same stored standings as the figures; `am` writes
the latest complete revision through b4's own code from the stored raw mail (kept by
reference in the epoch), and its trailers are the ones `series --json` shows, carried
ones included.
"""

from __future__ import annotations

import json
import mailbox
import re
import subprocess
from pathlib import Path
from typing import Any

import pytest

from reviewbot.cli import main
from tests.sqlfixtures import BACKENDS

pytestmark = [pytest.mark.corpus, pytest.mark.slow,
              pytest.mark.parametrize("db_url", BACKENDS, indirect=True)]
POLICIES = Path(__file__).resolve().parent.parent / "policies"
AS_OF = "2025-12-31"
IB = "INFINIBAND SUBSYSTEM"
# "[PATCH v2] RDMA/rtrs: server: Fix error handling in get_or_create_srv", 2025-11-10:
# Jack Wang's Acked-by was given in reply to v1 and b4 carries it onto the identical v2.
RTRS = "20251110005158.13394-1-make24@iscas.ac.cn"
# "Split netmem from struct page": v1 of 2025-05-28 names the series; v12 of 2025-07-21
# is its latest complete revision (12 patches).
NETMEM_V1 = "20250528022911.73453-1-byungchul@sk.com"
NETMEM = "20250721021835.63939-1-byungchul@sk.com"
BY = re.compile(r"^([A-Z][A-Za-z-]*-by): .*?<([^>]+)>", re.M)


def run(capsys: pytest.CaptureFixture[str], *argv: str) -> str:
    code = main(list(argv))
    out, err = capsys.readouterr()
    assert code == 0, err
    return out


@pytest.fixture
def cfg(db_url: str, corpus_git: Path, kernel_maintainers: Path, tmp_path: Path,
        capsys: pytest.CaptureFixture[str]) -> str:
    conf = tmp_path / "config.toml"
    conf.write_text(f'database = "{db_url}"\nmaintainers = "{kernel_maintainers}"\n'
                    f'me = "Leon Romanovsky <leon@kernel.org>"\n'
                    f'[policy]\ndir = "{POLICIES}"\n', encoding="utf-8")
    run(capsys, "--config", str(conf), "ingest", "--epoch", str(corpus_git),
        "--list", "linux-rdma")
    return str(conf)


def queue(capsys: pytest.CaptureFixture[str], cfg: str, *extra: str) -> dict[str, Any]:
    return dict(json.loads(run(capsys, "--config", cfg, "queue", "--subsystem", IB,
                               "--as-of", AS_OF, "--json", *extra)))


def test_filters_pick_from_the_same_queue(cfg: str, capsys: pytest.CaptureFixture[str]) -> None:
    """--state, --turn, --waiting-on (any of the person's addresses), --mine (the settings'
    `me`) and --limit narrow the rows; the figures stay those of the whole subsystem."""
    whole = queue(capsys, cfg)
    rows = whole["series"]
    stale = queue(capsys, cfg, "--state", "stale")
    assert [r["series_id"] for r in stale["series"]] == [
        r["series_id"] for r in rows if r["state"] == "stale"]
    assert stale["stats"] == whole["stats"]
    author = queue(capsys, cfg, "--turn", "author", "--state", "changes_requested")
    assert author["series"] and all(r["turn"] == "author" for r in author["series"])
    # leon@kernel.org and leonro@nvidia.com are one maintainer (MAINTAINERS lists the latter).
    leon = queue(capsys, cfg, "--waiting-on", "leon@kernel.org")
    assert leon["series"] and all("leonro@nvidia.com" in r["waiting_on"] for r in leon["series"])
    assert queue(capsys, cfg, "--mine")["series"] == leon["series"]
    top = queue(capsys, cfg, "--limit", "3")
    assert top["series"] == rows[:3] and top["matched"] == len(rows)


def test_the_first_screen_shows_the_figures_then_the_most_urgent(
        cfg: str, capsys: pytest.CaptureFixture[str]) -> None:
    """Text: the figures (open, expired, times) come before the rows, rows most overdue
    first."""
    out = run(capsys, "--config", cfg, "queue", "--subsystem", IB, "--as-of", AS_OF)
    lines = out.splitlines()
    assert lines[0] == f"{IB} as of 2025-12-31 23:59 UTC"
    assert lines[1].startswith("open: ") and lines[2].startswith("expired")
    header = next(i for i, line in enumerate(lines) if line.lstrip().startswith("DUE"))
    assert header < 20
    assert lines[header + 1].split()[0].startswith("-")  # overdue


def test_ready_is_the_apply_list(cfg: str, capsys: pytest.CaptureFixture[str]) -> None:
    """Reviewed, no NAK, not applied, oldest first, each row naming `reviewbot am`."""
    ready = queue(capsys, cfg, "--ready")["series"]
    assert ready
    assert [r["date"] for r in ready] == sorted(r["date"] for r in ready)
    for r in ready:
        assert r["turn"] == "maintainer" and not r["naks"]
        assert r["am"] == f"reviewbot am {r['series_id']}"
        assert r["attestation_failed"] == []  # offline: nothing is known to have failed
    text = run(capsys, "--config", cfg, "queue", "--subsystem", IB, "--as-of", AS_OF,
               "--ready")
    assert f"reviewbot am {ready[0]['series_id']}" in text


@pytest.mark.parametrize("given,written,patches", [(RTRS, RTRS, 1), (NETMEM_V1, NETMEM, 12)])
def test_am_writes_what_series_shows(cfg: str, capsys: pytest.CaptureFixture[str],
                                     tmp_path: Path, given: str, written: str,
                                     patches: int) -> None:
    """The mbox b4 writes holds the latest complete revision with the review trailers
    `series --json` shows per patch (carried ones included), in a form `git mailsplit`
    reads; the command prints the `git am` and `b4 shazam` lines."""
    out = run(capsys, "--config", cfg, "am", given, "-o", str(tmp_path / "am"))
    shown = json.loads(run(capsys, "--config", cfg, "series", written, "--json"))
    [mbx] = (tmp_path / "am").glob("*.mbx")
    assert f"git am {mbx}" in out
    version = shown["version"]
    assert f"b4 shazam -v {version} {shown['cover_message_id'] or written}" in out
    msgs = list(mailbox.mbox(str(mbx)))
    assert len(msgs) == patches
    ours = [sorted({(t["kind"], t["email"]) for t in p["trailers"]
                    if t["email"] and t["kind"].endswith("-by")}) for p in shown["patches"]]
    theirs = []
    for m in msgs:
        body = m.get_payload(decode=True).decode("utf-8", "replace").split("\n---\n")[0]
        theirs.append(sorted({(k, a.lower()) for k, a in BY.findall(body)}))
    assert theirs == ours
    (tmp_path / "split").mkdir()
    split = subprocess.run(["git", "mailsplit", f"-o{tmp_path / 'split'}", str(mbx)],
                           capture_output=True, text=True, check=True)
    assert int(split.stdout.strip()) == patches
    if given == RTRS:
        text = run(capsys, "--config", cfg, "series", RTRS)
        assert "Acked-by Jack Wang (carried from v1)" in text
        assert "attestation: none" in text
        [patch] = shown["patches"]
        assert patch["attestation"]["result"] == "none"
