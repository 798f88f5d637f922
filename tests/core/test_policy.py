"""Policy files: validation with file and line, layering, selection and helpers."""

from __future__ import annotations

from datetime import UTC, date, datetime, time, timedelta

import pytest

from reviewbot.core.model import Series, SeriesId
from reviewbot.core.policy.model import (
    AssignStrategy,
    Policy,
    Reviewers,
    human_duration,
    ignore_reason,
    is_absent,
    quiet_reason,
)
from reviewbot.core.policy.schema import (
    PolicyError,
    build_policy,
    check_policy_files,
    load_policy_set,
    parse_policy_text,
)
from reviewbot.core.policy.values import parse_duration

RDMA = """\
[subsystem]
sections = ["INFINIBAND SUBSYSTEM"]
lists = ["linux-rdma@vger.kernel.org"]
"""


def issues_of(text: str, file: str = "x.toml") -> list[str]:
    return [str(i) for i in parse_policy_text(text, file)[1]]


class TestValidation:
    def test_unknown_key_is_refused_with_its_line(self) -> None:
        """An unknown key names file, the key's own line and the known keys."""
        text = "[sla]\nfirst_review = \"14d\"\n\n# comment\nstale = \"30d\"\n"
        assert issues_of(text, "p/rdma.toml") == [
            "p/rdma.toml:5: unknown key 'stale' in [sla] "
            "(known: first_review, followup_review, apply, stale_after, expire_after)"
        ]

    def test_same_key_in_another_table_does_not_confuse_the_line(self) -> None:
        """The line is searched within the key's table, not the first textual match."""
        text = "[nag]\nenabled = true\n\n[ignore]\nenabled = true\n"
        assert issues_of(text) == [
            "x.toml:5: unknown key 'enabled' in [ignore] "
            "(known: bots, autosel, stable_review, rfc, senders)"
        ]

    def test_unknown_table_is_refused_at_its_header(self) -> None:
        """A misspelt table is reported at its [header] line."""
        text = "[sla]\napply = \"7d\"\n[reviewer]\npool = []\n"
        (issue,) = issues_of(text)
        assert issue.startswith("x.toml:3: unknown table [reviewer]")

    @pytest.mark.parametrize("bad", ["two weeks", "14", "0d", "-3d", "7 days"])
    def test_bad_duration_is_refused(self, bad: str) -> None:
        """Durations need number+unit parts and must be positive."""
        text = f'[sla]\n\nfirst_review = "{bad}"\n'
        (issue,) = issues_of(text)
        assert issue.startswith("x.toml:3: sla.first_review: ")
        assert repr(bad) in issue

    def test_duration_that_is_not_a_string_is_refused(self) -> None:
        """A bare number has no unit, so it is refused."""
        (issue,) = issues_of("[sla]\nstale_after = 30\n")
        assert issue == ('x.toml:2: sla.stale_after: expected a duration string such as "7d" '
                         'or "48h", got 30')

    def test_durations_parse_units(self) -> None:
        """w, d, h and m combine."""
        assert parse_duration("2w") == timedelta(days=14)
        assert parse_duration("1d12h") == timedelta(hours=36)
        assert parse_duration("90m") == timedelta(minutes=90)

    def test_bad_time_zone_is_refused(self) -> None:
        """Time zones must be IANA names zoneinfo knows."""
        (issue,) = issues_of('[subsystem]\ntime_zone = "Mars/Olympus"\n')
        assert issue == ('x.toml:2: subsystem.time_zone: unknown time zone \'Mars/Olympus\' '
                         '(use an IANA name such as "Europe/Berlin")')

    def test_wrong_types_are_refused(self) -> None:
        """Booleans, counts, enums, weekdays, times and addresses are checked."""
        text = (
            "[nag]\nenabled = \"yes\"\nper_reviewer_week = -1\n"
            "[reviewers]\nstrategy = \"random\"\npool = [\"not an address\"]\n"
            "[digest]\ndays = [\"monday\"]\nat = \"08:00\"\n"
        )
        lines = [i.split(":")[1] for i in issues_of(text)]
        assert lines == ["2", "3", "5", "6", "8", "9"]

    def test_toml_syntax_error_has_the_parser_line(self) -> None:
        """A TOML syntax error keeps tomllib's line number."""
        (issue,) = issues_of('[sla]\nfirst_review = "14d"\napply = \n')
        assert issue.startswith("x.toml:3: not valid TOML")

    def test_absence_entries_are_checked_individually(self) -> None:
        """The second [[reviewers.absence]] is blamed, at its bad key's line."""
        text = (
            "[[reviewers.absence]]\nwho = \"a@x.org\"\nfrom = 2025-01-01\nuntil = 2025-01-05\n"
            "\n[[reviewers.absence]]\nwho = \"b@x.org\"\nfrom = 2025-02-10\nuntil = 2025-02-01\n"
            "\n[[reviewers.absence]]\nwho = \"c@x.org\"\nfrom = 2025-03-01\nuntill = 2025-03-02\n"
        )
        assert issues_of(text) == [
            "x.toml:9: reviewers.absence: until 2025-02-01 is before from 2025-02-10",
            "x.toml:14: unknown key 'untill' in [[reviewers.absence]] "
            "(known: who, from, until, reason)",
            "x.toml:11: [[reviewers.absence]] needs until",
        ]

    def test_dates_must_be_whole_days(self) -> None:
        """A quiet period given as a date-time is refused."""
        (issue,) = issues_of("[[quiet.period]]\nfrom = 2025-12-24T00:00:00\nuntil = 2025-12-26\n")
        assert issue.startswith("x.toml:2: quiet.period.from: expected a date")

    def test_subsystem_file_must_match_something(self) -> None:
        """A subsystem file without sections or lists would never apply."""
        files = {"p/default.toml": "", "p/rdma.toml": "[sla]\napply = \"7d\"\n"}
        _, issues = check_policy_files(files)
        assert [str(i) for i in issues["p/rdma.toml"]] == [
            "p/rdma.toml:1: a subsystem policy needs [subsystem] sections or lists to match"
        ]

    def test_default_may_not_match_sections(self) -> None:
        """The default applies everywhere, so naming a section there is an error."""
        _, issues = check_policy_files({"p/default.toml": RDMA})
        assert [i.line for i in issues["p/default.toml"]] == [2, 3]

    def test_two_files_cannot_claim_one_section(self) -> None:
        """A section or list belongs to one subsystem file."""
        with pytest.raises(PolicyError) as exc:
            load_policy_set({"p/a.toml": RDMA, "p/b.toml": RDMA})
        assert "p/b.toml:1: 'infiniband subsystem' is already matched by p/a.toml" in str(exc.value)

    def test_all_issues_are_reported_together(self) -> None:
        """One run shows every problem in every file."""
        with pytest.raises(PolicyError) as exc:
            load_policy_set({"p/default.toml": "[sla]\napply = \"x\"\n",
                             "p/rdma.toml": RDMA + "[nag]\nfoo = 1\n"})
        assert [(i.file, i.line) for i in exc.value.issues] == [
            ("p/default.toml", 2), ("p/rdma.toml", 5)]


