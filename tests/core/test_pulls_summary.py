"""The pull request's words: subject templates, recipients, the summary, the mail; and
which posting a commit is (pure matching), and pr-tracker-bot's merge notice."""

from __future__ import annotations

import email
import email.policy
import re
from dataclasses import replace
from datetime import UTC, datetime

import pytest

from reviewbot.core.model import MessageId, SeriesId
from reviewbot.core.policy.model import Pull
from reviewbot.core.pulls.cycle import cycle_from_tags
from reviewbot.core.pulls.match import CommitPosting, match_commit, wanted_keys
from reviewbot.core.pulls.model import CommitInfo, Posting, SeriesSummary, lore_link
from reviewbot.core.pulls.summary import (
    first_paragraph,
    recipients,
    render_email,
    subject,
    summary,
    topic,
)
from reviewbot.core.pulls.tracker import tracker_merge
from tests.conftest import DATA

NOW = datetime(2025, 7, 24, tzinfo=UTC)
RC7 = cycle_from_tags([("v6.15", datetime(2025, 5, 25, tzinfo=UTC)),
                       ("v6.16-rc7", datetime(2025, 7, 20, tzinfo=UTC))], NOW)


class TestSubject:
    def test_the_default_subject_names_the_release_new_work_goes_to(self) -> None:
        assert subject(Pull(name="RDMA"), "rdma", "for-next-6.17", RC7, NOW) == \
            "[GIT PULL] RDMA changes for v6.17"

    def test_a_fixes_tag_uses_the_fixes_template(self) -> None:
        assert subject(Pull(), "rdma", "for-rc-2025-07-22", RC7, NOW) == \
            "[GIT PULL] rdma fixes for v6.16-rc8"

    def test_drm_style_names_the_branch_from_a_dated_tag(self) -> None:
        pull = Pull(subject_template="[PULL] {branch}", fixes_subject_template="[PULL] {branch}")
        assert subject(pull, "drm-misc", "drm-misc-next-2025-07-17", RC7, NOW) == \
            "[PULL] drm-misc-next"
        assert subject(pull, "drm-misc", "drm-misc-fixes-2025-07-17", RC7, NOW) == \
            "[PULL] drm-misc-fixes"

    def test_every_placeholder_fills_in(self) -> None:
        pull = Pull(subject_template="{name}|{version}|{developing}|{next_rc}|{tag}|{branch}|"
                                     "{date}", name="X")
        assert subject(pull, "x", "t-2025-07-01", RC7, NOW) == \
            "X|6.17|6.16|6.16-rc8|t-2025-07-01|t|2025-07-24"


class TestRecipients:
    def test_lists_expand_and_nobody_appears_twice(self) -> None:
        pull = Pull(cc=("lists", "linux-kernel@vger.kernel.org",
                        "Linus <TORVALDS@linux-foundation.org>"))
        to, cc = recipients(pull, ("linux-rdma@vger.kernel.org", "linux-kernel@vger.kernel.org"))
        assert to == ("Linus Torvalds <torvalds@linux-foundation.org>",)
        assert cc == ("linux-rdma@vger.kernel.org", "linux-kernel@vger.kernel.org")


class TestFirstParagraph:
    @pytest.mark.parametrize("body,want", [
        ("Hi,\n\nThis series adds X.\nIt also fixes Y.\n\nMore.\n", "This series adds X. It "
         "also fixes Y."),
        ("Hi all,\nThis adds X.\n\nMore\n", "This adds X."),
        ("This patchset adds 2G.\n\nKalesh\n", "This patchset adds 2G."),
        ("> quoted\n\nOwn words.\n", "Own words."),
        ("From Patrisious,\n\nThe following series adds:\nA - x\n", "The following series "
         "adds: A - x"),
        ("\n---\nbase-commit: abc\n", ""),
    ])
    def test_cases(self, body: str, want: str) -> None:
        assert first_paragraph(body) == want


def summary_for(title: str, total: int = 3, paragraph: str = "") -> SeriesSummary:
    return SeriesSummary(SeriesId("s@x"), title, 2, "A", "a@x", NOW, "reviewed", None, (),
                         total, total, NOW, paragraph)


def commit(n: int, subj: str, pid: str | None = None,
           trailers: tuple[tuple[str, str], ...] = ()) -> CommitInfo:
    return CommitInfo(f"{n:040x}", subj, "A Author", "a@x", NOW, "M", "m@x", NOW, trailers,
                      (), pid)


class TestSummary:
    def test_series_are_grouped_by_topic_with_counts_paragraphs_and_links(self) -> None:
        c1, c2, c3 = commit(1, "RDMA/bnxt_re: a"), commit(2, "RDMA/bnxt_re: b"), commit(3, "x")
        s = summary_for("bnxt_re driver update", 3, "This adds 2G page support to the driver, "
                        "and a lot more words so that the paragraph has to be wrapped.")
        p = Posting(MessageId("p@x"), s.series_id, 1, "s", "A", "a@x", NOW, None)
        text = summary("Hi Linus,", "Please pull", [c1, c2, c3],
                       {c1.sha: CommitPosting(c1.sha, p, "patch-id"),
                        c2.sha: CommitPosting(c2.sha, p, "patch-id")}, {s.series_id: s})
        assert text == (
            "Hi Linus,\n\nPlease pull: 3 commits from 1 tracked series and 1 not posted to a\n"
            "tracked list.\n\nRDMA/bnxt_re:\n- bnxt_re driver update (v2, 2 of 3 patches)\n"
            "  This adds 2G page support to the driver, and a lot more words so that\n"
            "  the paragraph has to be wrapped.\n  https://lore.kernel.org/r/s@x\n\n"
            "Not posted to a tracked list:\n- x\n\n")
        assert all(len(line) <= 72 for line in text.splitlines() if "://" not in line)

    @pytest.mark.parametrize("title,fallback,want", [
        ("RDMA/mlx5: Fix x", "", "RDMA/mlx5"), ("Add steering", "net/mlx5: y", "net/mlx5"),
        ("Add steering", "no prefix", "General"), ("IB/mad: Add flow", "", "IB/mad")])
    def test_topics(self, title: str, fallback: str, want: str) -> None:
        assert topic(title, fallback) == want


