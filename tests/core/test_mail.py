"""parse_message: headers, kinds, authors, links, and hostile input.

Most inputs are real corpus mails (tests/data/mail, see its README); the
hostile variants are those mails with one header edited, as noted.
"""

from __future__ import annotations

import re
from datetime import UTC, datetime
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from reviewbot.core.mail.parse import MalformedMessage, parse_message
from reviewbot.core.model import Message, MessageKind, TrailerKind
from tests.conftest import DATA
from tests.core.mailedit import without

MAIL = DATA / "mail"


def raw(name: str) -> bytes:
    return (MAIL / f"{name}.eml").read_bytes()


def parse(name: str) -> Message:
    return parse_message(raw(name))


def edit_header(data: bytes, name: bytes, value: bytes | None) -> bytes:
    """Replace (or with None remove) the first `name:` header, folded lines included."""
    pattern = re.compile(rb"(?im)^" + re.escape(name) + rb":[^\n]*\n(?:[ \t][^\n]*\n)*")
    head, sep, body = data.partition(b"\n\n")
    assert pattern.search(head), name
    new = b"" if value is None else name + b": " + value + b"\n"
    return pattern.sub(lambda _: new, head, count=1) + sep + body


# ---- kinds -----------------------------------------------------------------


@pytest.mark.parametrize(
    ("name", "kind"),
    [
        ("in_body_from_patch", MessageKind.PATCH),
        ("patch_v2_in_reply_to", MessageKind.PATCH),  # In-Reply-To v1, no "Re:"
        ("pull_n_of_n", MessageKind.PATCH),  # [PULL 13/14] with a diff
        ("b4_cover_change_id", MessageKind.COVER),
        ("iwl_next_cover", MessageKind.COVER),
        ("reviewed_reply_quoting", MessageKind.REPLY),
        ("reply_with_suggestion_diff", MessageKind.REPLY),  # Re: + quoted text + diff
        ("x_patch_attachment", MessageKind.REPLY),
        ("git_pull_qp_signed", MessageKind.PULL_REQUEST),
        ("syzbot_report", MessageKind.OTHER),
        ("v4_1", MessageKind.OTHER),  # "[PATCH net-next v4.1]" cover note without 0/N
    ],
)
def test_kind(name: str, kind: MessageKind) -> None:
    """PATCH by diff plus subject (not by "Re:" alone), COVER for 0/N, and so on."""
    assert parse(name).kind is kind


def test_patch_subject_without_diff_is_flagged() -> None:
    """"[PATCH net-next v4.1] Expose RDS features" carries no diff: OTHER, warned."""
    m = parse("v4_1")
    assert (m.kind, m.subject.version_label) == (MessageKind.OTHER, "4.1")
    assert "PATCH subject without a diff" in m.warnings


def test_patch_sent_in_reply_keeps_its_parent() -> None:
    """A v2 posted In-Reply-To the v1 thread is a patch with that parent."""
    m = parse("patch_v2_in_reply_to")
    assert m.in_reply_to == "0e08292e-9280-4ef6-baf7-e9f642d33177@gmail.com"
    assert m.subject.version == 2
    assert m.files == ("drivers/net/ethernet/mellanox/mlx5/core/en_tc.c",)


def test_in_body_from_names_the_author() -> None:
    """The in-body From: of a patch overrides the sender as author."""
    m = parse("in_body_from_patch")
    assert (m.from_name, m.from_email) == ("", "cel@kernel.org")
    assert (m.author_name, m.author_email) == ("Chuck Lever", "chuck.lever@oracle.com")


def test_cover_letter_change_id_base_commit_and_links() -> None:
    """b4 cover letter: change-id, base-commit and the lore links to v1/v4."""
    m = parse("b4_cover_change_id")
    assert m.change_id == "20250128-netdev-secs-to-jiffies-part-2-8f0d2535096a"
    assert m.base_commit == "de7a88b639d488607352a270ef2e052c4442b1b3"
    assert m.linked_ids == (
        "20250203-converge-secs-to-jiffies-part-two-v2-0-d7058a01fd0e@linux.microsoft.com",
        "20241212-netdev-converge-secs-to-jiffies-v4-0-6dac97a6d6ab@linux.microsoft.com",
    )
    assert (m.subject.counter, m.subject.total) == (0, 3)


