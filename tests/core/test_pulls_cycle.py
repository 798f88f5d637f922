"""The release cycle from mainline tags (conventions.md §1), with real 6.9/6.10 dates."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

import pytest

from reviewbot.core.pulls.cycle import (
    NoMainlineTags,
    cycle_from_tags,
    is_mainline_tag,
    last_sunday,
    parse_tag,
)


def d(text: str) -> datetime:
    return datetime.fromisoformat(text).replace(tzinfo=UTC)


# Linux 6.9 and the 6.10 rcs, as Linus tagged them (Sundays).
TAGS = [("v6.8", d("2024-03-10T22:00")), ("v6.9-rc7", d("2024-05-05T22:00")),
        ("v6.9", d("2024-05-12T22:00")), ("v6.10-rc1", d("2024-05-26T22:00")),
        ("v6.10-rc2", d("2024-06-02T22:00")), ("v6.10-rc3", d("2024-06-09T22:00")),
        ("v6.10-rc4", d("2024-06-16T22:00")), ("v6.10-rc5", d("2024-06-23T22:00")),
        ("v6.10-rc6", d("2024-06-30T22:00")), ("v6.10-rc7", d("2024-07-07T22:00")),
        ("v6.10", d("2024-07-14T22:00"))]


class TestTags:
    @pytest.mark.parametrize("name,ok", [
        ("v6.12", True), ("v6.13-rc3", True), ("refs/tags/v6.1", True), ("v6.1^{}", True),
        ("v2.6.39", False), ("v6.12.3", False), ("rdma-for-6.13", False), ("v6.13-rc", False),
        ("for-linus", False), ("v6.13-foo", False)])
    def test_only_release_and_rc_tags_are_mainline(self, name: str, ok: bool) -> None:
        """Stable releases, old 2.6.x names and subsystem tags are not mainline cycle tags."""
        assert is_mainline_tag(name) is ok

    def test_a_release_sorts_after_its_rcs_and_before_the_next_rc1(self) -> None:
        order = [parse_tag(n) for n in ("v6.12-rc7", "v6.12", "v6.13-rc1", "v6.9", "v6.10-rc1")]
        assert all(t is not None for t in order)
        names = [t.name for t in sorted((t for t in order if t), key=lambda t: t.order)]
        assert names == ["v6.9", "v6.10-rc1", "v6.12-rc7", "v6.12", "v6.13-rc1"]


class TestCycle:
    def test_rc6_means_the_window_opens_in_one_to_two_weeks(self) -> None:
        """The conventions' example: v6.9, v6.10-rc1..rc6 gives rc6, window in ~1-2 weeks."""
        now = d("2024-07-02T10:00")
        c = cycle_from_tags(TAGS, now)
        assert (c.release, c.merge_window_open, c.rc, c.phase) == ("v6.9", False, 6, "rc6")
        assert c.developing == "6.10" and c.changes_for == "6.11" and c.next_rc == "6.10-rc7"
        assert c.next_merge_window == date(2024, 7, 14)  # rc7, then the release: what happened
        assert c.next_merge_window_latest == date(2024, 7, 21)  # had an rc8 come
        assert 7 <= (c.next_merge_window - now.date()).days <= 14
        assert c.merge_window_closes is None and c.window_week is None

    def test_a_bare_release_opens_the_window_for_two_weeks(self) -> None:
        c = cycle_from_tags(TAGS, d("2024-05-20T10:00"))
        assert (c.release, c.merge_window_open, c.rc, c.phase) == ("v6.9", True, None,
                                                                    "merge window")
        assert c.developing == "6.10" and c.changes_for == "6.10" and c.next_rc == "6.10-rc1"
        assert c.merge_window_closes == date(2024, 5, 26)  # v6.10-rc1 came that day
        assert c.window_week == 2  # 8 days after v6.9: week 2
        assert c.next_merge_window == date(2024, 7, 14)  # 9 weeks after v6.9: v6.10's day

    def test_week_one_of_the_window(self) -> None:
        assert cycle_from_tags(TAGS, d("2024-05-14T10:00")).window_week == 1

    def test_rc1_closes_the_window(self) -> None:
        c = cycle_from_tags(TAGS, d("2024-05-27T10:00"))
        assert (c.merge_window_open, c.rc, c.release) == (False, 1, "v6.9")

    def test_tags_after_now_are_not_seen(self) -> None:
        """--as-of replays the past: v6.10 (July 14) does not exist on July 10."""
        c = cycle_from_tags(TAGS, d("2024-07-10T00:00"))
        assert c.latest_tag == "v6.10-rc7" and c.next_merge_window == date(2024, 7, 14)
        assert cycle_from_tags(TAGS, d("2024-07-15T00:00")).release == "v6.10"

    def test_an_rc8_means_one_more_week_only(self) -> None:
        tags = [*TAGS[:-1], ("v6.10-rc8", d("2024-07-14T22:00"))]
        c = cycle_from_tags(tags, d("2024-07-16T00:00"))
        assert c.rc == 8 and c.next_merge_window == c.next_merge_window_latest == date(
            2024, 7, 21)

    def test_undated_tags_take_the_last_sunday(self) -> None:
        """ls-remote gives no dates: the newest tag is from the last Sunday (Linus' day)."""
        undated = [(n, None) for n, _ in TAGS[:-1]]
        now = d("2024-07-10T12:00")  # a Wednesday
        c = cycle_from_tags(undated, now)
        assert c.estimated_dates and c.rc == 7
        assert c.latest_tag_date == d("2024-07-07T00:00")
        assert c.next_merge_window == date(2024, 7, 14)

    def test_last_sunday(self) -> None:
        assert last_sunday(d("2024-07-07T23:00")) == d("2024-07-07T00:00")
        assert last_sunday(d("2024-07-13T23:00")) == d("2024-07-07T00:00")

    def test_no_release_tag_is_an_error(self) -> None:
        with pytest.raises(NoMainlineTags, match="on or before 2024-01-01"):
            cycle_from_tags(TAGS, d("2024-01-01T00:00"))
        with pytest.raises(NoMainlineTags):
            cycle_from_tags([("rdma-for-6.13", None)], d("2024-01-01T00:00"))

    def test_now_must_be_aware(self) -> None:
        with pytest.raises(ValueError, match="aware"):
            cycle_from_tags(TAGS, datetime(2024, 7, 1))  # noqa: DTZ001

    def test_json_holds_the_documented_fields(self) -> None:
        data = cycle_from_tags(TAGS, d("2024-07-02T10:00")).to_json()
        assert {"release": "v6.9", "merge_window_open": False, "rc": 6,
                "next_merge_window": "2024-07-14"}.items() <= data.items()

    def test_days_to_the_next_window(self) -> None:
        c = cycle_from_tags(TAGS, d("2024-07-02T10:00"))
        assert c.days_to_next_merge_window() == 12
        assert c.as_of + timedelta(days=12) >= d("2024-07-14T00:00")
