"""SeriesLookup (ports.py) over today's tables: series, series_patch, series_trailer,
series_member, message, and tree_applied for what watched trees took.

A thin read-only adapter on purpose: the series storage is being rewritten, and
this is the one place pull requests and the debt report read it from.
"""

from __future__ import annotations

import email
import email.policy
from collections.abc import Collection, Iterator, Sequence
from email.message import EmailMessage
from typing import Any

import sqlalchemy as sa
from sqlalchemy.engine import Connection, Engine

from reviewbot.adapters.sql.codec import decode_message, unpack_raw
from reviewbot.adapters.sql.tables import (
    MessageRow,
    SeriesMemberRow,
    SeriesPatchRow,
    SeriesRow,
    SeriesTrailerRow,
)
from reviewbot.adapters.sql.trees import APPLIED
from reviewbot.core.applied.match import normalise_subject
from reviewbot.core.model import Message, MessageId, SeriesId, TrailerKind
from reviewbot.core.pulls.model import AppliedCommit, Posting, PullMerged, Review, SeriesSummary
from reviewbot.core.pulls.summary import first_paragraph
from reviewbot.core.pulls.tracker import TRACKER, tracker_merge

M: sa.Table = MessageRow.__table__  # type: ignore[attr-defined]
S: sa.Table = SeriesRow.__table__  # type: ignore[attr-defined]
P: sa.Table = SeriesPatchRow.__table__  # type: ignore[attr-defined]
T: sa.Table = SeriesTrailerRow.__table__  # type: ignore[attr-defined]
MEM: sa.Table = SeriesMemberRow.__table__  # type: ignore[attr-defined]
CHUNK = 500
_REVIEW_KINDS = tuple(k.value for k in (TrailerKind.REVIEWED_BY, TrailerKind.ACKED_BY,
                                        TrailerKind.TESTED_BY, TrailerKind.NACKED_BY))


