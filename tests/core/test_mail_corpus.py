"""parse_message over the whole 2025 linux-rdma corpus (8,487 messages).

Counts are checked against figures obtained without the parser: the
corpus README, the subjects git stored for each commit, and plain byte
searches in the raw mails.
"""

from __future__ import annotations

import re
from collections import Counter
from pathlib import Path

import pytest

from reviewbot.core.mail.parse import MalformedMessage, parse_message
from reviewbot.core.model import Message, MessageKind
from tests.core.corpus import corpus_messages, corpus_subjects

pytestmark = pytest.mark.corpus

_REPLY = re.compile(r"^\s*(?:re|aw|sv)\s*:", re.IGNORECASE)
_PATCHY = re.compile(r"\[[^\]]*(?:patch|rfc|\d+/\d+)[^\]]*\]", re.IGNORECASE)
_COVER = re.compile(r"\b0+/\d+\]")
_PULL = re.compile(r"^\[(?:GIT PULL|pull-request)\]", re.IGNORECASE)


@pytest.fixture(scope="module")
def corpus(corpus_git: Path) -> list[tuple[str, bytes, str, Message]]:
    """(commit, raw, stored subject, parsed) for every message; nothing may raise."""
    msgs = corpus_messages(corpus_git)
    subjects = corpus_subjects(corpus_git)
    assert len(msgs) == len(subjects) == 8487
    out = []
    for (rev, raw), subj in zip(msgs, subjects, strict=True):
        out.append((rev, raw, subj, parse_message(raw)))  # MalformedMessage would fail here
    return out


def test_every_message_parses(corpus: list[tuple[str, bytes, str, Message]]) -> None:
    """All 8,487 parse; the 8,459 distinct Message-IDs of the README come out."""
    assert len(corpus) == 8487
    assert len({m.message_id for *_, m in corpus}) == 8459
    assert all(m.date.tzinfo is not None for *_, m in corpus)


def test_patch_count_matches_an_independent_count(
    corpus: list[tuple[str, bytes, str, Message]],
) -> None:
    """Mails whose stored subject is patch-like, not a reply, and whose raw bytes
    contain "diff --git" are all PATCH; the few extra PATCHes are explained."""
    independent = {rev for rev, raw, subj, _ in corpus
                   if not _REPLY.match(subj) and _PATCHY.search(subj)
                   and not _COVER.search(subj) and b"\ndiff --git " in raw}
    ours = {rev: m for rev, _, _, m in corpus if m.kind is MessageKind.PATCH}
    assert len(independent) == 3071
    assert independent <= ours.keys()
    extra = {rev: raw for rev, raw, _, _ in corpus if rev in ours.keys() - independent}
    # Extra ones: the diff is encoded (base64/QP) or quilt-style so "diff --git"
    # is not in the raw bytes, or the subject has no PATCH-like bracket.
    for rev, raw in extra.items():
        subj = next(s for r, _, s, _ in corpus if r == rev)
        assert b"\ndiff --git " not in raw or not _PATCHY.search(subj) or _REPLY.match(subj), rev
    assert len(extra) <= 20


def test_cover_count_matches_an_independent_count(
    corpus: list[tuple[str, bytes, str, Message]],
) -> None:
    """0/N subjects are the cover letters, with or without an illustrative diff."""
    independent = {rev for rev, raw, subj, _ in corpus
                   if not _REPLY.match(subj) and _COVER.search(subj)}
    with_diff = {rev for rev, raw, subj, _ in corpus
                 if rev in independent and b"\ndiff --git " in raw}
    ours = {rev for rev, _, _, m in corpus if m.kind is MessageKind.COVER}
    assert len(with_diff) == 8  # the "Split netmem from struct page" covers
    assert len(ours) == 393
    # The one independent extra is "Netlink vs ioctl WAS(Re: [RFC PATCH 00/13] ...)":
    # a reply that renamed the thread, which the parser rightly calls a reply.
    assert ours <= independent and len(independent - ours) == 1


def test_pull_requests(corpus: list[tuple[str, bytes, str, Message]]) -> None:
    """Every fresh [GIT PULL] / [pull-request] mail is a PULL_REQUEST, except a PR
    that is the 0/N cover letter of its patches: that stays a COVER, with its pull."""
    independent = {rev for rev, _, subj, _ in corpus if _PULL.match(subj)}
    ours = {rev: m for rev, _, _, m in corpus if m.kind is MessageKind.PULL_REQUEST}
    covers = {rev: m for rev, _, _, m in corpus
              if rev in independent and m.kind is MessageKind.COVER}
    assert independent <= ours.keys() | covers.keys()
    assert len(covers) == 1  # "[GIT PULL][mlx5-next 0/4] Cached vhca id ..."
    assert all(m.pull is not None and m.pull.ref == "tags/mlx5-next-vhca-id"
               for m in covers.values())
    assert all(m.pull is not None and m.pull.url for m in ours.values())
    assert len(ours) == len(independent) - 1
    slab = next(m for r, *_, m in corpus if r == "f4455dc8b7feea6dc3c13b45fa365db3446883b6")
    assert slab.pull is not None  # hand-written "please pull ... from:" request
    assert (slab.pull.url, slab.pull.ref) == (
        "git://git.kernel.org/pub/scm/linux/kernel/git/vbabka/slab.git", "tags/slab-for-6.17")


def test_bots(corpus: list[tuple[str, bytes, str, Message]]) -> None:
    """Mail from the known bot addresses is flagged, and nothing from a maintainer is."""
    bot_from = re.compile(
        rb"(?im)^from:[^\n]*(lkp@intel\.com|syzkaller\.appspotmail\.com|patchwork-bot\+"
        rb"|pr-tracker-bot@kernel\.org|noreply@launchpad\.net)"
    )
    independent = {rev for rev, raw, _, _ in corpus if bot_from.search(raw.split(b"\n\n")[0])}
    ours = {rev for rev, _, _, m in corpus if m.is_bot}
    assert len(independent) >= 400
    assert independent <= ours
    humans = {"leon@kernel.org", "jgg@nvidia.com", "kuba@kernel.org"}
    assert not any(m.is_bot for *_, m in corpus if m.from_email in humans)


def test_kind_census(corpus: list[tuple[str, bytes, str, Message]]) -> None:
    """Every message gets one of the five kinds; replies are the majority."""
    kinds = Counter(m.kind for *_, m in corpus)
    assert sum(kinds.values()) == 8487
    assert kinds[MessageKind.REPLY] > kinds[MessageKind.PATCH] > kinds[MessageKind.COVER]


def test_malformed_is_the_only_exception() -> None:
    """Garbage raises MalformedMessage and nothing else."""
    for data in (b"", b"\x00\x01\x02", b"no headers here\n"):
        with pytest.raises(MalformedMessage):
            parse_message(data)
