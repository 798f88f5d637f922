"""The command line: ingest, series, queue, stats, reparse, db (SQLite and PostgreSQL)."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest

from reviewbot.adapters.sql import migrate as sqlmigrate
from tests.sqlfixtures import BACKENDS, run

# "[PATCH mlx5-next 0/3] Add RDMA TRANSPORT steering domain", 2 January 2025, as the
# raw corpus has it (`git log` on the epoch): cover letter, three patches, and a
# "Reviewed-by: Mark Bloch <mbloch@nvidia.com>" in each patch.
COVER = "cover.1735817449.git.leon@kernel.org"
PATCH_1 = "4d3971222035da8b0b17a8c315467a6927106944.1735817449.git.leon@kernel.org"

pytestmark = pytest.mark.parametrize("db_url", BACKENDS, indirect=True)


@pytest.fixture
def ingested(db_url: str, small_epoch: Path, capsys: pytest.CaptureFixture[str]) -> str:
    code, out, _ = run(capsys, "--db", db_url, "ingest", "--epoch", str(small_epoch),
                       "--list", "linux-rdma")
    assert code == 0, out
    return out


class TestIngest:
    def test_summary_line(self, ingested: str) -> None:
        """One line: messages, new, duplicates, quarantined, deleted, series, seconds."""
        assert re.fullmatch(
            r"ingested 300 messages \(\d+ new, \d+ duplicates, 0 quarantined, 0 deleted\) "
            r"into \d+ series in \d+\.\d s\n", ingested)

    def test_second_run_ingests_nothing(self, db_url: str, small_epoch: Path, ingested: str,
                                        capsys: pytest.CaptureFixture[str]) -> None:
        """The epoch cursor is stored: a second run reads nothing new."""
        code, out, _ = run(capsys, "--db", db_url, "ingest", "--epoch", str(small_epoch),
                           "--list", "linux-rdma")
        assert code == 0 and out.startswith("ingested 0 messages (0 new,")

    def test_no_progress_display_without_a_terminal(self, db_url: str, small_epoch: Path,
                                                     capsys: pytest.CaptureFixture[str]) -> None:
        """stderr stays empty when it is not a TTY (scripts, CI, cron)."""
        code, _, err = run(capsys, "--db", db_url, "ingest", "--epoch", str(small_epoch),
                           "--list", "linux-rdma")
        assert code == 0 and err == ""

    def test_source_needs_a_list_name(self, db_url: str, small_epoch: Path,
                                      capsys: pytest.CaptureFixture[str]) -> None:
        """--epoch without --list is a clear error, exit 1."""
        code, _, err = run(capsys, "--db", db_url, "ingest", "--epoch", str(small_epoch))
        assert code == 1 and "needs --list NAME" in err

    def test_missing_epoch_is_a_clear_error(self, db_url: str, tmp_path: Path,
                                            capsys: pytest.CaptureFixture[str]) -> None:
        """A path that does not exist is named in the error, exit 1."""
        missing = tmp_path / "nope.git"
        code, _, err = run(capsys, "--db", db_url, "ingest", "--epoch", str(missing),
                           "--list", "x")
        assert code == 1 and str(missing) in err and "Traceback" not in err


class TestSeries:
    def test_series_json(self, db_url: str, ingested: str,
                         capsys: pytest.CaptureFixture[str]) -> None:
        """The documented keys, for a real 3-patch series found by one of its patches."""
        # As of a day in the first 300 mails' weeks: today every one of them has expired.
        code, out, _ = run(capsys, "--db", db_url, "series", PATCH_1, "--json",
                           "--as-of", "2025-01-20")
        assert code == 0
        s = json.loads(out)
        assert s["title"] == "Add RDMA TRANSPORT steering domain"
        assert (s["version"], s["total"], s["missing"]) == (1, 3, [])
        assert s["cover_message_id"] == COVER
        assert [p["index"] for p in s["patches"]] == [1, 2, 3]
        first = s["patches"][0]
        assert first["message_id"] == PATCH_1
        assert first["subject"] == "[PATCH mlx5-next 1/3] net/mlx5: Query ADV_RDMA capabilities"
        assert "drivers/net/ethernet/mellanox/mlx5/core/fw.c" in first["files"]
        assert {"kind": "Reviewed-by", "name": "Mark Bloch", "email": "mbloch@nvidia.com"} in [
            {k: t[k] for k in ("kind", "name", "email")} for t in first["trailers"]]
        assert s["revisions"] == [COVER]
        # Reviewed-by Mark Bloch in every patch: ready to apply unless applied or stale since.
        assert s["state"] in {"reviewed", "applied", "stale"}

    def test_angle_brackets_are_optional(self, db_url: str, ingested: str,
                                         capsys: pytest.CaptureFixture[str]) -> None:
        """<id> and id name the same series."""
        a = run(capsys, "--db", db_url, "series", f"<{COVER}>", "--json")
        b = run(capsys, "--db", db_url, "series", COVER, "--json")
        assert a[0] == b[0] == 0 and a[1] == b[1]

    def test_text_output_names_the_series(self, db_url: str, ingested: str,
                                          capsys: pytest.CaptureFixture[str]) -> None:
        """Without --json: title, version and each patch subject."""
        code, out, _ = run(capsys, "--db", db_url, "series", COVER)
        assert code == 0
        assert out.startswith("Add RDMA TRANSPORT steering domain\n  v1, 3/3 patches")
        assert "[PATCH mlx5-next 1/3] net/mlx5: Query ADV_RDMA capabilities" in out

    def test_unknown_message_exits_1(self, db_url: str, ingested: str,
                                     capsys: pytest.CaptureFixture[str]) -> None:
        """An unknown Message-ID is a one-line error on stderr, exit 1, nothing on stdout."""
        code, out, err = run(capsys, "--db", db_url, "series", "<no-such@example.org>")
        assert (code, out) == (1, "")
        assert err == "reviewbot: error: unknown message <no-such@example.org>\n"


class TestQueueStatsReparse:
    def test_queue_json_lists_open_series(self, db_url: str, ingested: str,
                                          capsys: pytest.CaptureFixture[str]) -> None:
        """queue --json: open series only, with version, patches, title and author."""
        code, out, _ = run(capsys, "--db", db_url, "queue", "--json", "--as-of", "2025-01-20")
        rows = json.loads(out)
        assert code == 0 and rows
        assert all(r["state"] not in ("superseded", "applied") for r in rows)
        mine = [r for r in rows if r["series_id"] == COVER]
        if mine:  # it is open unless an "applied" reply is among the first 300 mails
            assert (mine[0]["version"], mine[0]["patches"]) == (1, 3)
            assert mine[0]["author"]["email"] == "leon@kernel.org"

    def test_queue_table(self, db_url: str, ingested: str,
                         capsys: pytest.CaptureFixture[str]) -> None:
        """The text queue has a header and ends with the count of open series."""
        code, out, _ = run(capsys, "--db", db_url, "queue", "--as-of", "2025-01-20")
        lines = out.splitlines()
        assert code == 0 and lines[0].split() == ["DUE", "AGE", "VER", "PATCHES", "STATE",
                                                  "TURN", "TITLE", "AUTHOR"]
        assert int(lines[-1].split()[0]) > 0
        assert re.fullmatch(r"\d+ open series( \(\d+ more ignored by policy\))?", lines[-1])
        assert int(lines[-1].split()[0]) == len(lines) - 2

    def test_stats_json(self, db_url: str, ingested: str,
                        capsys: pytest.CaptureFixture[str]) -> None:
        """stats --json has messages, series, patches and quarantined."""
        code, out, _ = run(capsys, "--db", db_url, "stats", "--json")
        stats = json.loads(out)
        assert code == 0
        assert stats["messages"] + stats["duplicates"] == 300
        assert stats["quarantined"] == 0 and stats["series"] > 0 and stats["patches"] > 0

    def test_reparse_keeps_everything(self, db_url: str, ingested: str,
                                      capsys: pytest.CaptureFixture[str]) -> None:
        """reparse with the same parser changes nothing and reports it."""
        before = run(capsys, "--db", db_url, "stats", "--json")[1]
        code, out, _ = run(capsys, "--db", db_url, "reparse")
        assert code == 0 and out.startswith("reparsed: 0 updated, 0 recovered from quarantine, "
                                            "0 newly quarantined;")
        assert run(capsys, "--db", db_url, "stats", "--json")[1] == before


class TestDb:
    def test_upgrade_from_any_directory(self, db_url: str, tmp_path: Path,
                                        monkeypatch: pytest.MonkeyPatch,
                                        capsys: pytest.CaptureFixture[str]) -> None:
        """`db upgrade` finds the migrations from an unrelated working directory."""
        monkeypatch.chdir(tmp_path)
        url = db_url if db_url.startswith("postgresql") else f"sqlite:///{tmp_path}/new.db"
        code, out, _ = run(capsys, "--db", url, "db", "upgrade")
        head = sqlmigrate.head_revision()
        assert code == 0 and (f"upgraded empty -> {head}" in out or "schema is current" in out)
        code, out, _ = run(capsys, "--db", url, "db", "upgrade")
        assert code == 0 and f"schema is current ({head})" in out

    def test_bad_database_url_is_a_clear_error(self, db_url: str,
                                               capsys: pytest.CaptureFixture[str]) -> None:
        """An unusable URL names itself in a one-line error, exit 1."""
        code, _, err = run(capsys, "--db", "nosuchdriver://x/y", "stats")
        assert code == 1 and err.startswith("reviewbot: error: cannot open database")


def test_progress_display_on_a_terminal(db_url: str, small_epoch: Path,
                                        monkeypatch: pytest.MonkeyPatch,
                                        capsys: pytest.CaptureFixture[str]) -> None:
    """On a TTY, stderr shows a self-overwriting progress line; stdout keeps the summary."""
    import sys

    monkeypatch.setattr(sys.stderr, "isatty", lambda: True)
    code, out, err = run(capsys, "--db", db_url, "ingest", "--epoch",
                         str(small_epoch), "--list", "linux-rdma")
    assert code == 0 and out.startswith("ingested 300 messages")
    assert "\rlinux-rdma (epoch): 300 messages" in err and err.endswith("\r\x1b[K")
