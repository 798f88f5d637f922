"""Mail with a bad Date (issue 7): stored, dated as public-inbox dates it.

A missing, empty or unreadable Date header is replaced by the first Received:
header's date, then by the archive's time for the mail (the mbox From_ line, or
the epoch commit time); the fallback used is recorded in Message.warnings. The
mails are real corpus mails (tests/data/mail) with headers taken out.
"""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from reviewbot.core.mail.headers import from_line_date, received_date
from reviewbot.core.mail.parse import MalformedMessage, parse_message
from reviewbot.core.model import MessageKind
from tests.conftest import DATA
from tests.core.mailedit import with_date, without

REPLY = (DATA / "mail" / "plain_applied_for_next.eml").read_bytes()
PATCH = (DATA / "mail" / "in_body_from_patch.eml").read_bytes()
# plain_applied_for_next.eml: "Date: Wed, 13 Aug 2025 13:27:22 +0300"; its first Received:
# header ends "for <lists+linux-rdma@lfdr.de>; Wed, 13 Aug 2025 12:27:32 +0200 (CEST)".
SENT = datetime(2025, 8, 13, 10, 27, 22, tzinfo=UTC)
FIRST_HOP = datetime(2025, 8, 13, 10, 27, 32, tzinfo=UTC)
COMMIT = datetime(2025, 8, 13, 10, 30, tzinfo=UTC)


def test_a_good_date_is_used_as_it_is() -> None:
    m = parse_message(REPLY, fallback_date=COMMIT)
    assert m.date == SENT
    assert not any("dated by" in w for w in m.warnings)


@pytest.mark.parametrize(
    ("raw", "why"),
    [
        (without(REPLY, "Date"), "no Date header"),
        (with_date(REPLY, ""), "empty Date header"),
        (with_date(REPLY, "sometime last Wednesday"), "unreadable Date 'sometime last Wednesday'"),
        (with_date(REPLY, "Wed, 32 Foo 2025 25:61:00 +0300"), "unreadable Date"),
    ],
)
def test_bad_date_is_dated_by_the_first_received_header(raw: bytes, why: str) -> None:
    """The top Received: header (the list server's last hop) wins over the archive time."""
    m = parse_message(raw, fallback_date=COMMIT)
    assert m.date == FIRST_HOP
    assert m.kind is MessageKind.REPLY and m.applied is not None  # the mail is otherwise intact
    dated = [w for w in m.warnings if "dated by" in w]
    assert len(dated) == 1
    assert dated[0].startswith(why) and dated[0].endswith("; dated by the first Received: header")


def test_without_received_headers_the_archive_time_dates_it() -> None:
    """No Date, no Received: the mbox From_ line's or the epoch commit's time, recorded."""
    m = parse_message(without(PATCH, "Date", "Received"), fallback_date=COMMIT)
    assert m.date == COMMIT
    assert m.kind is MessageKind.PATCH and m.patch_id is not None
    assert "no Date header; dated by the archive (mbox From_ line or epoch commit time)" in (
        m.warnings)


def test_an_unreadable_first_received_date_falls_through_to_the_next() -> None:
    """public-inbox tries each Received: header in turn until one holds a date."""
    broken = REPLY.replace(b"Wed, 13 Aug 2025 12:27:32 +0200 (CEST)", b"(date withheld)")
    m = parse_message(without(broken, "Date"), fallback_date=COMMIT)
    assert m.date == datetime(2025, 8, 13, 10, 27, 31, tzinfo=UTC)  # the second hop


def test_no_evidence_at_all_is_the_one_quarantine_reason() -> None:
    """Nothing to date it by (no Date, no Received, no archive time): one clear reason."""
    with pytest.raises(MalformedMessage) as err:
        parse_message(without(REPLY, "Date", "Received"))
    assert err.value.reason == (
        "no Date header, no dated Received: header and no archive time"
        " (mbox From_ line or epoch commit)")


def test_received_date_reads_folded_headers() -> None:
    head = ("Received: from a (a [1.2.3.4])\n\tby b with ESMTP id X\n"
            "\tfor <l@x>; Tue, 30 Dec 2025 23:59:59 -0800\nSubject: x\n")
    assert received_date(head) == datetime(2025, 12, 31, 7, 59, 59, tzinfo=UTC)
    assert received_date("Subject: x\n") is None


@pytest.mark.parametrize(
    ("line", "when"),
    [
        (b"From jgg@nvidia.com Wed Aug 13 10:27:26 2025\n",
         datetime(2025, 8, 13, 10, 27, 26, tzinfo=UTC)),
        (b"From leon@kernel.org  Mon Jan  6 09:05:00 2025", datetime(2025, 1, 6, 9, 5, tzinfo=UTC)),
        (b"From MAILER-DAEMON Fri Mar  7 16:00:00 2025 +0100",
         datetime(2025, 3, 7, 15, 0, tzinfo=UTC)),
        # public-inbox's and b4's mboxrd: the epoch is a placeholder, not a date
        (b"From mboxrd@z Thu Jan  1 00:00:00 1970\n", None),
        (b"From nobody\n", None),
        (b"From someone yesterday at noon\n", None),
    ],
)
def test_mbox_from_line_date(line: bytes, when: datetime | None) -> None:
    assert from_line_date(line) == when