def test_link_forms() -> None:
    """lore /r/, /<list>/ and patch.msgid.link URLs, URL-quoted ids included;
    quoted lines and the message's own id are skipped."""
    body = (
        b"v1: https://lore.kernel.org/r/20250101.1-a@x.org\n"
        b"v2: https://lore.kernel.org/linux-rdma/20250102.2-b@x.org/T/#u\n"
        b"Link: https://patch.msgid.link/20250103.3-c%40x.org\n"
        b"> https://lore.kernel.org/r/quoted@x.org\n"
        b"self: https://lore.kernel.org/r/me@x.org\n"
    )
    m = parse_message(
        b"From: A <a@x.org>\nSubject: [PATCH 0/2] x\nDate: Mon, 6 Jan 2025 10:00:00 +0000\n"
        b"Message-ID: <me@x.org>\n\n" + body
    )
    assert m.linked_ids == ("20250101.1-a@x.org", "20250102.2-b@x.org", "20250103.3-c@x.org")


def test_trailers_of_a_patch_stop_at_the_separator() -> None:
    """A patch's trailers come from its commit message, quoted robot lines excluded."""
    m = parse("qualifier_ack")
    acks = [t for t in m.trailers if t.kind is TrailerKind.ACKED_BY]
    assert ("rostedt@goodmis.org", "for kernel/trace/") in [(t.email, t.qualifier) for t in acks]
    assert all(t.source == m.message_id for t in m.trailers)


def test_reply_trailers_ignore_the_quoted_patch() -> None:
    """A Reviewed-by reply under a quoted patch gives only the new review."""
    m = parse("reviewed_reply_quoting")
    assert [(t.kind, t.email) for t in m.trailers] == [
        (TrailerKind.REVIEWED_BY, "brauner@kernel.org")
    ]


def test_nack_in_a_reply() -> None:
    """Nacked-by is recognised in a reply."""
    m = parse("nacked")
    assert (TrailerKind.NACKED_BY, "kuba@kernel.org") in [(t.kind, t.email) for t in m.trailers]


# ---- encodings ---------------------------------------------------------------


def test_outlook_quoted_printable_koi8r_patch() -> None:
    """QP body in koi8-r: soft breaks joined, so the diff and its file are found."""
    m = parse("outlook_qp_patch")
    assert m.kind is MessageKind.PATCH
    assert m.files == ("drivers/infiniband/hw/erdma/erdma_verbs.c",)
    assert m.date == datetime(2025, 1, 30, 7, 55, 38, tzinfo=UTC)


def test_quoted_printable_patch() -> None:
    """A QP patch whose diff --git line was soft-broken is still read whole."""
    m = parse("qp_patch")
    assert m.kind is MessageKind.PATCH
    assert m.files == ("drivers/infiniband/hw/hns/hns_roce_trace.h",)


def test_base64_patch() -> None:
    """A base64 text/plain (ISO-8859-1) patch is decoded; no PATCH tag, still a patch."""
    m = parse("base64_patch")
    assert m.kind is MessageKind.PATCH
    assert m.files == ("net/smc/af_smc.c",)
    assert "diff without a PATCH subject tag" in m.warnings


def test_attached_patch_counts() -> None:
    """text/x-patch attachments (base64) are searched for the diff."""
    m = parse("x_patch_attachment")
    assert m.files == ("drivers/dibs/dibs_loopback.c",)
    assert m.patch_id is not None


def test_rfc2047_subject() -> None:
    """Encoded-word Subject (UTF-8, Q encoding) is decoded."""
    assert parse("encoded_subject").subject.raw == "Wiadomość z księgowości"


def test_rfc2047_name_in_quotes_and_base64_body() -> None:
    """An encoded word inside a quoted From name is decoded; "Re:RE:" is a reply."""
    m = parse("encoded_from")
    assert (m.from_name, m.from_email) == ("Wentao Guan", "guanwentao@uniontech.com")
    assert m.subject.is_reply and m.subject.title == "RDMA/irdma: fix Kconfig dependency"


def test_unknown_charset_is_replaced_with_a_warning() -> None:
    """charset=y: decoded as UTF-8, and the oddity is recorded."""
    m = parse("bad_charset")
    assert "unknown charset 'y'; decoded as UTF-8" in m.warnings
    assert m.kind is MessageKind.REPLY


def test_undecodable_bytes_are_replaced() -> None:
    """Invalid UTF-8 in a UTF-8 body: replaced, warned, nothing raised."""
    data = edit_header(raw("reviewed_reply_quoting"), b"Content-Type",
                       b'text/plain; charset="utf-8"')
    data = data.replace(b"Reviewed-by: Christian", b"\xff\xfe Reviewed-by: Christian", 1)
    m = parse_message(data)
    assert any("not valid utf-8" in w for w in m.warnings)


