"""Pull requests end to end: real repositories (tests/pulls_build.py), the real corpus, the CLI.

`pr prepare` on the maintainer's clean tag passes every check and its mail ends
in exactly what `git request-pull` prints; the rushed `bad` branch fails or
warns on every check it should; `pr send` goes through the PullMailer (the
spool directory) only on request, and `pr track` notices upstream took it. The
GitLab flow runs against tests/fake_gitlab.py, a local server speaking GitLab's
REST wire format (no real GitLab can run here).
"""

from __future__ import annotations

import email
import email.policy
import json
import mailbox
import subprocess
from email.message import EmailMessage
from pathlib import Path
from typing import Any

import pytest

from reviewbot.commands.trees.pr import X_MAILER
from tests.conftest import DATA
from tests.fake_gitlab import TOKEN, FakeGitLab, serve_in_thread
from tests.pulls_build import LINUS, World, git, write_settings
from tests.sqlfixtures import run

pytestmark = [pytest.mark.corpus, pytest.mark.slow]


def prepare(capsys: pytest.CaptureFixture[str], db: str, conf: Path, world: World,
            *args: str) -> tuple[int, dict[str, Any]]:
    code, out, err = run(capsys, "--config", str(conf), "--db", db, "pr", "prepare",
                         "--tree", str(world.rdma), "--json", *args)
    assert err == "", err
    return code, json.loads(out)


def checks(data: dict[str, Any]) -> dict[str, tuple[str, str]]:
    return {c["name"]: (c["result"], c["reason"]) for c in data["checks"]}


def parse(text: str) -> EmailMessage:
    msg = email.message_from_bytes(text.encode(), policy=email.policy.default)
    assert isinstance(msg, EmailMessage)
    return msg


def request_pull(world: World, base: str, tag: str) -> str:
    """What the maintainer would get running git request-pull by hand."""
    return subprocess.run(["git", "request-pull", base, str(world.public), tag],
                          cwd=world.rdma, capture_output=True, check=False).stdout.decode()


@pytest.fixture
def conf(tmp_path: Path, world: World) -> Path:
    return write_settings(tmp_path, world)


GOOD = ["--subsystem", "rdma", "--tag", "rdma-for-6.17", "--as-of", "2025-07-24"]


