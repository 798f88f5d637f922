"""Upstream debt: one class per commit, decided in a fixed order (core.pulls.debt)."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime, timedelta

import pytest

from reviewbot.core.model import MessageId, SeriesId, TrailerKind
from reviewbot.core.pulls.debt import (
    DebtClass,
    author_domain,
    breakdown,
    classify,
    debt_metric,
    totals,
    trend,
)
from reviewbot.core.pulls.match import CommitPosting
from reviewbot.core.pulls.model import AppliedCommit, CommitInfo, Posting, Review, SeriesSummary

NOW = datetime(2025, 7, 12, tzinfo=UTC)
STALE = timedelta(days=30)
C = CommitInfo("c" * 40, "RDMA/x: y", "V", "v@vendor.example", NOW - timedelta(days=40),
               "V", "v@vendor.example", NOW - timedelta(days=10))
P = Posting(MessageId("p@x"), SeriesId("p@x"), 1, "[PATCH] RDMA/x: y", "V", "v@vendor.example",
            NOW - timedelta(days=5), "pid")
S = SeriesSummary(SeriesId("p@x"), "RDMA/x: y", 1, "V", "v@vendor.example",
                  NOW - timedelta(days=5), "new", None, (), 1, 1, NOW - timedelta(days=3))


def cls(series: SeriesSummary | None = S, *, upstream: str | None = None,
        posted: bool = True) -> tuple[DebtClass, str]:
    matched = CommitPosting(C.sha, P, "patch-id") if posted else None
    item = classify(C, NOW, upstream=upstream, matched=matched, newest=P if posted else None,
                    series=series, stale_after=STALE)
    return item.cls, item.reason


@pytest.mark.parametrize("series,want", [
    (S, DebtClass.WAITING_ON_REVIEWERS),
    (replace(S, state="under_review"), DebtClass.WAITING_ON_REVIEWERS),
    (replace(S, state="reviewed"), DebtClass.WAITING_ON_REVIEWERS),
    (replace(S, state="changes_requested"), DebtClass.WAITING_ON_AUTHOR),
    (replace(S, state="rfc"), DebtClass.WAITING_ON_AUTHOR),
    (replace(S, state="rejected"), DebtClass.REJECTED_OR_EXPIRED),
    (replace(S, state="archived"), DebtClass.REJECTED_OR_EXPIRED),
    (replace(S, reviews=(Review(TrailerKind.NACKED_BY, "N", "n@x", 0),)),
     DebtClass.REJECTED_OR_EXPIRED),
    (replace(S, superseded_by=SeriesId("v2@x"), state="superseded"),
     DebtClass.REJECTED_OR_EXPIRED),
    (replace(S, last_activity=NOW - timedelta(days=31)), DebtClass.REJECTED_OR_EXPIRED),
    (replace(S, state="applied"), DebtClass.IN_MAINTAINER_TREE),
    (replace(S, applied_in=(AppliedCommit(1, "rdma", "for-next", "a" * 40),)),
     DebtClass.IN_MAINTAINER_TREE),
])
def test_a_posted_commit_is_classed_by_its_newest_postings_series(
        series: SeriesSummary, want: DebtClass) -> None:
    assert cls(series)[0] is want


def test_upstream_wins_over_everything() -> None:
    assert cls(upstream="an equivalent patch is upstream") == (
        DebtClass.UPSTREAM, "an equivalent patch is upstream")


def test_no_posting_is_never_posted() -> None:
    assert cls(None, posted=False)[0] is DebtClass.NEVER_POSTED


def test_a_tree_commit_of_another_patch_of_the_series_does_not_count() -> None:
    other = replace(S, state="partially_applied",
                    applied_in=(AppliedCommit(2, "rdma", "for-next", "a" * 40),))
    assert cls(other)[0] is DebtClass.WAITING_ON_REVIEWERS


def test_reasons_say_where_it_is_stuck() -> None:
    tree = replace(S, applied_in=(AppliedCommit(1, "/src/rdma", "for-next", "a" * 40),))
    assert cls(tree)[1] == "applied to for-next of /src/rdma as aaaaaaaaaaaa"
    assert cls(replace(S, last_activity=NOW - timedelta(days=50)))[1] == \
        "expired: no activity for 50 days (new)"
    assert cls(replace(S, superseded_by=SeriesId("v2@x")))[1] == \
        "dropped: not in the newer revision <v2@x>"


def test_totals_breakdowns_trend_and_the_metric() -> None:
    items = [classify(C, NOW, upstream=None, matched=None, newest=None, series=None,
                      stale_after=STALE),
             classify(replace(C, author_email="b@other.example"), NOW, upstream="x",
                      matched=None, newest=None, series=None, stale_after=STALE)]
    t = totals(items)
    assert t == {"upstream": 1, "in_maintainer_tree": 0, "waiting_on_reviewers": 0,
                 "waiting_on_author": 0, "rejected_or_expired": 0, "never_posted": 1}
    assert breakdown(items, author_domain) == {
        "other.example": {**dict.fromkeys(t, 0), "upstream": 1},
        "vendor.example": {**dict.fromkeys(t, 0), "never_posted": 1}}
    assert trend([], t) == {}
    before = {**t, "never_posted": 3}
    assert trend([(NOW - timedelta(days=7), before)], t)["never_posted"] == -2
    metric = debt_metric("ofed", t)
    assert len(metric) == 6 and metric[("ofed", "never_posted")] == 1
    assert metric[("ofed", "waiting_on_author")] == 0
    assert all("@" not in label for key in metric for label in key)


def test_age_counts_from_the_commit_reaching_the_branch() -> None:
    item = classify(C, NOW, upstream=None, matched=None, newest=None, series=None,
                    stale_after=STALE)
    assert item.age_days == 10 and item.to_json()["class"] == "never_posted"
