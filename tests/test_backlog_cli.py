"""The backlog on the command line: routing into subsystems, `series` with state, turn and
timeline, `queue --subsystem` with figures, and manual claim/release/assign/override
(SQLite and PostgreSQL), on the corpus's first 300 mails and the real 6.12 MAINTAINERS."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from tests.sqlfixtures import BACKENDS, run

pytestmark = pytest.mark.parametrize("db_url", BACKENDS, indirect=True)
POLICIES = Path(__file__).resolve().parent.parent / "policies"

# "[PATCH for-rc] RDMA/bnxt_re: Fix to drop reference to the mmap entry in case of error",
# posted 2025-01-04 06:15 UTC by Kalesh AP with Reviewed-by Saravanan Vajravel and Kashyap
# Desai in the patch; Leon Romanovsky <leon@kernel.org> answered "Applied" (b4 ty) on
# 2025-01-05 11:52 UTC. It touches only drivers/infiniband/hw/bnxt_re/.
BNXT = "20250104061519.2540178-1-kalesh-anakkur.purayil@broadcom.com"
# "[PATCH mlx5-next 0/3] Add RDMA TRANSPORT steering domain" (2025-01-02 11:36 UTC): two
# patches to drivers/net/ethernet/mellanox/mlx5/core, one to drivers/infiniband/hw/mlx5;
# Reviewed-by Mark Bloch in each patch.
MLX5 = "cover.1735817449.git.leon@kernel.org"


def settings(tmp_path: Path, db_url: str, maintainers: Path | None) -> str:
    text = f'database = "{db_url}"\n[policy]\ndir = "{POLICIES}"\n'
    if maintainers is not None:
        text = f'maintainers = "{maintainers}"\n' + text
    path = tmp_path / "config.toml"
    path.write_text(text, encoding="utf-8")
    return str(path)


@pytest.fixture
def cfg(db_url: str, small_epoch: Path, kernel_maintainers: Path, tmp_path: Path,
        capsys: pytest.CaptureFixture[str]) -> str:
    conf = settings(tmp_path, db_url, kernel_maintainers)
    code, _, err = run(capsys, "--config", conf, "ingest", "--epoch", str(small_epoch),
                         "--list", "linux-rdma")
    assert code == 0, err
    return conf


def series(capsys: pytest.CaptureFixture[str], conf: str, mid: str, as_of: str
           ) -> dict[str, Any]:
    code, out, err = run(capsys, "--config", conf, "series", mid, "--json", "--as-of", as_of)
    assert code == 0, err
    return dict(json.loads(out))


class TestSeries:
    def test_applied_series_with_its_timeline(self, cfg: str,
                                              capsys: pytest.CaptureFixture[str]) -> None:
        """Reviewed in the posting -> the maintainer's turn; Leon's b4 "Applied" -> applied.
        leon@kernel.org is shown as leonro@nvidia.com, his MAINTAINERS address."""
        s = series(capsys, cfg, BNXT, "2025-01-10")
        assert s["subsystems"][0] == {"section": "INFINIBAND SUBSYSTEM", "taker": True,
                                      "lists": ["linux-rdma@vger.kernel.org"]}
        assert (s["state"], s["turn"], s["due"]) == ("applied", "nobody", None)
        assert s["since"] == "2025-01-05T11:52:05+00:00"
        assert s["applied_at"] == "2025-01-05T11:52:05+00:00"
        assert [(t["kind"], t["actor"], t["state"]) for t in s["timeline"]] == [
            ("posted", "kalesh-anakkur.purayil@broadcom.com", "new"),
            ("trailer", "kashyap.desai@broadcom.com", "reviewed"),
            ("trailer", "saravanan.vajravel@broadcom.com", "reviewed"),
            ("applied", "leonro@nvidia.com", "applied")]
        assert s["title"].startswith("RDMA/bnxt_re: Fix to drop reference")  # issue-2 keys kept

    def test_state_before_the_applied_mail(self, cfg: str,
                                           capsys: pytest.CaptureFixture[str]) -> None:
        """As of 2025-01-05 00:00 it was ready to apply: the maintainers' turn, due 14 days
        after posting (the RDMA policy's first_review)."""
        s = series(capsys, cfg, BNXT, "2025-01-04T23:00:00")
        assert (s["state"], s["turn"]) == ("reviewed", "maintainer")
        assert s["waiting_on"] == ["jgg@nvidia.com", "leonro@nvidia.com"]
        assert s["reason"] == "every patch has a review or ack: ready to apply"
        assert s["due"] is not None and s["due"].startswith("2025-01-")

    def test_multi_subsystem_series_names_the_taker(self, cfg: str,
                                                    capsys: pytest.CaptureFixture[str]) -> None:
        """mlx5 core + mlx5 IB files: in four sections' queues; NETWORKING DRIVERS (with a
        tree, two of the three files' sections) is expected to take it."""
        s = series(capsys, cfg, MLX5, "2025-01-03")
        assert [(x["section"], x["taker"]) for x in s["subsystems"]] == [
            ("NETWORKING DRIVERS", True), ("MELLANOX MLX5 IB driver", False),
            ("INFINIBAND SUBSYSTEM", False), ("MELLANOX MLX5 core VPI driver", False)]
        assert (s["state"], s["turn"]) == ("reviewed", "maintainer")

    def test_text_shows_subsystems_state_and_timeline(self, cfg: str,
                                                      capsys: pytest.CaptureFixture[str]) -> None:
        """The text form has the subsystems (taker marked), state/turn, why, and the timeline."""
        code, out, _ = run(capsys, "--config", cfg, "series", BNXT, "--as-of", "2025-01-10")
        assert code == 0
        assert "  subsystems: INFINIBAND SUBSYSTEM (expected to take it)" in out
        assert "  state: applied, nobody's turn" in out
        assert "2025-01-05 11:52  applied mail from leonro@nvidia.com  ->  applied" in out

    def test_as_of_before_posting_is_an_error(self, cfg: str,
                                              capsys: pytest.CaptureFixture[str]) -> None:
        """A series has no state before it was posted; the error says when it was."""
        code, out, err = run(capsys, "--config", cfg, "series", BNXT, "--as-of", "2025-01-01")
        assert (code, out) == (1, "")
        assert "was posted 2025-01-04 06:15 UTC, after 2025-01-01 23:59 UTC" in err


class TestQueue:
    def test_subsystem_by_name_or_list(self, cfg: str,
                                       capsys: pytest.CaptureFixture[str]) -> None:
        """Any case of the section name selects the section's queue; the list address
        gathers every section that lists it (so it holds at least as much). The
        multi-subsystem mlx5 series is in it, the applied bnxt_re one is not."""
        outs = []
        for name in ("infiniband subsystem", "linux-rdma@vger.kernel.org"):
            code, out, err = run(capsys, "--config", cfg, "queue", "--subsystem", name,
                                 "--json", "--as-of", "2025-01-10")
            assert code == 0, err
            outs.append(json.loads(out))
        a, b = outs
        assert a["subsystem"] == "INFINIBAND SUBSYSTEM"
        ids = [r["series_id"] for r in a["series"]]
        assert b["subsystem"] == "linux-rdma@vger.kernel.org"
        assert set(ids) < {r["series_id"] for r in b["series"]}
        assert MLX5 in ids and BNXT not in ids
        mine = next(r for r in a["series"] if r["series_id"] == MLX5)
        assert (mine["taker"], mine["state"], mine["turn"]) == (
            "NETWORKING DRIVERS", "reviewed", "maintainer")
        stats = a["stats"]
        assert stats["open_total"] == len(ids) == sum(stats["open_by_state"].values())
        assert stats["time_to_applied"]["count"] >= 1  # bnxt_re: 1.2 days

    def test_unknown_subsystem(self, cfg: str, capsys: pytest.CaptureFixture[str]) -> None:
        """A name no stored series routes to is a clear error."""
        code, _, err = run(capsys, "--config", cfg, "queue", "--subsystem", "NO SUCH THING")
        assert code == 1 and "no MAINTAINERS section or list is called 'NO SUCH THING'" in err

    def test_without_maintainers_subsystem_queries_say_so(
            self, db_url: str, small_epoch: Path, tmp_path: Path,
            capsys: pytest.CaptureFixture[str]) -> None:
        """No MAINTAINERS: ingest still works, `queue --subsystem` explains what is missing,
        and `series` shows a state with no subsystems."""
        conf = settings(tmp_path, db_url, None)
        assert run(capsys, "--config", conf, "ingest", "--epoch", str(small_epoch),
                   "--list", "linux-rdma")[0] == 0
        code, _, err = run(capsys, "--config", conf, "queue", "--subsystem", "x")
        assert code == 1 and "no MAINTAINERS configured" in err
        s = series(capsys, conf, BNXT, "2025-01-10")
        assert (s["state"], s["subsystems"]) == ("applied", [])


    def test_a_broken_maintainers_path_never_fails_ingest(
            self, db_url: str, small_epoch: Path, tmp_path: Path,
            capsys: pytest.CaptureFixture[str]) -> None:
        """Ingest stores the mail and warns; the queries then name the problem."""
        conf = settings(tmp_path, db_url, tmp_path / "missing")
        code, out, err = run(capsys, "--config", conf, "ingest", "--epoch", str(small_epoch),
                             "--list", "linux-rdma")
        assert code == 0 and out.startswith("ingested 300 messages")
        assert "series not routed: MAINTAINERS:" in err and "missing" in err
        code, _, err = run(capsys, "--config", conf, "queue", "--subsystem", "x")
        assert code == 1 and "no such MAINTAINERS file or kernel tree" in err


class TestManual:
    def test_claim_assign_override_release_are_recorded_in_the_timeline(
            self, cfg: str, capsys: pytest.CaptureFixture[str]) -> None:
        """Each action is an event with actor and time; a rejection holds the series and
        `open` brings it back; the claim and assignment show as assignees."""
        base = ("--config", cfg)
        for argv in (("assign", MLX5, "--to", "tariqt@nvidia.com", "--by", "leon@kernel.org",
                      "--at", "2025-01-02T12:00:00"),
                     ("claim", MLX5, "--by", "Mark Bloch <mbloch@nvidia.com>",
                      "--at", "2025-01-02T13:00:00"),
                     ("override", MLX5, "--state", "rejected", "--by", "kuba@kernel.org",
                      "--reason", "wrong tree", "--at", "2025-01-02T14:00:00")):
            code, _, err = run(capsys, *base, *argv)
            assert code == 0, err
        s = series(capsys, cfg, MLX5, "2025-01-03")
        assert (s["state"], s["turn"]) == ("rejected", "nobody")
        assert s["reason"] == "rejected by kuba@kernel.org (wrong tree)"
        assert s["assignees"] == ["tariqt@nvidia.com", "mbloch@nvidia.com"]
        assert [(t["kind"], t["actor"]) for t in s["timeline"][-3:]] == [
            ("assign", "leonro@nvidia.com"), ("claim", "mbloch@nvidia.com"),
            ("override", "kuba@kernel.org")]
        assert run(capsys, *base, "override", MLX5, "--state", "open", "--by",
                   "kuba@kernel.org", "--at", "2025-01-02T15:00:00")[0] == 0
        assert run(capsys, *base, "release", MLX5, "--by", "mbloch@nvidia.com",
                   "--at", "2025-01-02T16:00:00")[0] == 0
        s = series(capsys, cfg, MLX5, "2025-01-03")
        assert (s["state"], s["turn"]) == ("reviewed", "maintainer")
        assert s["assignees"] == ["tariqt@nvidia.com"]

    def test_assign_picks_the_least_loaded_maintainer(
            self, cfg: str, capsys: pytest.CaptureFixture[str]) -> None:
        """INFINIBAND SUBSYSTEM has no R:, so its M: are the candidates (MAINTAINERS order):
        Jason first; once Jason holds an open series, Leon."""
        code, out, err = run(capsys, "--config", cfg, "assign", BNXT, "--at", "2025-01-04T12:00")
        assert code == 0, err
        assert "jgg@nvidia.com assigned" in out
        code, out, err = run(capsys, "--config", cfg, "assign", MLX5, "--at", "2025-01-04T13:00")
        # MLX5's taker is NETWORKING DRIVERS: its own R:/M: are the candidates.
        assert code == 0 and "assigned" in out
        s = series(capsys, cfg, BNXT, "2025-01-04T23:00:00")
        assert s["assignees"] == ["jgg@nvidia.com"]

    def test_bad_input_is_a_clear_error(self, cfg: str,
                                        capsys: pytest.CaptureFixture[str]) -> None:
        """Unknown series, a snooze without --until, and a non-address actor are refused."""
        assert "unknown series" in run(capsys, "--config", cfg, "claim", "nope@x", "--by",
                                       "a@b.c")[2]
        assert "needs --until" in run(capsys, "--config", cfg, "override", BNXT, "--state",
                                      "snoozed", "--by", "a@b.c")[2]
        assert "not an email address" in run(capsys, "--config", cfg, "claim", BNXT, "--by",
                                             "nobody")[2]
