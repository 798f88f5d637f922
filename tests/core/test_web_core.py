"""The HTTP surface's pure parts: chat syntax, rate limits, replay memory, histograms and
the backlog over time from stored columns."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from reviewbot.core.backlog.history import (
    Span,
    age_distribution,
    backlog_over_time,
    first_review_by_month,
    months_back,
    sample_times,
)
from reviewbot.core.web.chat import ChatCommand, ChatSyntaxError, parse_chat
from reviewbot.core.web.metrics import histogram
from reviewbot.core.web.ratelimit import RateLimiter, SeenOnce

T0 = datetime(2025, 1, 1, tzinfo=UTC)
D = timedelta(days=1)


class TestParseChat:
    @pytest.mark.parametrize("text,expect", [
        ("", ChatCommand("help")),
        ("backlog", ChatCommand("backlog")),
        ("backlog INFINIBAND SUBSYSTEM", ChatCommand("backlog", subsystem="INFINIBAND SUBSYSTEM")),
        ("ready linux-rdma@vger.kernel.org --public",
         ChatCommand("ready", subsystem="linux-rdma@vger.kernel.org", public=True)),
        ("series <a.b@c>", ChatCommand("series", "a.b@c")),
        ("series https://lore.kernel.org/linux-rdma/a.b@c/", ChatCommand("series", "a.b@c")),
        ("claim a@b", ChatCommand("claim", "a@b")),
        ("snooze a@b 7d", ChatCommand("snooze", "a@b", duration=7 * D)),
        ("assign a@b <Jane@Example.org>", ChatCommand("assign", "a@b", person="jane@example.org")),
        ("NEXT", ChatCommand("next")),
    ])
    def test_commands(self, text: str, expect: ChatCommand) -> None:
        assert parse_chat(text) == expect

    @pytest.mark.parametrize("text,reason", [
        ("frob", "unknown command"), ("claim", "needs a Message-ID"),
        ("claim not-an-id", "is not a Message-ID"), ("snooze a@b", "snooze needs a duration"),
        ("snooze a@b 100d", "at most 90 days"), ("assign a@b bob", "reviewer's address"),
        ("next please", "takes no arguments"), ("release a@b now", "unexpected 'now'"),
    ])
    def test_mistakes_say_why(self, text: str, reason: str) -> None:
        result = parse_chat(text)
        assert isinstance(result, ChatSyntaxError) and reason in result.reason

    def test_only_writes_are_mutating(self) -> None:
        mutating = {v for v in ("backlog", "series", "next", "ready", "suggest", "stats",
                                "help", "claim", "release", "snooze", "assign")
                    if ChatCommand(v).mutating}
        assert mutating == {"claim", "release", "snooze", "assign"}


class TestRateLimits:
    def test_a_burst_then_the_rate(self) -> None:
        limit = RateLimiter(per_minute=6, burst=3)
        assert [limit.allow("u", 0.0) for _ in range(4)] == [True, True, True, False]
        assert limit.allow("other", 0.0)  # per user
        assert not limit.allow("u", 5.0)  # half a token refilled
        assert limit.allow("u", 10.0)  # 6 a minute: one every 10 s

    def test_replays_are_remembered_for_the_window(self) -> None:
        seen = SeenOnce(window=600)
        assert seen.first_time("sig", 0) and not seen.first_time("sig", 599)
        assert seen.first_time("sig", 1300)


def test_histogram_is_cumulative_with_inf_last() -> None:
    h = histogram(("x",), [timedelta(minutes=30), timedelta(hours=2), timedelta(days=100)])
    assert h.buckets[0] == (3600.0, 1) and h.buckets[1] == (21600.0, 2)
    assert h.buckets[-1][1] == 3 == h.count and h.buckets[-2][1] == 2
    assert h.sum == 1800 + 7200 + 100 * 86400


class TestBacklogOverTime:
    def test_states_follow_posting_review_and_closing(self) -> None:
        spans = [Span(T0, T0 + 2 * D, T0 + 5 * D),  # reviewed on day 2, closed day 5
                 Span(T0 + D, None, None),  # never reviewed, still open
                 Span(T0 + 3 * D, T0 + 3 * D, None),  # reviewed at once
                 Span(T0, T0 + 9 * D, T0 + 4 * D)]  # reviewed only after closing
        times = [T0 + k * D for k in range(7)]
        got = [p.counts for p in backlog_over_time(spans, times)]
        assert got == [(2, 0), (3, 0), (2, 1), (2, 2), (1, 2), (1, 1), (1, 1)]

    def test_sample_times_end_now(self) -> None:
        now = T0 + 400 * D
        times = sample_times(now)
        assert times[-1] == now and len(times) == 53 and times[0] >= now - 365 * D

    def test_months_and_ages(self) -> None:
        assert months_back(datetime(2025, 2, 10, tzinfo=UTC), 3) == ["2024-12", "2025-01",
                                                                      "2025-02"]
        spans = [Span(T0, T0 + D, None), Span(T0 + 2 * D, None, None),
                 Span(T0 + 40 * D, T0 + 43 * D, None)]
        by = first_review_by_month(spans, ["2025-01", "2025-02"])
        assert [(m.posted, m.reviewed, m.p50) for m in by] == [(2, 1, D), (1, 1, 3 * D)]
        ages = age_distribution([T0, T0 + 300 * D], T0 + 301 * D)
        assert ages["1-7d"] == 1 and ages[">6m"] == 1
