""""Applied" as maintainers really say it (issue 7), and who may say it.

The labelled set is tests/data/applied_statements (see its README): every
paragraph a maintainer wrote in the 2025 linux-rdma corpus that mentions
apply, took, picked, queued, merged or pulled, labelled by reading it.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from reviewbot.core.backlog.entitled import Appliers, applied_counts
from reviewbot.core.mail.applied import (
    applied_branch,
    applied_statement,
    find_applied,
    names_a_part,
    paragraphs,
)
from reviewbot.core.mail.classify import applied_notice
from reviewbot.core.mail.parse import parse_message
from reviewbot.core.mail.subject import parse_subject
from reviewbot.core.model import AppliedNotice
from tests.conftest import DATA
from tests.corpus import read_corpus
from tests.data.applied_statements.make_candidates import TSV, candidates, read_rows

ROWS = read_rows(TSV)
REPLY = parse_subject("Re: [PATCH] x")


def score() -> tuple[int, int, int, int]:
    """(true positives, false positives, false negatives, true negatives) over the set."""
    tp = fp = fn = tn = 0
    for r in ROWS:
        said, truth = applied_statement(r["line"]) is not None, r["label"] == "1"
        tp, fp = tp + (said and truth), fp + (said and not truth)
        fn, tn = fn + (truth and not said), tn + (not said and not truth)
    return tp, fp, fn, tn


def test_the_set_is_fully_labelled() -> None:
    """Every row carries a person's label; both kinds are well represented."""
    labels = [r["label"] for r in ROWS]
    assert set(labels) == {"0", "1"}
    assert len(ROWS) == 566
    assert labels.count("1") == 315


def test_precision_and_recall_on_the_labelled_set(capsys: pytest.CaptureFixture[str]) -> None:
    """Recall at least 0.98 and no false "applied" (precision 1.0), row by row."""
    tp, fp, fn, tn = score()
    precision, recall = tp / (tp + fp), tp / (tp + fn)
    with capsys.disabled():
        print(f"\napplied statements: {tp + fn} labelled 1, {fp + tn} labelled 0; "
              f"tp={tp} fp={fp} fn={fn} tn={tn}; "
              f"precision={precision:.3f} recall={recall:.3f}")
    wrong = [r["line"] for r in ROWS
             if (applied_statement(r["line"]) is not None) != (r["label"] == "1")]
    assert fp == 0, wrong
    assert recall >= 0.98, wrong


def test_distinct_wordings_score_alike() -> None:
    """Measured over distinct wordings too, so 215 "Applied, thanks!" do not carry it."""
    seen: dict[str, bool] = {}
    for r in ROWS:
        seen[r["line"]] = r["label"] == "1"
    positives = [line for line, truth in seen.items() if truth]
    found = [line for line in positives if applied_statement(line) is not None]
    false = [line for line, truth in seen.items()
             if not truth and applied_statement(line) is not None]
    assert false == []
    assert len(found) / len(positives) >= 0.98


@pytest.mark.parametrize(
    "line",
    [
        # the word after other words on the line
        "This fixes a real bug, applied to rc",
        "either way, Applied to for-next",
        # a count before it
        "Both patches applied to for-rc",
        "All three applied",
        "I have now applied the first two patches",
        # a fix-up first
        "I fixed it up and applied.",
        "I reworded the log and applied it to for-next",
        # other verbs
        "Picked it up, thanks",
        "I picked it up.",
        "Took it, thanks",
        "I took it.",
        "Queued for -rc",
        "OK, queued it up",
        "Merged, thanks!",
        "I've pulled this, thanks",
        "Applied v2 to for-next",
        "Thanks for testing, applied.",
    ],
)
def test_applied_wordings(line: str) -> None:
    """The kinds of lines issue 7 says the bot missed."""
    assert applied_statement(line) is not None


def test_bare_applied_closing_a_long_reply() -> None:
    """A lone "Applied" after a long technical answer to quoted review."""
    text = (
        "On Tue, Jan 7, 2025 at 10:00, A wrote:\n> +\tif (!qp)\n> +\t\treturn -EINVAL;\n\n"
        "This check is needed because the QP may be destroyed while the work\n"
        "is still queued, see the discussion on v1 about the refcount and why\n"
        "the lock alone does not close the race.\n\n"
        "> Please also fix the comment.\n\nApplied\n\n-- \nMaintainer\n"
    )
    assert find_applied(text) == "Applied"


@pytest.mark.parametrize(
    "line",
    [
        "doesn't apply",
        "This patch fails to apply to for-next.",
        "Once applied, the driver works.",
        "After applying the series it works.",
        "Please apply.",
        "This should be applied to stable.",
        "Which tree should this be applied to?",
        "I will apply it after -rc1.",
        "I applied it on top of for-next for testing.",
        "Applied on top of v6.15 for testing, no problem seen.",
        "This series applies on top of rdma-next.",
        "The patches are based on for-next and apply cleanly.",
        "I would have applied it but it does not build.",
        "I have not applied it yet.",
        "I took a quick look.",
        "I picked the simpler approach.",
        "I applied your patch and ran the tests.",
        "Based on the head commit ca91b9500108, I applied this patch series.",
        "I applied it to our internal queue, will let you know if we find issues.",
        "This was applied to bpf-next by mistake.",
        "I'll apply the good patches.",
        "I pulled this pattern out of the other functions.",
        "all dated about two years ago, merged in v6.7.",
    ],
)
def test_not_applied_wordings(line: str) -> None:
    """Failures, conditions, requests, plans, test runs and other senses never count."""
    assert applied_statement(line) is None