class TestLayering:
    def test_subsystem_overrides_default_key_by_key(self) -> None:
        """A subsystem key wins; the default fills the keys it does not set."""
        default = '[sla]\nfirst_review = "10d"\nstale_after = "20d"\n[nag]\nenabled = true\n'
        rdma = RDMA + '[sla]\nstale_after = "60d"\n'
        policies = load_policy_set({"p/default.toml": default, "p/rdma.toml": rdma})
        policy = policies.for_subsystem("INFINIBAND SUBSYSTEM")
        assert policy.name == "rdma"
        assert policy.sla.stale_after == timedelta(days=60)
        assert policy.sla.first_review == timedelta(days=10)
        assert policy.nag.enabled is True
        assert policy.sla.apply == timedelta(days=14)  # built-in default
        assert policies.default.sla.stale_after == timedelta(days=20)

    def test_arrays_are_replaced_whole(self) -> None:
        """A subsystem's pool replaces the default pool instead of extending it."""
        default = '[reviewers]\npool = ["a@x.org"]\n'
        rdma = RDMA + '[reviewers]\npool = ["B <b@x.org>"]\n'
        policies = load_policy_set({"default.toml": default, "rdma.toml": rdma})
        assert policies.for_subsystem("infiniband subsystem").reviewers.pool == ("b@x.org",)

    def test_escalation_never(self) -> None:
        """after_nags = 0 and after = "never" turn escalation off."""
        partial, issues = parse_policy_text('[escalation]\nafter_nags = 0\nafter = "never"\n', "x")
        assert issues == []
        policy = build_policy("x", partial)
        assert (policy.escalation.after_nags, policy.escalation.after) == (None, None)

    def test_selection_by_section_then_list_then_default(self) -> None:
        """A section name is matched first, then a list address, else the default applies."""
        policies = load_policy_set({"default.toml": "", "rdma.toml": RDMA})
        assert policies.for_subsystem("infiniband subsystem").name == "rdma"
        assert policies.for_subsystem("MELLANOX MLX5 core VPI driver",
                                      ("LINUX-RDMA@vger.kernel.org",)).name == "rdma"
        assert policies.for_subsystem("NETWORKING DRIVERS", ("netdev@vger.kernel.org",)).name \
            == "default"

    def test_local_time_and_dates_are_typed(self) -> None:
        """Digest time and quiet periods come out as time and date objects."""
        text = "[digest]\nat = 09:30:00\n[[quiet.period]]\nfrom = 2025-12-24\nuntil = 2025-12-26\n"
        partial, issues = parse_policy_text(text, "x")
        policy = build_policy("x", partial)
        assert issues == []
        assert policy.digest.at == time(9, 30)
        assert policy.quiet.periods[0].start == date(2025, 12, 24)