class TestPrepare:
    def test_a_clean_tag_passes_and_its_mail_ends_in_request_pull(
            self, capsys: pytest.CaptureFixture[str], world: World, world_db: str,
            conf: Path) -> None:
        code, data = prepare(capsys, world_db, conf, world, *GOOD)
        assert code == 0
        assert {name: r for name, (r, _) in checks(data).items()} == dict.fromkeys(
            ["tag_signed", "tag_verified", "tag_pushed", "base", "series", "signed_off",
             "fixes", "outside_files", "linux_next", "late_rebase", "uapi", "merge_window"],
            "pass")
        expected = request_pull(world, "v6.16-rc1", "rdma-for-6.17")
        assert "tags/rdma-for-6.17" in expected and "Kalesh AP (2):" in expected
        msg = parse(data["email"])
        body = msg.get_content()
        assert body.endswith(expected) and body == data["summary"] + expected
        assert data["request_pull"] == expected
        assert msg["Subject"] == "[GIT PULL] RDMA changes for v6.17"
        assert msg["From"] == "Leon Romanovsky <leon@kernel.org>"
        assert msg["To"] == "Linus Torvalds <torvalds@linux-foundation.org>"
        assert msg["Cc"] == "linux-rdma@vger.kernel.org, linux-kernel@vger.kernel.org"
        summary = data["summary"]
        assert summary.startswith("Hi Linus,\n\nPlease pull the RDMA changes for v6.17: 6 "
                                  "commits from 4 tracked series.\n")
        assert ("RDMA/bnxt_re:\n- bnxt_re driver update (v1, 3 commits)\n  This patchset adds "
                "support for 2G page size in the bnxt_re driver.") in summary
        assert "https://lore.kernel.org/r/20250704043857.19158-1-kalesh-anakkur.purayil" \
            "@broadcom.com\n" in summary
        assert "- RDMA/rxe: Remove redundant page presence check (v3, 1 commit)" in summary
        assert "sashal" not in summary  # the AUTOSEL copy of a bnxt_re patch is no posting
        assert data["base"] == "v6.16-rc1" and data["status"] == "draft"

    def test_a_rushed_branch_fails_or_warns_on_every_check_it_should(
            self, capsys: pytest.CaptureFixture[str], world: World, world_db: str,
            conf: Path) -> None:
        base = git(world.linux, "log", "--format=%H", "-1", "--grep", "unrelated",
                   "master").strip()
        code, data = prepare(capsys, world_db, conf, world, "--subsystem", "rdma", "--tag",
                             "rdma-bad", "--base", base, "--as-of", "2025-08-05")
        assert code == 1
        got = checks(data)
        assert {n: r for n, (r, _) in got.items()} == {
            "tag_signed": "pass", "tag_verified": "fail", "tag_pushed": "fail", "base": "fail",
            "series": "fail", "signed_off": "fail", "fixes": "fail", "outside_files": "warn",
            "linux_next": "warn", "late_rebase": "warn", "uapi": "warn",
            "merge_window": "warn"}
        assert "No public key" in got["tag_verified"][1]
        assert "is not at" in got["tag_pushed"][1]
        assert got["base"][1].startswith(f"the base {base} ")
        series = got["series"][1]
        assert series.startswith("5 of 5 commits: ")
        assert "NAKed by kuba@kernel.org" in series
        assert "superseded by <20250708202308.24783-1-mrgolin@amazon.com>" in series
        assert 'RDMA/hns: Keep local notes") matches no tracked posting' in series
        assert "nobody but the author reviewed or acked" in series
        assert "RDMA/efa: Add CQ with external memory support\") lacks Signed-off-by: Leon " \
            "Romanovsky <leon@kernel.org>" in got["signed_off"][1]
        assert "Fixes: e586b3b0baee names no commit in the tree" in got["fixes"][1]
        assert "drivers/net/ethernet/mellanox/mlx5/core/en_rx.c without an ack from" in \
            got["outside_files"][1]
        assert got["linux_next"][1].startswith("5 of 5 commits are not in linux-next")
        assert got["late_rebase"][1].startswith("5 of 5 commits were committed in the 5 days "
                                                "before 2025-07-27")
        assert "week 2 of the merge window after v6.16" in got["merge_window"][1]
        # The text is still exactly git's, warnings about the unpushed tag aside.
        assert parse(data["email"]).get_content().endswith(request_pull(world, base,
                                                                         "rdma-bad"))

    def test_an_unsigned_tag_fails(self, capsys: pytest.CaptureFixture[str], world: World,
                                   world_db: str, conf: Path) -> None:
        code, data = prepare(capsys, world_db, conf, world, "--subsystem", "rdma", "--tag",
                             "rdma-unsigned", "--as-of", "2025-07-24")
        got = checks(data)
        assert code == 1
        assert got["tag_signed"] == ("fail", "rdma-unsigned is annotated but not signed: "
                                             "re-create it with `git tag -s`")
        assert got["tag_verified"][0] == got["tag_pushed"][0] == "fail"

    @pytest.mark.parametrize("args,error", [
        (["--tag", "nope"], "no tag 'nope'"),
        (["--tag", "rdma-for-6.17", "--base", "no-such-ref"], "'no-such-ref' names no commit"),
        (["--tag", "rdma-for-6.17", "--base", "rdma-for-6.17"], "adds no commits"),
    ])
    def test_bad_input_is_one_clear_line(self, capsys: pytest.CaptureFixture[str], world: World,
                                         world_db: str, conf: Path, args: list[str],
                                         error: str) -> None:
        code, out, err = run(capsys, "--config", str(conf), "--db", world_db, "pr", "prepare",
                             "--subsystem", "rdma", "--tree", str(world.rdma), *args)
        assert code == 1 and out == ""
        assert err.startswith("reviewbot: error: ") and error in err
        assert err.count("\n") == 1


def tracker_reply(to_message_id: str) -> bytes:
    """pr-tracker-bot's real reply (tests/data/mail), re-addressed to our pull request."""
    raw = (DATA / "mail" / "pr_tracker_bot.eml").read_bytes()
    # A new Message-ID too: the corpus already holds the original reply.
    return raw.replace(b"20251203151847.GA1224837@nvidia.com", to_message_id.encode()).replace(
        b"176490369528.1073302.16512041061853736945", b"1753700000.1.2")


