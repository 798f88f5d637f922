"""SeriesLookup (ports.py) over the live core's tables: message (with its series and the
patch-id and subject indexes), series (its doc and stored standing), tree_applied.

Read-only, and bounded: every method reads the rows its keys name through an index.
Raw mail kept by reference (epoch blobs) is read back with the RawReader the
composition root passes in; without one, cover letters give no first paragraph and
pr-tracker-bot replies kept by reference are not read.
"""

from __future__ import annotations

import email
import email.policy
from collections.abc import Collection, Iterator
from email.message import EmailMessage
from typing import Any

import sqlalchemy as sa
from sqlalchemy.engine import Connection, Engine

from reviewbot.adapters.sql.schema.codec import decode_message, unpack_raw
from reviewbot.adapters.sql.schema.series import SeriesRow, ThreadKeyRow
from reviewbot.adapters.sql.schema.seriescodec import decode_series
from reviewbot.adapters.sql.schema.tables import MessageRow
from reviewbot.adapters.sql.trees.applied import APPLIED
from reviewbot.core.applied.match import normalise_subject, subject_hash
from reviewbot.core.model import Message, MessageId, Series, SeriesId, TrailerKind
from reviewbot.core.pulls.model import AppliedCommit, Posting, PullMerged, Review, SeriesSummary
from reviewbot.core.pulls.summary import first_paragraph
from reviewbot.core.pulls.tracker import TRACKER, tracker_merge
from reviewbot.ports import RawReader

M: sa.Table = MessageRow.__table__  # type: ignore[attr-defined]
S: sa.Table = SeriesRow.__table__  # type: ignore[attr-defined]
KEY: sa.Table = ThreadKeyRow.__table__  # type: ignore[attr-defined]
CHUNK = 500
_REVIEW_KINDS = frozenset({TrailerKind.REVIEWED_BY, TrailerKind.ACKED_BY, TrailerKind.TESTED_BY,
                           TrailerKind.NACKED_BY})


def _chunks(items: Collection[Any]) -> Iterator[list[Any]]:
    ordered = sorted(items)
    for i in range(0, len(ordered), CHUNK):
        yield ordered[i:i + CHUNK]


def _plain_text(raw: bytes) -> str:
    try:
        msg = email.message_from_bytes(raw, policy=email.policy.default)
        assert isinstance(msg, EmailMessage)
        body = msg.get_body(preferencelist=("plain",))
        return str(body.get_content()) if body is not None else ""
    except (LookupError, ValueError, AssertionError):  # unknown charset, broken MIME
        return ""


