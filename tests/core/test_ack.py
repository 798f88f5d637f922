"""Acknowledgements (issue 7): a "thanks" with no tag after a review is not "changes requested".

The parser marks a reply whose unquoted text only thanks or approves
(Message.ack_only); the backlog must not read it as a request for changes.
Wordings are real replies from the 2025 linux-rdma corpus.
"""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from reviewbot.adapters.sql.schema.codec import decode_message, encode_message
from reviewbot.core.backlog.events import EventKind, events_from_series
from reviewbot.core.backlog.replay import derive_state
from reviewbot.core.backlog.turn import Turn
from reviewbot.core.mail.ack import is_acknowledgement
from reviewbot.core.mail.parse import parse_message
from reviewbot.core.model import MessageKind
from reviewbot.core.policy.model import Policy, Sla
from reviewbot.core.series.assemble import assemble
from tests.corpus import read_corpus

QUOTE = "On Tue, 20 May 2025 10:00:00 +0300, A Reviewer wrote:\n> +\tif (!qp)\n> +\t\treturn;\n\n"


@pytest.mark.parametrize(
    "body",
    [
        "Thanks, much appreciated.",
        "Indeed, thanks.\n\n-- YK",
        "Ack.",
        "Agree.\n\nBest regards,\nDust",
        "Got it, thanks\n\nJason",
        "Makes sense and LGTM, thank you Leon!",
        "Ok, thanks for the clarification. fine by me.\n\n/P",
        "Awesome. :)\n\nThank you, guys.",
        "Thanks for your code review.\n\nZhu Yanjun",
        "Sounds good! Thanks, Saeed!\n\nChristoph",
        "Thanks, Leon!\n\nHåkon",
        "Yep, I see now, Thanks!.",
    ],
)
def test_thanks_and_approval_are_acknowledgements(body: str) -> None:
    assert is_acknowledgement(QUOTE + body + "\n")


@pytest.mark.parametrize(
    "body",
    [
        "Please add fixes line.\n\nThanks",
        "Why is this event limited to QP with SRQ only?\n\nThanks",
        "Thanks, I will fix it in v2",
        "I dropped this patch for now.\n\nThanks",
        "Kind reminder.\n\nThanks",
        "Looks like it was a copy-paste error :)\n\nThank you Leon.",
        "Thanks for the patch, but NAK",
        "thanks for the patch but it breaks the build",
        "Done\n\nThanks, Jason",
        "Thanks for the review, Leon. Applied.",
        "I would avoid using memset since this is on data path.\n\nThe patch looks good otherwise.",
        "Jason",
        "Hi Leon,",
        "Thanks. " + "The lock is taken in the caller already, see the discussion on v2. " * 4,
    ],
)
def test_anything_that_asks_or_remarks_is_not(body: str) -> None:
    """A question, a request, a plan, a remark, a verdict or a long text keeps it a response."""
    assert not is_acknowledgement(QUOTE + body + "\n")


def test_quoted_thanks_is_not_the_writers() -> None:
    """Only the writer's own unquoted words count: a quoted "Thanks" with a new question."""
    assert not is_acknowledgement("> Thanks!\n\nBut what about the error path?\n")
    assert not is_acknowledgement("> Thanks!\n")


def test_ack_only_survives_the_store_codec() -> None:
    """Message.ack_only is stored with the parsed message (codec defaults table)."""
    raw = (b"From: Simon Horman <horms@kernel.org>\nTo: x@y\nSubject: Re: [PATCH net 2/2] x\n"
           b"Date: Fri, 23 May 2025 08:19:50 +0100\nMessage-ID: <a@x>\nIn-Reply-To: <p@x>\n\n"
           + QUOTE.encode() + b"Thanks, much appreciated.\n")
    m = parse_message(raw)
    assert m.kind is MessageKind.REPLY and m.ack_only
    assert decode_message(encode_message(m)) == m
    plain = parse_message(raw.replace(b"Thanks, much appreciated.", b"Please respin."))
    assert not plain.ack_only and decode_message(encode_message(plain)) == plain


@pytest.mark.corpus
@pytest.mark.slow
def test_corpus_acknowledgements(corpus_git: Path) -> None:
    """56 replies in the corpus only thank or approve. Two of them put a series in the
    author's turn today ("replied without a review tag; waiting for the author"): Jianbo
    Liu's "Ack." on mlx5e misc fixes 2025-09-15 and Dust Li's "Agree." on the smc
    hashtable fix. Read as no objection (replay.on_reply reads SeriesEvent.ack), neither
    is the author's turn: the first was partly applied, the second is back with reviewers."""
    messages = [parse_message(m.raw, fallback_date=m.received) for m in read_corpus(corpus_git)]
    acks = {m.message_id for m in messages if m.ack_only}
    assert len(acks) == 56
    by_id = {m.message_id: m for m in messages}
    assert all(by_id[a].kind is MessageKind.REPLY and not by_id[a].trailers for a in acks)
    series = {s.series_id: s for s in assemble(messages).series}
    end = datetime(2025, 12, 31, tzinfo=UTC)
    # Quiet since September: by the end of the year they expire (issue 7); this test is
    # about whose turn the ack leaves, so nothing expires here.
    policy = Policy(sla=Sla(expire_after=timedelta(days=3650)))
    cases = {
        "1757939074-617281-1-git-send-email-tariqt@nvidia.com":
            ("a720eef5-a01c-4449-8ea0-7cd0d05df25b@nvidia.com", Turn.MAINTAINER),
        "20251217114819.2725882-1-wintera@linux.ibm.com":
            ("aUpMH7_lHm1pFXcZ@linux.alibaba.com", Turn.REVIEWER),
    }
    for sid, (reply, turn) in cases.items():
        s = series[sid]
        assert reply in acks and reply in s.members
        newer = series.get(s.superseded_by) if s.superseded_by else None
        events = events_from_series(s, [by_id[m] for m in s.members], newer=newer)
        [ack] = [e for e in events if e.kind is EventKind.REPLY and e.ref == reply]
        assert ack.ack, sid
        assert derive_state(events, policy, end).turn is turn, sid
        # Read as an objection, as before, the same reply would be the author's turn.
        objection = [replace(e, ack=False) if e is ack else e for e in events]
        today = derive_state(objection, policy, end)
        assert today.turn is Turn.AUTHOR and by_id[reply].from_email in today.reason, sid
