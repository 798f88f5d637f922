"""Acceptance: the INFINIBAND SUBSYSTEM backlog on the whole 2025 corpus as of 2025-12-31,
through the CLI (ingest, queue --subsystem, series) on SQLite and PostgreSQL.

Every expected value below was checked by hand in the raw mails
(`git --git-dir=.../linux-rdma-2025.git cat-file -p <blob>`). The rdma tree is not
available offline, so series applied without an "applied" mail look open (mostly stale).
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from reviewbot.cli import main
from tests.sqlfixtures import BACKENDS

pytestmark = [pytest.mark.corpus, pytest.mark.slow,
              pytest.mark.parametrize("db_url", BACKENDS, indirect=True)]
POLICIES = Path(__file__).resolve().parent.parent / "policies"
AS_OF = "2025-12-31"

# Posted 2025-01-02 11:36 UTC by Leon; Reviewed-by Mark Bloch in each of the 3 patches; no
# reply in the corpus. Two patches are mlx5 core (netdev's tree), one RDMA/mlx5.
MLX5 = "cover.1735817449.git.leon@kernel.org"
# "RDMA/erdma: Drop redundant NULL check on error path", 2025-01-30 08:04 UTC: no reply at all.
ERDMA = "20250130080418.37915-1-a.vatoropin@crpt.ru"
# "[PATCH v2] RDMA/core: fix a NULL-pointer dereference in hw_stat_device_show()", posted
# 2025-02-24 23:20 UTC; Zhu Yanjun's Reviewed-by on Wed, 26 Feb 2025 09:11:21 +0100; nothing
# after that in the corpus.
HWSTAT = "20250224232048.1423635-1-roman.gushchin@linux.dev"
PAVAN = "20251014081033.1175053-2-pavan.chebbi@broadcom.com"
# "RDMA/bnxt_re: Fix to drop reference to the mmap entry in case of error": Reviewed-by in the
# patch; Leon's b4 "Applied, thanks" from leon@kernel.org on 2025-01-05 11:52:05 UTC.
BNXT = "20250104061519.2540178-1-kalesh-anakkur.purayil@broadcom.com"
# "IB/cache: update gid cache on client reregister event", Wed, 31 Dec 2025 14:07:45 +0100.
GIDCACHE = "aVUfsO58QIDn5bGX@eaujamesFR0130"
# "RDMA/rxe: Remove unused page_offset member", 2025-12-26: Zhu Yanjun's Reviewed-by on
# Fri, 26 Dec 2025 21:30:38 -0800.
RXE = "20251226094159.3042935-1-lizhijian@fujitsu.com"


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
                    f'[policy]\ndir = "{POLICIES}"\n', encoding="utf-8")
    run(capsys, "--config", str(conf), "ingest", "--epoch", str(corpus_git),
        "--list", "linux-rdma")
    return str(conf)


def test_rdma_queue_as_of_end_of_2025(cfg: str, capsys: pytest.CaptureFixture[str]) -> None:
    """The hand-checked quiet series of early 2025 have expired (counted, not open); the
    oldest still waiting is from October; the newest posting of the year is new and
    waiting for the section's two maintainers; the figures add up; the rows come most
    urgent first."""
    q: dict[str, Any] = json.loads(run(capsys, "--config", cfg, "queue", "--subsystem",
                                       "INFINIBAND SUBSYSTEM", "--as-of", AS_OF, "--json"))
    stats = q["stats"]
    rows = {r["series_id"]: r for r in q["series"]}
    assert not {MLX5, ERDMA, HWSTAT} & set(rows)
    assert stats["expired"] >= 3
    # PAVAN: "[PATCH net-next v5 1/5] bnxt_en: Move common definitions to
    # include/linux/bnxt/", 2025-10-14 08:10 UTC, Andy Gospodarek's Reviewed-by in the
    # posting, no reply on this list: NETWORKING DRIVERS takes it (default policy), so
    # stale since 2025-11-13 and expiring on 2026-01-12.
    assert stats["oldest_waiting"][0]["series_id"] == PAVAN
    assert (stats["oldest_waiting"][0]["state"], stats["oldest_waiting"][0]["turn"]) == (
        "stale", "reviewer")
    assert BNXT not in rows  # applied
    order = [(r["overdue"], r["due"] is not None) for r in q["series"]]
    assert order == sorted(order, key=lambda o: (not o[0], not o[1]))
    overdue = [r["due"] for r in q["series"] if r["overdue"]]
    assert overdue == sorted(overdue)  # the longest overdue first
    gid = rows[GIDCACHE]
    assert (gid["state"], gid["turn"], gid["taker"]) == ("new", "reviewer",
                                                         "INFINIBAND SUBSYSTEM")
    assert gid["waiting_on"] == ["jgg@nvidia.com", "leonro@nvidia.com"]
    assert gid["since"] == "2025-12-31T13:07:45+00:00"
    assert stats["open_total"] == len(rows) == sum(stats["open_by_state"].values()) \
        == sum(stats["age_buckets"].values())
    assert stats["time_to_first_review"]["p50_days"] is not None


def test_sample_series_by_hand(cfg: str, capsys: pytest.CaptureFixture[str]) -> None:
    """State, turn, first review and applied time of five series, as the mails say."""
    def series(mid: str) -> dict[str, Any]:
        return dict(json.loads(run(capsys, "--config", cfg, "series", mid, "--as-of", AS_OF,
                                   "--json")))

    erdma = series(ERDMA)
    assert (erdma["state"], erdma["turn"], erdma["first_review_at"]) == (
        "expired", "nobody", None)
    # No reply at all: stale 60 days after posting (the INFINIBAND policy), expired at 90.
    assert [(t["state"], t["at"]) for t in erdma["timeline"][-2:]] == [
        ("stale", "2025-03-31T08:04:24+00:00"), ("expired", "2025-04-30T08:04:24+00:00")]
    assert erdma["subsystems"][0] == {"section": "INFINIBAND SUBSYSTEM", "taker": True,
                                      "lists": ["linux-rdma@vger.kernel.org"]}
    hw = series(HWSTAT)
    assert (hw["state"], hw["turn"]) == ("expired", "nobody")
    assert hw["first_review_at"] == "2025-02-26T08:11:21+00:00"
    bnxt = series(BNXT)
    assert (bnxt["state"], bnxt["applied_at"]) == ("applied", "2025-01-05T11:52:05+00:00")
    assert bnxt["timeline"][-1]["actor"] == "leonro@nvidia.com"  # leon@kernel.org, aliased
    mlx5 = series(MLX5)
    assert [s["section"] for s in mlx5["subsystems"] if s["taker"]] == ["NETWORKING DRIVERS"]
    assert "INFINIBAND SUBSYSTEM" in [s["section"] for s in mlx5["subsystems"]]
    rxe = series(RXE)
    assert rxe["first_review_at"] == "2025-12-27T05:30:38+00:00"
    assert rxe["state"] not in ("applied", "superseded", "rejected")