def _chunks(items: Collection[str]) -> Iterator[list[str]]:
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
    """Answers from one engine; the subject index is built on first use and kept."""

    def __init__(self, engine: Engine) -> None:
        self.engine = engine
        self._subjects: dict[str, list[tuple[str, int, str]]] | None = None

    # -- postings ---------------------------------------------------------------

    def _messages(self, conn: Connection, ids: Collection[str]) -> dict[str, Message]:
        out: dict[str, Message] = {}
        for part in _chunks(ids):
            for mid, parsed in conn.execute(sa.select(M.c.message_id, M.c.parsed)
                                            .where(M.c.message_id.in_(part))):
                out[mid] = decode_message(parsed)
        return out

    def _postings(self, conn: Connection, rows: Sequence[Any]) -> list[Posting]:
        """(series_id, idx, message_id, subject, patch_id) rows -> Postings."""
        msgs = self._messages(conn, {r[2] for r in rows})
        out = []
        for sid, idx, mid, subject, pid in rows:
            m = msgs.get(mid)
            if m is None:
                continue  # deleted since the series was assembled
            out.append(Posting(MessageId(mid), SeriesId(sid), idx, subject,
                               m.author_name or m.from_name,
                               (m.author_email or m.from_email).lower(), m.date, pid))
        return out

    def _patch_rows(self, conn: Connection, column: sa.Column[Any],
                    keys: Collection[str]) -> list[Any]:
        # Stable AUTOSEL copies repost mainline commits: never what a tree applied.
        rows: list[Any] = []
        for part in _chunks(keys):
            rows += conn.execute(
                sa.select(P.c.series_id, P.c.idx, P.c.message_id, P.c.subject, P.c.patch_id)
                .join(S, S.c.series_id == P.c.series_id)
                .where(column.in_(part), S.c.is_autosel == sa.false())).all()
        return rows

    def by_patch_id(self, patch_ids: Collection[str]) -> dict[str, list[Posting]]:
        out: dict[str, list[Posting]] = {}
        with self.engine.connect() as conn:
            for p in self._postings(conn, self._patch_rows(conn, P.c.patch_id, patch_ids)):
                if p.patch_id is not None:
                    out.setdefault(p.patch_id, []).append(p)
        return out

    def by_message_id(self, message_ids: Collection[str]) -> dict[MessageId, Posting]:
        with self.engine.connect() as conn:
            out = {p.message_id: p for p in self._postings(
                conn, self._patch_rows(conn, P.c.message_id, message_ids))}
            rest = set(message_ids) - set(out)
            # A cover letter (or any member): the series itself, no patch index.
            for part in _chunks(rest):
                for mid, sid, title, name, addr, date in conn.execute(
                        sa.select(MEM.c.message_id, S.c.series_id, S.c.title, S.c.author_name,
                                  S.c.author_email, S.c.date)
                        .join(S, S.c.series_id == MEM.c.series_id)
                        .where(MEM.c.message_id.in_(part))):
                    out[MessageId(mid)] = Posting(MessageId(mid), SeriesId(sid), None, title,
                                                  name, addr.lower(), date, None)
        return out

    def by_subject(self, subjects: Collection[str]) -> dict[str, list[Posting]]:
        with self.engine.connect() as conn:
            if self._subjects is None:
                index: dict[str, list[tuple[str, int, str]]] = {}
                for sid, idx, mid, subject in conn.execute(
                        sa.select(P.c.series_id, P.c.idx, P.c.message_id, P.c.subject)):
                    index.setdefault(normalise_subject(subject), []).append((sid, idx, mid))
                self._subjects = index
            wanted = {mid for s in subjects for _, _, mid in self._subjects.get(s, ())}
            out: dict[str, list[Posting]] = {}
            for p in self._postings(conn, self._patch_rows(conn, P.c.message_id, wanted)):
                out.setdefault(normalise_subject(p.subject), []).append(p)
        return out

    # -- series -----------------------------------------------------------------

    def series_summary(self, series_ids: Collection[str]) -> dict[SeriesId, SeriesSummary]:
        out: dict[SeriesId, SeriesSummary] = {}
        with self.engine.connect() as conn:
            for part in _chunks(series_ids):
                out.update(self._summaries(conn, part))
        return out

    def _summaries(self, conn: Connection, part: list[str]) -> dict[SeriesId, SeriesSummary]:
        reviews: dict[str, list[Review]] = {}
        for r in conn.execute(sa.select(T).where(T.c.series_id.in_(part),
                                                 T.c.kind.in_(_REVIEW_KINDS))
                              .order_by(T.c.series_id, T.c.patch_idx, T.c.pos)):
            reviews.setdefault(r.series_id, []).append(
                Review(TrailerKind(r.kind), r.name, r.email.lower(), r.patch_idx, r.qualifier))
        last = {sid: when for sid, when in conn.execute(
            sa.select(MEM.c.series_id, sa.func.max(M.c.date))
            .join(M, M.c.message_id == MEM.c.message_id)
            .where(MEM.c.series_id.in_(part), M.c.deleted == sa.false())
            .group_by(MEM.c.series_id))}
        applied = self._applied(conn, part)
        out: dict[SeriesId, SeriesSummary] = {}
        rows = conn.execute(sa.select(S).where(S.c.series_id.in_(part))).all()
        covers = {r.cover_message_id or r.series_id for r in rows}
        raws = {mid: (unpack_raw(raw, codec), list_name) for mid, raw, codec, list_name in
                conn.execute(sa.select(M.c.message_id, M.c.raw, M.c.raw_codec, M.c.list_name)
                             .where(M.c.message_id.in_(sorted(covers))))}
        for r in rows:
            raw, list_name = raws.get(r.cover_message_id or r.series_id, (b"", ""))
            paragraph = first_paragraph(_plain_text(raw)) if r.cover_message_id and raw else ""
            out[SeriesId(r.series_id)] = SeriesSummary(
                series_id=SeriesId(r.series_id), title=r.title, version=r.version,
                author_name=r.author_name, author_email=r.author_email.lower(), date=r.date,
                state=r.state,
                superseded_by=SeriesId(r.superseded_by) if r.superseded_by else None,
                reviews=tuple(reviews.get(r.series_id, ())), patch_count=r.patch_count,
                total=r.total, last_activity=last.get(r.series_id) or r.date,
                cover_paragraph=paragraph, list_name=list_name,
                applied_in=tuple(applied.get(r.series_id, ())))
        return out

    def _applied(self, conn: Connection, part: list[str]) -> dict[str, list[AppliedCommit]]:
        """Watched-tree commits applying these series' patches, placed as assembled now."""
        out: dict[str, list[AppliedCommit]] = {}
        q = (sa.select(P.c.series_id, P.c.idx, APPLIED.c.tree, APPLIED.c.branch, APPLIED.c.sha)
             .join(APPLIED, APPLIED.c.message_id == P.c.message_id)
             .where(P.c.series_id.in_(part))
             .order_by(P.c.series_id, P.c.idx, APPLIED.c.commit_date))
        for sid, idx, tree, branch, sha in conn.execute(q):
            out.setdefault(sid, []).append(AppliedCommit(idx, tree, branch, sha))
        return out

    # -- pull requests ----------------------------------------------------------

    def pull_merged(self, message_ids: Collection[str]) -> dict[MessageId, PullMerged]:
        wanted = set(message_ids)
        out: dict[MessageId, PullMerged] = {}
        with self.engine.connect() as conn:
            rows = conn.execute(sa.select(M.c.parsed, M.c.raw, M.c.raw_codec)
                                .where(M.c.from_email == TRACKER, M.c.deleted == sa.false())
                                .order_by(M.c.date))
            for parsed, raw, codec in rows:
                m = decode_message(parsed)
                pr = m.in_reply_to if m.in_reply_to in wanted else next(
                    (r for r in reversed(m.references) if r in wanted), None)
                if pr is None or pr in out:
                    continue
                merged = tracker_merge(unpack_raw(raw, codec))
                if merged is not None:
                    out[MessageId(pr)] = merged
        return out