def test_quoted_statement_does_not_count() -> None:
    """A quoted "Applied" (the contributor answering the thank-you) is not a statement."""
    text = "On Mon, M wrote:\n> Applied to for-next, thanks\n\nThank you!\n"
    assert find_applied(text) is None
    assert applied_notice(text, REPLY, "author@example.com") is None


def test_contributor_saying_where_the_patch_applies() -> None:
    """A contributor's "applies to" or "rebased on" says nothing about a tree taking it."""
    text = ("Hi Leon,\n\nThis version applies to rdma-next; v1 was based on\n"
            "for-rc and did not apply any more.\n")
    assert applied_notice(text, REPLY, "author@example.com") is None


def test_paragraphs_join_wrapped_lines_and_skip_quotes_diffs_and_signature() -> None:
    text = ("On Mon, X wrote:\n> Applied\n\nI reworded the log and\napplied it to for-next\n\n"
            "diff --git a/x b/x\n--- a/x\n+++ b/x\n@@ -1 +1 @@\n-old applied\n+new\n\n"
            "Thanks\n-- \nApplied signature\n")
    assert paragraphs(text) == ["On Mon, X wrote:", "I reworded the log and applied it to for-next",
                                "Thanks"]


@pytest.mark.parametrize(
    ("statement", "branch", "part"),
    [
        ("Applied to the review-ilpo-next branch.", "review-ilpo-next", False),
        ("Queued for -rc", "-rc", False),
        ("I took this patch for now", None, False),
        ("I have applied patch 2 to the bpf tree", "bpf", True),
        ("I added patches 2-16 to mm.git", "mm.git", True),
        ("Applied just this patch", None, True),
        ("so applied to for-next", "for-next", False),
    ],
)
def test_branch_and_part(statement: str, branch: str | None, part: bool) -> None:
    """The branch a statement names, and whether it takes only some patches."""
    assert applied_branch(statement) == branch
    assert names_a_part(statement) is part


def test_notice_from_a_wrapped_fixup_statement() -> None:
    """The parser's notice: a statement in mid-paragraph, with its branch."""
    notice = applied_notice(
        "On Mon, X wrote:\n> patch\n\nThanks. The conflicts are easy enough to fix,\n"
        "so applied to for-next\n", REPLY, "jgg@nvidia.com")
    assert notice == AppliedNotice(branch="for-next", partial=False)


def test_plain_applied_mail_still_parses() -> None:
    """The existing real sample keeps its notice and branch."""
    m = parse_message((DATA / "mail" / "plain_applied_for_next.eml").read_bytes())
    assert m.applied is not None and m.applied.branch == "for-next"


class TestEntitlement:
    """Whether a statement counts is decided with routing, by the backlog."""

    RDMA = Appliers(
        maintainers=("Jason Gunthorpe <jgg@nvidia.com>", "Leon Romanovsky <leon@kernel.org>"),
        aliases={"leonro@nvidia.com": "leon@kernel.org"},
    )

    def test_the_sections_maintainer_is_entitled(self) -> None:
        assert self.RDMA.includes("jgg@nvidia.com")
        assert self.RDMA.includes("Jason Gunthorpe <JGG@nvidia.com>")

    def test_an_alias_of_a_maintainer_is_entitled(self) -> None:
        """leonro@nvidia.com is Leon (mailmap or same full name)."""
        assert self.RDMA.includes("LeonRo@nvidia.com")

    def test_committers_and_policy_named_people_are_entitled(self) -> None:
        assert Appliers(committers=["kuba@kernel.org"]).includes("kuba@kernel.org")
        assert Appliers(named=["saeed@kernel.org"]).includes("Saeed <saeed@kernel.org>")

    def test_anyone_else_is_not(self) -> None:
        """A tester's or contributor's "applied" never marks a series applied."""
        assert not self.RDMA.includes("yanjun.zhu@linux.dev")
        assert not self.RDMA.includes("")
        assert not Appliers().includes("jgg@nvidia.com")

    def test_patchwork_bot_notices_always_count(self) -> None:
        bot = AppliedNotice(branch="netdev/net.git (main)", partial=False, by_bot=True)
        human = AppliedNotice(branch="for-next", partial=False)
        assert applied_counts(bot, "patchwork-bot+netdevbpf@kernel.org", Appliers())
        assert applied_counts(human, "leon@kernel.org", self.RDMA)
        assert not applied_counts(human, "someone@example.com", self.RDMA)


@pytest.mark.corpus
@pytest.mark.slow
class TestCorpus:
    def test_the_set_holds_every_maintainer_paragraph(
        self, corpus_git: Path, kernel_maintainers: Path
    ) -> None:
        """The committed set is what the generator extracts from the corpus today."""
        fresh = {(r["message_id"], r["line"]) for r in candidates(corpus_git, kernel_maintainers)}
        assert fresh == {(r["message_id"], r["line"]) for r in ROWS}

    def test_message_level_notices_match_the_labels(self, corpus_git: Path) -> None:
        """A labelled reply has a notice exactly when one of its rows is labelled 1."""
        truth: dict[str, bool] = {}
        for r in ROWS:
            if r["kind"] == "reply":
                truth[r["message_id"]] = truth.get(r["message_id"], False) or r["label"] == "1"
        got: dict[str, bool] = {}
        for mail in read_corpus(corpus_git):
            m = parse_message(mail.raw, fallback_date=mail.received)
            if m.message_id in truth:
                got[m.message_id] = m.applied is not None
        assert got == truth
        assert sum(truth.values()) == 313
