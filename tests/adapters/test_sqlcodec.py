"""The stored forms of messages, series and standings round-trip exactly (adapters/sql)."""

from __future__ import annotations

from pathlib import Path

import pytest

from reviewbot.adapters.sql.schema.codec import decode_message, encode_message
from reviewbot.adapters.sql.schema.seriescodec import (
    decode_series,
    decode_standing,
    encode_series,
    encode_standing,
)
from reviewbot.core.backlog.events import history_events
from reviewbot.core.backlog.replay import replay
from reviewbot.core.backlog.standing import standing
from reviewbot.core.mail.parse import MalformedMessage, parse_message
from reviewbot.core.model import Message
from reviewbot.core.policy.model import Policy
from reviewbot.core.series.assemble import assemble
from reviewbot.ports import RawMail


@pytest.fixture(scope="module")
def messages(corpus_mails: list[RawMail]) -> list[Message]:
    out = []
    for m in corpus_mails:
        try:
            out.append(parse_message(m.raw, fallback_date=m.received))
        except MalformedMessage:
            continue
    return out


@pytest.mark.corpus
def test_every_corpus_message_round_trips_and_stays_small(messages: list[Message],
                                                           corpus_git: Path) -> None:
    """Encoded and decoded, each of the 8,487 corpus messages is equal to itself; the
    stored form (compressed JSON with a preset dictionary) averages under 350 bytes."""
    sizes = []
    for m in messages:
        data = encode_message(m)
        sizes.append(len(data))
        assert decode_message(data) == m
    assert sum(sizes) / len(sizes) < 350


@pytest.mark.corpus
def test_series_docs_and_standings_round_trip(messages: list[Message]) -> None:
    """Every assembled series (members aside, which the message rows hold) and its
    standing come back equal from their stored forms."""
    assembly = assemble(messages)
    by_id = {m.message_id: m for m in messages}
    for s in assembly.series:
        assert decode_series(encode_series(s), s.members) == s
        members = [by_id[m] for m in s.members]
        kept = standing(replay(history_events(s, members), Policy()))
        assert decode_standing(encode_standing(kept)) == kept