def test_latin1_header_bytes() -> None:
    """Raw Latin-1 in a header is read, with a warning."""
    data = edit_header(raw("nacked"), b"From", b"J\xf6rg <j@x.org>")
    m = parse_message(data)
    assert m.from_name == "Jörg"
    assert "header block is not UTF-8; decoded as Latin-1" in m.warnings


# ---- hostile headers ---------------------------------------------------------


def test_from_with_blanks_inside_the_angle_brackets() -> None:
    """`"D. Wythe" <alibuda@linux.alibaba.com    >` still yields the address."""
    m = parse("from_space_in_angle")
    assert (m.from_name, m.from_email) == ("D. Wythe", "alibuda@linux.alibaba.com")


@pytest.mark.parametrize(
    ("date", "utc"),
    [
        (b"Wed, 31 Dec 2025 10:13:47 +1600", datetime(2025, 12, 30, 18, 13, 47, tzinfo=UTC)),
        (b"Wed, 31 Dec 2025 10:13:47 +1900", datetime(2025, 12, 30, 15, 13, 47, tzinfo=UTC)),
        (b"Fri,  9 May 2025 15:03:42 -0400", datetime(2025, 5, 9, 19, 3, 42, tzinfo=UTC)),
        (b"Wed, 31 Dec 2025 14:16:34 -0000", datetime(2025, 12, 31, 14, 16, 34, tzinfo=UTC)),
        (b"31 Dec 2025 14:16 GMT", datetime(2025, 12, 31, 14, 16, 0, tzinfo=UTC)),
        (b"Wed, 31 Dec 25 14:16:34 +0100", datetime(2025, 12, 31, 13, 16, 34, tzinfo=UTC)),
    ],
)
def test_date_offsets(date: bytes, utc: datetime) -> None:
    """Odd offsets (+1600, +1900), -0000, named zones, 2-digit years: aware UTC."""
    m = parse_message(edit_header(raw("nacked"), b"Date", date))
    assert m.date == utc
    assert m.date.tzinfo is UTC


def test_odd_offset_is_warned() -> None:
    """An offset no zone uses is applied but recorded."""
    m = parse_message(edit_header(raw("nacked"), b"Date", b"Wed, 31 Dec 2025 10:13:47 +1600"))
    assert "odd Date offset +16h (no such zone)" in m.warnings


def test_missing_date_uses_the_fallback() -> None:
    """No Date and no dated Received: header: the caller's fallback (the archive's time
    for the mail) is used, and recorded. (Issue 7 put the first Received: header before
    the fallback, as public-inbox does; tests/core/test_mail_dates.py covers that order.)"""
    data = without(edit_header(raw("nacked"), b"Date", None), "Received")
    arrival = datetime(2025, 3, 1, 12, 0, tzinfo=UTC)
    m = parse_message(data, fallback_date=arrival)
    assert m.date == arrival
    assert ("no Date header; dated by the archive (mbox From_ line or epoch commit time)"
            in m.warnings)


def test_unreadable_date_without_any_fallback_is_malformed() -> None:
    """An unreadable Date, no dated Received: header and no fallback cannot make a Message."""
    data = without(edit_header(raw("nacked"), b"Date", b"yesterday-ish"), "Received")
    with pytest.raises(MalformedMessage, match="unreadable Date 'yesterday-ish', no dated"):
        parse_message(data)


def test_missing_message_id_is_synthesised_stably() -> None:
    """No Message-ID: a stable id from the bytes, with a warning."""
    data = edit_header(raw("nacked"), b"Message-ID", None)
    a, b = parse_message(data), parse_message(data)
    assert a.message_id == b.message_id
    assert a.message_id.endswith("@reviewbot.invalid")
    assert any(w.startswith("no Message-ID") for w in a.warnings)


@pytest.mark.parametrize(
    "value", [b"20250101.abc@x.org", b"< 20250101.abc@x.org >", b"<20250101. abc@x.org>"]
)
def test_message_id_without_brackets_or_with_blanks(value: bytes) -> None:
    """Message-IDs lose brackets and blanks."""
    m = parse_message(edit_header(raw("nacked"), b"Message-ID", value))
    assert m.message_id == "20250101.abc@x.org"


def test_references_with_garbage() -> None:
    """Ids are taken from References despite comments and missing brackets;
    In-Reply-To's comment is dropped."""
    data = edit_header(raw("nacked"), b"References",
                       b"<a@x.org> (some comment)\n\t<b@x.org>,<c@x.org> junk")
    data = edit_header(data, b"In-Reply-To", b"<c@x.org> (Jakub's message of Mon)")
    m = parse_message(data)
    assert m.references == ("a@x.org", "b@x.org", "c@x.org")
    assert m.in_reply_to == "c@x.org"