def _policy(text: str) -> Policy:
    partial, issues = parse_policy_text(text, "x")
    assert issues == []
    return build_policy("x", partial)


def _series(**kw: object) -> Series:
    base: dict[str, object] = dict(
        series_id=SeriesId("a@b"), title="RDMA/core: fix", version=1, total=1,
        author_name="A", author_email="a@b.org", date=datetime(2025, 1, 1, tzinfo=UTC),
        cover_message_id=None, patches=(), missing=())
    base.update(kw)
    return Series(**base)  # type: ignore[arg-type]


class TestHelpers:
    def test_absence_uses_the_policy_time_zone(self) -> None:
        """An absence ending on the 15th still holds at 23:00 local, which is the 16th in UTC."""
        policy = _policy('[subsystem]\ntime_zone = "America/Halifax"\n'
                         '[[reviewers.absence]]\nwho = "Leon <leonro@nvidia.com>"\n'
                         'from = 2025-08-04\nuntil = 2025-08-15\n')
        assert is_absent(policy, "leonro@nvidia.com", datetime(2025, 8, 16, 2, 0, tzinfo=UTC))
        assert not is_absent(policy, "leonro@nvidia.com", datetime(2025, 8, 16, 4, 0, tzinfo=UTC))
        assert not is_absent(policy, "jgg@nvidia.com", datetime(2025, 8, 10, tzinfo=UTC))

    def test_quiet_in_merge_window_and_periods(self) -> None:
        """The merge window and listed days are quiet; other days are not."""
        policy = _policy('[[quiet.period]]\nfrom = 2025-12-24\nuntil = 2026-01-02\n'
                         'reason = "end of year"\n')
        day = datetime(2025, 11, 3, 12, tzinfo=UTC)
        assert quiet_reason(policy, day, merge_window_open=True) == "merge window"
        assert quiet_reason(policy, day, merge_window_open=False) is None
        assert quiet_reason(policy, datetime(2026, 1, 2, 23, tzinfo=UTC),
                            merge_window_open=False) == \
            "quiet period 2025-12-24..2026-01-02 (end of year)"
        loud = _policy("[quiet]\nmerge_window = false\n")
        assert quiet_reason(loud, day, merge_window_open=True) is None

    def test_ignore_rules(self) -> None:
        """Bots, AUTOSEL, stable reviews, ignored senders and (if asked) RFCs are left out."""
        policy = Policy()
        assert ignore_reason(policy, _series()) is None
        assert ignore_reason(policy, _series(), posted_by_bot=True) == "posted by a bot"
        assert ignore_reason(policy, _series(is_autosel=True)) == "AUTOSEL backport"
        assert ignore_reason(policy, _series(tags=("patch", "6.12"))) == "stable review backport"
        assert ignore_reason(policy, _series(title="6.12.5-rc1 review")) == \
            "stable review backport"
        assert ignore_reason(policy, _series(is_rfc=True)) is None
        strict = _policy('[ignore]\nrfc = true\nsenders = ["*@bots.example.org"]\n')
        assert ignore_reason(strict, _series(is_rfc=True)) == "RFC"
        assert ignore_reason(strict, _series(author_email="ci@bots.example.org")) == \
            "sender matches *@bots.example.org"

    def test_reviewer_policy_defaults(self) -> None:
        """Without a file, assignment is least-loaded, one reviewer, maintainers included."""
        assert Reviewers().strategy is AssignStrategy.LEAST_LOADED
        assert (Reviewers().per_series, Reviewers().include_maintainers) == (1, True)


def test_top_level_keys_are_refused() -> None:
    """Settings outside a table are refused, naming the tables."""
    (issue,) = issues_of('\n# a comment\nstale_after = "30d"\n')
    assert issue.startswith("x.toml:3: unknown key 'stale_after': settings belong in tables")


def test_human_durations() -> None:
    """Reasons spell durations as people do."""
    assert [human_duration(timedelta(**kw)) for kw in (
        {"days": 30}, {"days": 1}, {"hours": 36}, {"minutes": 90})] == [
        "30 days", "1 day", "36 hours", "90 minutes"]
