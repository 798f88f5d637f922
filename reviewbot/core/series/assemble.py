"""Group messages into series and link revisions. Pure: no I/O, no clock.

`assemble` is a function of the *set* of messages: any arrival order (and any
duplicate copy of a Message-ID) gives an equal Assembly. How:

- threads.group_postings splits patches and cover letters into series
  (threading first, then shared thread root, then sender+version+total within
  20 minutes for unthreaded mail);
- every other message hangs below the nearest posting up its reference chain
  (threads.attach_replies) and becomes a member of that posting's series;
- attribution.merge collects each patch's trailers (own, replies below it,
  replies to the cover; no self-reviews, no bots: see attribution.py);
- revisions.link chains v1 -> v2 -> v3;
- trailers given in replies to a patch of an older revision carry over to a
  patch with the same patch-id in a newer one, as in b4 (the carried
  Trailer's `source` is a reply outside the series).

Partial rerolls (b4's term): when every patch of a coverless v2 was sent
In-Reply-To the same-numbered patch of an older version, the v2 is completed
from that older series, as b4 does: the missing slots are filled with the
older SeriesPatch (its Message-ID, files and trailers), `missing` only lists
slots neither has, and the older series is superseded ("reference" link).
The carried patches stay members of the older series in `series_of`.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass, replace

from reviewbot.core.model import (
    Message,
    MessageId,
    Series,
    SeriesId,
    SeriesPatch,
    Trailer,
)
from reviewbot.core.series import attribution, revisions, threads


@dataclass(frozen=True, slots=True)
class Assembly:
    series: tuple[Series, ...]
    series_of: dict[MessageId, SeriesId]  # every member message -> its series


@dataclass(slots=True)
class _Draft:
    """A series being built: its postings by slot, plus the replies below them."""

    postings: dict[int, Message]
    series_id: SeriesId
    replies: dict[MessageId, list[Message]]  # posting id -> replies attached to it
    rerolled_from: _Draft | None = None

    @property
    def head(self) -> Message:
        """The message that names the series: cover, else the lowest patch."""
        return self.postings[min(self.postings)]


def _dedupe(messages: Iterable[Message]) -> dict[MessageId, Message]:
    by_id: dict[MessageId, Message] = {}
    for msg in messages:
        old = by_id.get(msg.message_id)
        # Two copies of one Message-ID: keep a deterministic one.
        if old is None or repr(msg) > repr(old):
            by_id[msg.message_id] = msg
    return by_id


def assemble(messages: Iterable[Message]) -> Assembly:
    by_id = _dedupe(messages)
    postings = {mid: m for mid, m in by_id.items() if threads.is_posting(m)}
    drafts: list[_Draft] = []
    for group in threads.group_postings(postings):
        by_slot = {threads.slot(m): m for m in group}
        sid = SeriesId(by_slot[min(by_slot)].message_id)
        drafts.append(_Draft(postings=by_slot, series_id=sid, replies=defaultdict(list)))
    draft_of: dict[MessageId, _Draft] = {}
    for d in drafts:
        for m in d.postings.values():
            draft_of[m.message_id] = d

    attached = threads.attach_replies(by_id, draft_of)
    for mid, anchor in attached.items():
        draft_of[anchor].replies[anchor].append(by_id[mid])
    for d in drafts:
        for lst in d.replies.values():
            lst.sort(key=threads.order_key)

    _find_partial_rerolls(drafts, by_id, draft_of)

    built: dict[SeriesId, Series] = {}
    for d in sorted(drafts, key=_reroll_depth):  # older revisions first, rerolls copy them
        built[d.series_id] = _build(d, built)

    series_of: dict[MessageId, SeriesId] = {}
    for s in built.values():
        for mid in s.members:
            series_of[mid] = s.series_id

    links = revisions.link((_candidate(d, by_id, draft_of) for d in drafts), series_of)
    reviews = {
        (d.series_id, threads.slot(m)): _below(d, m.message_id)
        for d in drafts
        for m in d.postings.values()
        if m.patch_id
    }
    final = []
    for s in built.values():
        r = links[s.series_id]
        s = _carry_trailers(s, r.revisions, built, reviews, by_id)
        final.append(
            replace(s, revisions=r.revisions, superseded_by=r.superseded_by, revision_link=r.link)
        )
    final.sort(key=lambda s: (s.date, s.series_id))
    ordered_of = {mid: series_of[mid] for mid in sorted(series_of)}
    return Assembly(series=tuple(final), series_of=ordered_of)


def _reroll_depth(d: _Draft) -> tuple[int, str]:
    depth, cur = 0, d.rerolled_from
    while cur is not None and depth < 100:
        depth, cur = depth + 1, cur.rerolled_from
    return (depth, d.series_id)


def _find_partial_rerolls(
    drafts: list[_Draft], by_id: dict[MessageId, Message], draft_of: dict[MessageId, _Draft]
) -> None:
    """Mark coverless series whose every patch answers its own slot in an older version."""
    for d in drafts:
        if 0 in d.postings:
            continue
        older: _Draft | None = None
        for msg in d.postings.values():
            prev = _same_slot_ancestor(msg, by_id)
            if prev is None:
                older = None
                break
            if older is None or threads.order_key(draft_of[prev].head) < threads.order_key(
                older.head
            ):
                older = draft_of[prev]
        if older is not None and older is not d and _not_cyclic(older, d):
            d.rerolled_from = older


def _not_cyclic(older: _Draft, d: _Draft) -> bool:
    cur: _Draft | None = older
    while cur is not None:
        if cur is d:
            return False
        cur = cur.rerolled_from
    return True


def _same_slot_ancestor(msg: Message, by_id: dict[MessageId, Message]) -> MessageId | None:
    """Walk In-Reply-To up to a posting with the same n/N of another version."""
    cur, hops = msg.in_reply_to, 0
    while cur is not None and hops < 50:
        anc = by_id.get(cur)
        if anc is None:
            return None
        if (
            threads.is_posting(anc)
            and threads.slot(anc) == threads.slot(msg)
            and threads.declared_total(anc) == threads.declared_total(msg)
            and anc.subject.version_label != msg.subject.version_label
        ):
            return anc.message_id
        cur, hops = anc.in_reply_to, hops + 1
    return None


def _carry_trailers(
    s: Series,
    chain: tuple[SeriesId, ...],
    built: dict[SeriesId, Series],
    reviews: dict[tuple[SeriesId, int], list[Trailer]],
    by_id: dict[MessageId, Message],
) -> Series:
    """Trailers given in replies to an identical patch (same patch-id) of an older revision.

    As b4 does; such a trailer keeps its `source`, a reply outside this series.
    """
    older = chain[: chain.index(s.series_id)]
    if not older:
        return s
    by_patch_id: dict[str, list[Trailer]] = {}
    for sid in older:
        for p in built[sid].patches:
            if p.patch_id and (sid, p.index) in reviews:
                by_patch_id.setdefault(p.patch_id, []).extend(reviews[(sid, p.index)])
    if not by_patch_id:
        return s
    patches = []
    for p in s.patches:
        carried = by_patch_id.get(p.patch_id or "")
        if carried:
            msg = by_id[p.message_id]
            authors = (msg.author_email, msg.from_email)
            p = replace(p, trailers=attribution.merge(p.trailers, carried, authors=authors))
        patches.append(p)
    return replace(s, patches=tuple(patches))


def _below(d: _Draft, anchor: MessageId) -> list[Trailer]:
    out: list[Trailer] = []
    for reply in d.replies.get(anchor, ()):
        out.extend(attribution.reply_trailers(reply))
    return out


def _own(msg: Message) -> list[Trailer]:
    return [t if t.source is not None else replace(t, source=msg.message_id) for t in msg.trailers]


def _build(d: _Draft, built: dict[SeriesId, Series]) -> Series:
    head = d.head
    cover = d.postings.get(0)
    cover_trailers = (
        attribution.merge(
            _below(d, cover.message_id), authors=(cover.author_email, cover.from_email)
        )
        if cover
        else ()
    )
    patches: dict[int, SeriesPatch] = {}
    for idx, msg in d.postings.items():
        if idx == 0:
            continue
        authors = (msg.author_email, msg.from_email)
        patches[idx] = SeriesPatch(
            index=idx,
            message_id=msg.message_id,
            subject=msg.subject.raw,
            files=msg.files,
            patch_id=msg.patch_id,
            trailers=attribution.merge(
                _own(msg), _below(d, msg.message_id), cover_trailers, authors=authors
            ),
        )
    expected = max(threads.total(m) for m in d.postings.values())
    if d.rerolled_from is not None:
        older = built[d.rerolled_from.series_id]
        for p in older.patches:
            patches.setdefault(p.index, p)
    members = list(d.postings.values())
    for lst in d.replies.values():
        members.extend(lst)
    members.sort(key=threads.order_key)
    return Series(
        series_id=d.series_id,
        title=head.subject.title,
        version=head.subject.version,
        total=expected,
        author_name=head.from_name,
        author_email=head.from_email,
        date=members[0].date,
        cover_message_id=cover.message_id if cover else None,
        patches=tuple(patches[i] for i in sorted(patches)),
        missing=tuple(i for i in range(1, expected + 1) if i not in patches),
        cover_trailers=cover_trailers,
        change_id=_first(m.change_id for m in _by_slot(d)),
        is_rfc=any(m.subject.is_rfc for m in d.postings.values()),
        is_resend=head.subject.is_resend,
        is_autosel=any(m.subject.is_autosel for m in d.postings.values()),
        tags=head.subject.tags,
        members=tuple(m.message_id for m in members),
    )


def _by_slot(d: _Draft) -> list[Message]:
    return [d.postings[i] for i in sorted(d.postings)]


def _first(values: Iterable[str | None]) -> str | None:
    return next((v for v in values if v), None)


def _candidate(
    d: _Draft, by_id: dict[MessageId, Message], draft_of: dict[MessageId, _Draft]
) -> revisions.Candidate:
    refs: set[MessageId] = set()
    for m in d.postings.values():
        refs.update(m.linked_ids)
        # Sent In-Reply-To another series' thread: nearest known message up the chain.
        for ref in threads.nearest_refs(m):
            if ref in by_id:
                if draft_of.get(ref) is not d:
                    refs.add(ref)
                break
    if d.rerolled_from is not None:
        refs.add(d.rerolled_from.head.message_id)
    head = d.head
    return revisions.Candidate(
        series_id=d.series_id,
        version=revisions.version_key(head.subject.version_label),
        date=min(m.date for m in d.postings.values()),
        sender=head.from_email,
        title=head.subject.title,
        change_id=_first(m.change_id for m in _by_slot(d)),
        is_resend=head.subject.is_resend,
        is_autosel=any(m.subject.is_autosel for m in d.postings.values()),
        references=frozenset(refs),
        files=frozenset(f for m in d.postings.values() for f in m.files),
        subjects=frozenset(revisions.normalise_title(m.subject.title)
                           for m in d.postings.values() if m.subject.counter != 0),
        tags=head.subject.tags,
    )