class TestSendAndTrack:
    def send(self, capsys: pytest.CaptureFixture[str], db: str, conf: Path, world: World,
             spool: Path) -> tuple[int, str]:
        code, data = prepare(capsys, db, conf, world, *GOOD)
        assert code == 0
        code, out, err = run(capsys, "--db", db, "pr", "send", str(data["id"]), "--outbox",
                             str(spool))
        assert code == 0, err
        [path] = list(spool.iterdir())
        msg = parse(path.read_text())
        mid = str(msg["Message-ID"]).strip("<>")
        assert out == f"draft {data['id']}: queued <{mid}> as {path} (send it with " \
            f"`git send-email {path}` or your mail client)\n"
        assert msg.get_content() == data["summary"] + data["request_pull"]
        assert msg["Subject"] == "[GIT PULL] RDMA changes for v6.17"
        return data["id"], mid

    def test_nothing_is_sent_twice_and_pr_tracker_bot_marks_it_merged(
            self, capsys: pytest.CaptureFixture[str], world: World, world_db: str, conf: Path,
            tmp_path: Path) -> None:
        spool = tmp_path / "outbox"
        draft_id, mid = self.send(capsys, world_db, conf, world, spool)
        code, _, err = run(capsys, "--db", world_db, "pr", "send", str(draft_id), "--outbox",
                           str(spool))
        assert code == 1 and "was already sent" in err and len(list(spool.iterdir())) == 1
        code, out, _ = run(capsys, "--db", world_db, "pr", "track")
        assert code == 0 and out == "no sent pull request was merged since the last look\n"
        reply = tmp_path / "reply.mbox"
        box = mailbox.mbox(reply)
        box.add(tracker_reply(mid))
        box.flush()
        assert run(capsys, "--db", world_db, "ingest", "--list", "linux-rdma", "--mbox",
                   str(reply))[0] == 0
        code, out, _ = run(capsys, "--db", world_db, "pr", "track")
        assert code == 0
        assert out == (f"draft {draft_id} (rdma-for-6.17) merged: pr-tracker-bot: merged into "
                       "torvalds/linux.git: https://git.kernel.org/torvalds/c/"
                       "55aa394a5ed871208eac11c5f4677cafd258c4dd\n")
        code, out, _ = run(capsys, "--db", world_db, "pr", "list", "--json")
        [listed] = [d for d in json.loads(out) if d["id"] == draft_id]
        assert listed["status"] == "merged" and listed["sent_ref"] == mid

    def test_the_tag_merged_upstream_marks_it_merged(
            self, capsys: pytest.CaptureFixture[str], world: World, world_db: str, conf: Path,
            tmp_path: Path) -> None:
        draft_id, _ = self.send(capsys, world_db, conf, world, tmp_path / "outbox")
        linus = tmp_path / "linus"
        git(tmp_path, "clone", "-q", str(world.linux), str(linus))
        args = ["--db", world_db, "pr", "track", "--tree", str(linus), "--upstream-ref",
                "master"]
        assert run(capsys, *args)[1].startswith("no sent pull request")
        git(linus, "pull", "-q", "--no-rebase", "--no-edit", str(world.public),
            "tag", "rdma-for-6.17", when="2025-07-28T10:00:00+00:00", who=LINUS)
        tip = git(world.rdma, "rev-parse", "rdma-for-6.17^{commit}").strip()
        code, out, _ = run(capsys, *args)
        assert (code, out) == (0, f"draft {draft_id} (rdma-for-6.17) merged: tip {tip[:12]} "
                                  "of rdma-for-6.17 is in master\n")

    def test_a_draft_with_failed_checks_is_never_sent(
            self, capsys: pytest.CaptureFixture[str], world: World, world_db: str, conf: Path,
            tmp_path: Path) -> None:
        code, data = prepare(capsys, world_db, conf, world, "--subsystem", "rdma", "--tag",
                             "rdma-unsigned", "--as-of", "2025-07-24")
        spool = tmp_path / "outbox"
        code, _, err = run(capsys, "--db", world_db, "pr", "send", str(data["id"]), "--outbox",
                           str(spool))
        assert code == 1 and "failed 3 readiness check(s) (tag_signed, tag_verified, " \
            "tag_pushed)" in err
        assert not spool.exists()


def test_gitlab_merge_request_flow(capsys: pytest.CaptureFixture[str], world: World,
                                   world_db: str, tmp_path: Path,
                                   monkeypatch: pytest.MonkeyPatch) -> None:
    """Prepare reports existing merge requests; send opens one; a second send refuses."""
    fake = FakeGitLab()
    monkeypatch.setenv("REVIEWBOT_GITLAB_TOKEN", TOKEN)
    with serve_in_thread(fake) as url:
        conf = write_settings(tmp_path, world, gitlab=url)
        args = ["--subsystem", "msm", "--tag", "rdma-for-6.17", "--as-of", "2025-07-24"]
        code, data = prepare(capsys, world_db, conf, world, *args)
        assert code == 0 and data["transport"] == "gitlab-mr"
        assert data["subject"] == "[PULL] rdma-for-6.17"
        assert data["gitlab"]["existing"] == []
        code, out, err = run(capsys, "--db", world_db, "pr", "send", str(data["id"]))
        assert code == 0, err
        assert out == f"draft {data['id']}: opened merge request !1 {url}/drm/msm/-/" \
            "merge_requests/1\n"
        [mr] = fake.mrs
        assert (mr["title"], mr["source_branch"], mr["target_branch"], mr["labels"]) == (
            "rdma-for-6.17", "msm-next", "drm-next", ["msm"])
        assert mr["description"].startswith("Please pull the msm changes for v6.17: 6 commits")
        assert data["request_pull"] in mr["description"]
        code, again = prepare(capsys, world_db, conf, world, *args)
        [existing] = again["gitlab"]["existing"]
        assert existing["iid"] == 1 and existing["approved_by"] == ["robclark"]
        assert existing["pipelines"] == [{"id": 501, "status": "success",
                                          "ref": "refs/merge-requests/1/head",
                                          "web_url": f"{url}/drm/msm/-/pipelines/501"}]
        code, _, err = run(capsys, "--db", world_db, "pr", "send", str(again["id"]))
        assert code == 1 and "merge request !1 is open already" in err
        assert len(fake.mrs) == 1
    assert {ua for _, _, ua in fake.requests} == {X_MAILER}