def test_parent_from_references_when_in_reply_to_is_missing() -> None:
    """Without In-Reply-To the last Reference is the parent."""
    data = edit_header(raw("nacked"), b"In-Reply-To", None)
    m = parse_message(data)
    assert m.in_reply_to == m.references[-1]


def test_missing_from_and_subject_are_warnings() -> None:
    """Missing From/Subject are repaired with empty values and warnings."""
    data = edit_header(edit_header(raw("nacked"), b"From", None), b"Subject", None)
    m = parse_message(data)
    assert (m.from_email, m.subject.raw) == ("", "")
    assert "no From header" in m.warnings and "no Subject header" in m.warnings


@pytest.mark.parametrize(
    ("data", "reason"),
    [
        (b"", "empty message"),
        (b"  \n\n", "empty message"),
        (b"\x89PNG\r\n\x1a\n\x00\x00binary", "not a mail"),
        (b"just some text\nwithout headers\n", "not a mail"),
    ],
)
def test_unusable_input_is_malformed(data: bytes, reason: str) -> None:
    """Only input that is not a mail at all raises MalformedMessage."""
    with pytest.raises(MalformedMessage, match=reason):
        parse_message(data)


def test_crlf_mail() -> None:
    """CRLF line ends parse like LF ones."""
    lf = raw("in_body_from_patch")
    a, b = parse_message(lf), parse_message(lf.replace(b"\n", b"\r\n"))
    assert (b.message_id, b.kind, b.files, b.patch_id, b.author_email) == (
        a.message_id, a.kind, a.files, a.patch_id, a.author_email)
    assert b.subject == a.subject


def test_pull_subject_on_an_answer_is_a_reply() -> None:
    """A "[GIT PULL]" subject without "Re:" that answers a thread and carries no
    request-pull text is a reply (edited from the real slab pull request)."""
    data = raw("git_pull_qp_signed")
    data = edit_header(data, b"Content-Type", b"text/plain")
    head, _, _ = data.partition(b"\n\n")
    data = head + b"\nIn-Reply-To: <20250901.parent@nvidia.com>\n\nAck, sounds good.\n"
    m = parse_message(data)
    assert m.kind is MessageKind.REPLY


_SAMPLES = sorted(MAIL.glob("*.eml"))
_SNIPPETS = [b"\n", b"\r\n", b"=?utf-8?b?", b"=?x?q?=FF?=", b'boundary="', b"\ndiff --git a/ b/\n",
             b"@@ -1 +1 @@\n", b"--- a/x\n+++ b/x\n@@ -0,0 +1,1 @@\n", b"\n--x\n",
             b"Content-Type: multipart/mixed; boundary=x\n", b"Date: Mon, 99 Foo 9 99:99 +9999\n"]


@settings(max_examples=300, deadline=None)
@given(
    sample=st.sampled_from(_SAMPLES),
    cut=st.integers(min_value=0, max_value=20000),
    at=st.integers(min_value=0, max_value=20000),
    snippet=st.sampled_from(_SNIPPETS),
    noise=st.binary(max_size=8),
)
def test_mangled_mail_never_crashes(
    sample: Path, cut: int, at: int, snippet: bytes, noise: bytes
) -> None:
    """Truncated, spliced and noisy real mails parse or raise MalformedMessage."""
    data = sample.read_bytes()[:cut]
    data = data[:at] + snippet + noise + data[at:]
    try:
        m = parse_message(data, fallback_date=datetime(2025, 1, 1, tzinfo=UTC))
    except MalformedMessage as e:
        assert e.reason
    else:
        assert m.message_id and m.date.tzinfo is UTC


def test_octet_stream_patch_attachment() -> None:
    """An attached .patch sent as application/octet-stream counts too (the
    corpus sample with its text/x-patch parts relabelled)."""
    data = raw("x_patch_attachment").replace(b"Content-Type: text/x-patch",
                                             b"Content-Type: application/octet-stream")
    m = parse_message(data)
    assert m.files == ("drivers/dibs/dibs_loopback.c",)
    assert m.patch_id is not None


def test_html_only_multipart_has_no_text() -> None:
    """A multipart mail without text/plain parses, with a warning."""
    data = (b"From: A <a@x.org>\nSubject: hi\nDate: Mon, 6 Jan 2025 10:00:00 +0000\n"
            b"Message-ID: <h@x.org>\nContent-Type: multipart/alternative; boundary=\"b\"\n\n"
            b"--b\nContent-Type: text/html\n\n<p>Reviewed-by: A &lt;a@x.org&gt;</p>\n--b--\n")
    m = parse_message(data)
    assert m.trailers == ()
    assert "multipart message without a text/plain part" in m.warnings