class TestEmail:
    def test_the_body_survives_byte_for_byte_and_headers_fold(self) -> None:
        body = ("Hi Linus,\n\n" + "x" * 200 + "\ntrailing space  \n\u00fc\n"
                "From the start of a line\n")
        text = render_email("Leon Romanovsky <leon@kernel.org>",
                            ["Linus Torvalds <torvalds@linux-foundation.org>"],
                            [f"P{i} <p{i}@example.org>" for i in range(8)],
                            "[GIT PULL] RDMA changes for v6.17", body, x_mailer="reviewbot/t",
                            message_id="1.reviewbot@kernel.org", date=NOW)
        msg = email.message_from_bytes(text.encode(), policy=email.policy.default)
        assert msg.get_content() == body
        assert msg["Content-Transfer-Encoding"] == "8bit"
        assert msg["Message-ID"] == "<1.reviewbot@kernel.org>"
        head = text.split("\n\n", 1)[0]
        assert all(len(line) <= 78 for line in head.splitlines())


class TestMatch:
    P1 = Posting(MessageId("v1@x"), SeriesId("v1@x"), 1, "[PATCH] RDMA/x: Fix y", "A Author",
                 "a@x", datetime(2025, 6, 1, tzinfo=UTC), "pid")
    P2 = replace(P1, message_id=MessageId("v2@x"), series_id=SeriesId("v2@x"),
                 subject="[PATCH v2] RDMA/x: Fix y", date=datetime(2025, 6, 8, tzinfo=UTC))

    def match(self, c: CommitInfo) -> CommitPosting | None:
        pids, mids, subjects = wanted_keys([c])
        by_pid = {"pid": [self.P1, self.P2]} if "pid" in pids else {}
        by_mid = {p.message_id: p for p in (self.P1, self.P2) if p.message_id in mids}
        by_subject = {"rdma/x: fix y": [self.P1, self.P2]} if "rdma/x: fix y" in subjects else {}
        return match_commit(c, by_pid, by_mid, by_subject)

    def test_same_patch_id_takes_the_newest_posting_even_after_the_commit(self) -> None:
        """A vendor commits first and posts later: dates never rule a posting out."""
        c = replace(commit(1, "RDMA/x: Fix y", "pid"), committer_date=datetime(2025, 1, 1,
                                                                                tzinfo=UTC))
        cp = self.match(c)
        assert cp is not None and (cp.posting.message_id, cp.method) == ("v2@x", "patch-id")

    def test_a_link_picks_among_identical_postings(self) -> None:
        c = commit(1, "RDMA/x: Fix y", "pid", (("Link", "https://patch.msgid.link/v1@x"),))
        cp = self.match(c)
        assert cp is not None and cp.posting.message_id == "v1@x"

    def test_an_edited_commit_matches_the_posting_its_link_names(self) -> None:
        c = commit(1, "RDMA/x: Fix y", "other", (("Link", "https://lore.kernel.org/r/v1@x"),))
        cp = self.match(c)
        assert cp is not None and (cp.posting.message_id, cp.method) == ("v1@x", "trailer")

    def test_subject_and_author_is_the_fuzzy_fallback(self) -> None:
        cp = self.match(commit(1, "RDMA/x: Fix y", "other"))
        assert cp is not None and cp.fuzzy and cp.posting.message_id == "v2@x"
        other_author = replace(commit(1, "RDMA/x: Fix y", "other"), author_email="b@x",
                               author_name="B Other")
        assert self.match(other_author) is None


def test_pr_tracker_bots_reply_names_the_merge() -> None:
    merged = tracker_merge((DATA / "mail" / "pr_tracker_bot.eml").read_bytes())
    assert merged is not None
    assert merged.merge_commit == "55aa394a5ed871208eac11c5f4677cafd258c4dd"
    assert merged.at == datetime(2025, 12, 5, 3, 1, 35, tzinfo=UTC)
    assert merged.evidence == ("pr-tracker-bot: merged into torvalds/linux.git: "
                               "https://git.kernel.org/torvalds/c/"
                               "55aa394a5ed871208eac11c5f4677cafd258c4dd")


def test_other_mail_is_no_merge_notice() -> None:
    assert tracker_merge((DATA / "mail" / "pull_request_mlx5.eml").read_bytes()) is None


def test_lore_links_quote_what_urls_cannot_hold() -> None:
    assert lore_link("3FDAD147897E51E6+2025@uniontech.com") == \
        "https://lore.kernel.org/r/3FDAD147897E51E6+2025@uniontech.com"
    assert re.search("%2F", lore_link("a/b@x"))
