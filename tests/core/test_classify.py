"""Bots, "applied" notices and pull requests, on real mails from the corpus
(tests/data/mail, see its README) plus a few one-line variants."""

from __future__ import annotations

from pathlib import Path

import pytest

from reviewbot.core.mail.classify import applied_notice, is_bot, pull_request
from reviewbot.core.mail.parse import parse_message
from reviewbot.core.mail.subject import parse_subject
from reviewbot.core.model import Message, MessageKind
from tests.conftest import DATA

MAIL = DATA / "mail"


def parse(name: str) -> Message:
    return parse_message((MAIL / f"{name}.eml").read_bytes())


@pytest.mark.parametrize(
    "name",
    ["lkp_robot", "syzbot_report", "pwbot_series_applied", "pr_tracker_bot",
     "launchpad_build", "autosubmitted"],
)
def test_bot_mail_is_flagged(name: str) -> None:
    """Test robot, syzbot, patchwork-bot, pr-tracker-bot, noreply and Auto-Submitted mail."""
    assert parse(name).is_bot


@pytest.mark.parametrize("name", ["b4_ty_applied", "nacked", "qualifier_ack", "git_pull_qp_signed"])
def test_human_mail_is_not_a_bot(name: str) -> None:
    """Maintainers' mail, b4 ty included, is human."""
    assert not parse(name).is_bot


def test_auto_submitted_no_is_human() -> None:
    """`Auto-Submitted: no` explicitly marks a human message."""
    assert not is_bot("A", "a@x", {"auto-submitted": "no"})
    assert is_bot("A", "a@x", {"auto-submitted": "auto-replied"})


def test_b4_ty_applied() -> None:
    """b4 ty's "Applied, thanks!" with the commit link of each patch."""
    m = parse("b4_ty_applied")
    assert m.applied is not None
    assert (m.applied.branch, m.applied.partial, m.applied.by_bot) == (None, False, False)
    assert m.applied.commits == ("64a5e132a82a02",)


def test_b4_ty_subset_is_partial() -> None:
    """"Re: (subset)" marks a partial apply; both commits are listed."""
    m = parse("b4_ty_subset")
    assert m.applied is not None and m.applied.partial
    assert m.applied.commits == ("fcfb03597b7d77", "e73242aa14d2ec")


def test_plain_applied_to_branch() -> None:
    """A maintainer's own "Applied to for-next." names the branch."""
    m = parse("plain_applied_for_next")
    assert m.applied is not None
    assert m.applied.branch == "for-next"


def test_patchwork_bot_series_applied() -> None:
    """patchwork-bot's notice: tree, every commit, a bot notice, not partial."""
    m = parse("pwbot_series_applied")
    assert m.applied is not None
    assert m.applied.branch == "netdev/net.git (main)"
    assert m.applied.commits == ("cd7671ef4cf2", "35e93736f699")
    assert m.applied.by_bot and not m.applied.partial
    assert m.message_id == (
        "176484601029.732369.14722259255665486033.git-patchwork-notify@kernel.org"
    )


def test_patchwork_bot_patch_applied() -> None:
    """"This patch was applied to" counts as well; the folded Message-Id is read."""
    m = parse("pwbot_patch_applied")
    assert m.applied is not None and m.applied.commits == ("ee39bae6c141",)
    assert m.message_id == (
        "174732243949.3145583.8227565924121305936.git-patchwork-notify@kernel.org"
    )


SUBJ = parse_subject("Re: [PATCH] x")


@pytest.mark.parametrize(
    ("line", "branch"),
    [
        ("Applied, thanks!", None),
        ("Thanks, applied to mlx5-next.", "mlx5-next"),
        ("Applied to for-rc thanks", "for-rc"),
        ("Applied to 6.15/scsi-queue, thanks!", "6.15/scsi-queue"),
        ("Applied to the review-ilpo-next branch.", "review-ilpo-next"),
        ("Applied to misc/kernel.git (drm-misc-next-fixes).",
         "misc/kernel.git (drm-misc-next-fixes)"),
        ("I have applied it. Thanks!", None),
        ("Applied with the following change to prevent arithmetic overflow.", None),
    ],
)
def test_applied_line_variants(line: str, branch: str | None) -> None:
    """Real "applied" wordings from the corpus and the branch they name."""
    notice = applied_notice(f"On Mon, X wrote:\n> quoted\n\n{line}\n", SUBJ, "m@kernel.org")
    assert notice is not None
    assert notice.branch == branch


@pytest.mark.parametrize(
    "text",
    [
        "> Applied, thanks!\n",
        "Can this be applied?\n",
        "I applied this patch on top of v6.17-rc3 kernel, but still I observe the hang\n",
        "With the patch applied I didn't get the hang\n",
        "the fix needs to be\napplied the same way.\n",
    ],
)
def test_not_applied(text: str) -> None:
    """Quotes, questions and testers' reports are not notices."""
    assert applied_notice(text, SUBJ, "m@kernel.org") is None


def test_applied_needs_a_reply() -> None:
    """A fresh mail is never an applied notice."""
    assert applied_notice("Applied, thanks!\n", parse_subject("[PATCH] x"), "m@x") is None


def test_git_pull_request() -> None:
    """[GIT PULL] in a signed, quoted-printable mail: URL, tag, base and tip."""
    m = parse("git_pull_qp_signed")
    assert m.kind is MessageKind.PULL_REQUEST
    assert m.pull is not None
    assert m.pull.url == "git://git.kernel.org/pub/scm/linux/kernel/git/rdma/rdma.git"
    assert m.pull.ref == "tags/for-linus"
    assert m.pull.base_commit == "1b237f190eb3d36f52dffe07a40b5eb210280e00"
    assert m.pull.tip_commit == "85fe9f565d2d5af95ac2bbaa5082b8ce62b039f5"


def test_mlx5_pull_request() -> None:
    """The mlx5 "[pull-request]" style is a pull request too."""
    m = parse("pull_request_mlx5")
    assert m.kind is MessageKind.PULL_REQUEST
    assert m.pull is not None
    assert m.pull.url == "git://git.kernel.org/pub/scm/linux/kernel/git/mellanox/linux.git"
    assert m.pull.ref == "tags/mlx5-rs-fec-ifc"


def test_pull_tracker_reply_is_not_a_pull() -> None:
    """pr-tracker-bot quotes the URL in its reply; that is not a new pull request."""
    m = parse("pr_tracker_bot")
    assert m.kind is MessageKind.REPLY
    assert m.pull is None


def test_intel_pull_wording() -> None:
    """Intel's "and are available in the git repository at:" with a branch."""
    text = (
        "The following are changes since commit 0123456789abcdef0123456789abcdef01234567:\n"
        "  net: x\n"
        "and are available in the git repository at:\n"
        "  git://git.kernel.org/pub/scm/linux/kernel/git/tnguy/next-queue 200GbE\n"
    )
    pr = pull_request(text)
    assert pr is not None
    assert (pr.url, pr.ref) == ("git://git.kernel.org/pub/scm/linux/kernel/git/tnguy/next-queue",
                                "200GbE")
    assert pr.base_commit == "0123456789abcdef0123456789abcdef01234567"


def test_samples_readme_lists_every_sample() -> None:
    """Every sample mail has its source commit in the README."""
    readme = (MAIL / "README.md").read_text()
    names = sorted(p.stem for p in Path(MAIL).glob("*.eml"))
    assert names
    assert all(f"`{n}.eml`" in readme for n in names)