class SqlSeriesLookup:
    """Answers from one engine; `raw` reads mail kept by reference (optional)."""

    def __init__(self, engine: Engine, raw: RawReader | None = None) -> None:
        self.engine = engine
        self.raw = raw

    # -- postings ---------------------------------------------------------------

    def _series_docs(self, conn: Connection, rows: Collection[int]) -> dict[int, Series]:
        out: dict[int, Series] = {}
        for part in _chunks(rows):
            for row, doc in conn.execute(sa.select(S.c.id, S.c.doc).where(S.c.id.in_(part))):
                out[row] = decode_series(doc)
        return out

    def _postings(self, conn: Connection, where: Any) -> list[Posting]:
        """Live patch postings matching `where`, placed in the series that holds them."""
        rows = conn.execute(sa.select(M.c.parsed, M.c.series)
                            .where(where, M.c.deleted == sa.false())).all()
        docs = self._series_docs(conn, {r.series for r in rows if r.series is not None})
        out: list[Posting] = []
        for parsed, series in rows:
            m = decode_message(parsed)
            if m.subject.is_autosel:  # stable AUTOSEL copies: never what a tree applied
                continue
            doc = docs.get(series) if series is not None else None
            if doc is None or doc.is_autosel:
                continue
            idx = next((p.index for p in doc.patches if p.message_id == m.message_id), None)
            out.append(self._posting(m, doc.series_id, idx))
        return out

    @staticmethod
    def _posting(m: Message, sid: SeriesId, idx: int | None) -> Posting:
        return Posting(m.message_id, sid, idx, m.subject.raw, m.author_name or m.from_name,
                       (m.author_email or m.from_email).lower(), m.date, m.patch_id)

    def by_patch_id(self, patch_ids: Collection[str]) -> dict[str, list[Posting]]:
        out: dict[str, list[Posting]] = {}
        with self.engine.connect() as conn:
            for part in _chunks(patch_ids):
                for p in self._postings(conn, M.c.patch_id.in_(part)):
                    if p.patch_id is not None:
                        out.setdefault(p.patch_id, []).append(p)
        return out

    def by_message_id(self, message_ids: Collection[str]) -> dict[MessageId, Posting]:
        out: dict[MessageId, Posting] = {}
        with self.engine.connect() as conn:
            for part in _chunks(message_ids):
                out.update({p.message_id: p for p in self._postings(
                    conn, sa.and_(M.c.message_id.in_(part), M.c.patch_id.is_not(None)))})
            rest = set(message_ids) - set(out)
            # A cover letter (or any member): the series itself, no patch index.
            for part in _chunks(rest):
                for mid, sid, title, name, addr, date in conn.execute(
                        sa.select(M.c.message_id, S.c.series_id, S.c.title, S.c.author_name,
                                  S.c.author_email, S.c.date)
                        .join(S, S.c.id == M.c.series)
                        .where(M.c.message_id.in_(part), M.c.deleted == sa.false())):
                    out[MessageId(mid)] = Posting(MessageId(mid), SeriesId(sid), None, title,
                                                  name, addr.lower(), date, None)
        return out

    def by_subject(self, subjects: Collection[str]) -> dict[str, list[Posting]]:
        keys = {subject_hash(s) for s in subjects}
        wanted = {normalise_subject(s) for s in subjects}
        out: dict[str, list[Posting]] = {}
        with self.engine.connect() as conn:
            for part in _chunks(keys):
                for p in self._postings(conn, M.c.subject_key.in_(part)):
                    key = normalise_subject(p.subject)
                    if key in wanted:  # a hash collision is not a match
                        out.setdefault(key, []).append(p)
        return out

    # -- series -----------------------------------------------------------------

    def series_summary(self, series_ids: Collection[str]) -> dict[SeriesId, SeriesSummary]:
        out: dict[SeriesId, SeriesSummary] = {}
        with self.engine.connect() as conn:
            for part in _chunks(series_ids):
                out.update(self._summaries(conn, part))
        return out

    def _summaries(self, conn: Connection, part: list[str]) -> dict[SeriesId, SeriesSummary]:
        rows = conn.execute(sa.select(S.c.id, S.c.series_id, S.c.doc, S.c.state)
                            .where(S.c.series_id.in_(part))).all()
        docs = {r.id: decode_series(r.doc) for r in rows}
        last = {row: when for row, when in conn.execute(
            sa.select(M.c.series, sa.func.max(M.c.date))
            .where(M.c.series.in_(list(docs)), M.c.deleted == sa.false())
            .group_by(M.c.series))}
        covers = {s.cover_message_id for s in docs.values() if s.cover_message_id}
        texts = self._raws(conn, covers)
        lists = {mid: name for mid, name in conn.execute(
            sa.select(M.c.message_id, M.c.list_name).where(
                M.c.message_id.in_(sorted({s.cover_message_id or s.series_id
                                           for s in docs.values()}))))}
        out: dict[SeriesId, SeriesSummary] = {}
        for r in rows:
            s = docs[r.id]
            raw = texts.get(s.cover_message_id) if s.cover_message_id else None
            out[s.series_id] = SeriesSummary(
                series_id=s.series_id, title=s.title, version=s.version,
                author_name=s.author_name, author_email=s.author_email.lower(), date=s.date,
                state=r.state, superseded_by=s.superseded_by, reviews=_reviews(s),
                patch_count=len(s.patches), total=s.total,
                last_activity=last.get(r.id) or s.date,
                cover_paragraph=first_paragraph(_plain_text(raw)) if raw else "",
                list_name=lists.get(s.cover_message_id or s.series_id, ""),
                applied_in=tuple(self._applied(conn, s)))
        return out

    def _applied(self, conn: Connection, s: Series) -> list[AppliedCommit]:
        """Watched-tree commits applying the series' patches, oldest commit first."""
        index = {p.message_id: p.index for p in s.patches}
        if not index:
            return []
        rows = conn.execute(sa.select(APPLIED.c.message_id, APPLIED.c.tree, APPLIED.c.branch,
                                      APPLIED.c.sha)
                            .where(APPLIED.c.message_id.in_(sorted(index)))
                            .order_by(APPLIED.c.commit_date, APPLIED.c.sha)).all()
        out = [AppliedCommit(index[MessageId(mid)], tree, branch, sha)
               for mid, tree, branch, sha in rows]
        return sorted(out, key=lambda c: (c.patch_idx or 0))

    def raw_messages(self, message_ids: Collection[str]) -> dict[MessageId, bytes]:
        """Stored messages' raw bytes, byte for byte (kept by reference: read through the
        RawReader; left out without one or when its epoch is gone)."""
        with self.engine.connect() as conn:
            return {MessageId(k): v for k, v in self._raws(conn, message_ids).items()}

    def _raws(self, conn: Connection, message_ids: Collection[str]) -> dict[str, bytes]:
        """Raw bytes of these messages: stored ones directly, referenced ones through
        the RawReader (left out without one)."""
        out: dict[str, bytes] = {}
        referenced: dict[str, str] = {}
        for part in _chunks(message_ids):
            for mid, raw, codec, origin in conn.execute(
                    sa.select(M.c.message_id, M.c.raw, M.c.raw_codec, M.c.origin)
                    .where(M.c.message_id.in_(part))):
                if raw is not None:
                    out[mid] = unpack_raw(raw, codec)
                else:
                    referenced[origin] = mid
        if referenced and self.raw is not None:
            for origin, data in self.raw.read(sorted(referenced)).items():
                out[referenced[origin]] = data
        return out

    # -- pull requests ----------------------------------------------------------

    def pull_merged(self, message_ids: Collection[str]) -> dict[MessageId, PullMerged]:
        """pr-tracker-bot's replies in the pull requests' threads (their components; a
        pull request not in the archive is still a key its replies reference)."""
        wanted = set(message_ids)
        out: dict[MessageId, PullMerged] = {}
        with self.engine.connect() as conn:
            comps: set[int] = set()
            for part in _chunks(wanted):  # stored, or only referenced (our own sent mail)
                comps.update(conn.execute(sa.select(M.c.comp).where(
                    M.c.message_id.in_(part), M.c.comp.is_not(None))).scalars())
                comps.update(conn.execute(sa.select(KEY.c.comp).where(
                    KEY.c.key.in_(part))).scalars())
            replies: list[Message] = []
            for part in _chunks(comps):
                for parsed in conn.execute(sa.select(M.c.parsed).where(
                        M.c.comp.in_(part), M.c.deleted == sa.false())).scalars():
                    m = decode_message(parsed)
                    if m.from_email == TRACKER:
                        replies.append(m)
            raws = self._raws(conn, [m.message_id for m in replies])
        for m in sorted(replies, key=lambda m: (m.date, m.message_id)):
            pr = m.in_reply_to if m.in_reply_to in wanted else next(
                (r for r in reversed(m.references) if r in wanted), None)
            if pr is None or pr in out or m.message_id not in raws:
                continue
            merged = tracker_merge(raws[m.message_id])
            if merged is not None:
                out[MessageId(pr)] = merged
        return out


def _reviews(s: Series) -> tuple[Review, ...]:
    """Review trailers of the cover letter (index 0) and of each patch, in that order."""
    out = [Review(t.kind, t.name, t.email.lower(), 0, t.qualifier)
           for t in s.cover_trailers if t.kind in _REVIEW_KINDS]
    for p in s.patches:
        out += [Review(t.kind, t.name, t.email.lower(), p.index, t.qualifier)
                for t in p.trailers if t.kind in _REVIEW_KINDS]
    return tuple(out)
