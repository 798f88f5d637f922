"""Series and Standing <-> the forms the series table keeps.

A series' doc is everything of core.model.Series but its members (the messages
whose `series` column names it), as compressed JSON; a standing is plain JSON
(small, and readable when debugging a state).
"""

from __future__ import annotations

import json
from datetime import datetime
from typing import Any

from reviewbot.adapters.sql.schema.codec import deflate, inflate
from reviewbot.core.backlog.standing import Standing
from reviewbot.core.backlog.turn import State, Turn
from reviewbot.core.model import MessageId, Series, SeriesId, SeriesPatch, Trailer, TrailerKind


def _trailer_out(t: Trailer) -> list[Any]:
    return [t.kind.value, t.name, t.email, t.value, t.qualifier, t.source]


def _trailer_in(v: list[Any]) -> Trailer:
    kind, name, email, value, qualifier, source = v
    return Trailer(TrailerKind(kind), name, email, value, qualifier,
                   MessageId(source) if source is not None else None)


def encode_series(s: Series) -> bytes:
    d = {
        "id": s.series_id, "title": s.title, "v": s.version, "total": s.total,
        "an": s.author_name, "ae": s.author_email, "date": s.date.isoformat(),
        "cover": s.cover_message_id,
        "patches": [[p.index, p.message_id, p.subject, list(p.files), p.patch_id,
                     [_trailer_out(t) for t in p.trailers]] for p in s.patches],
        "missing": list(s.missing), "ct": [_trailer_out(t) for t in s.cover_trailers],
        "cid": s.change_id, "rfc": s.is_rfc, "resend": s.is_resend, "autosel": s.is_autosel,
        "tags": list(s.tags), "revs": list(s.revisions), "sup": s.superseded_by,
        "link": s.revision_link,
    }
    return deflate(json.dumps(d, separators=(",", ":"), ensure_ascii=False))


def decode_series(data: bytes, members: tuple[MessageId, ...] = ()) -> Series:
    d = json.loads(inflate(data))
    return Series(
        series_id=SeriesId(d["id"]), title=d["title"], version=d["v"], total=d["total"],
        author_name=d["an"], author_email=d["ae"], date=datetime.fromisoformat(d["date"]),
        cover_message_id=MessageId(d["cover"]) if d["cover"] else None,
        patches=tuple(SeriesPatch(i, MessageId(mid), subj, tuple(files), pid,
                                  tuple(_trailer_in(t) for t in trailers))
                      for i, mid, subj, files, pid, trailers in d["patches"]),
        missing=tuple(d["missing"]), cover_trailers=tuple(_trailer_in(t) for t in d["ct"]),
        change_id=d["cid"], is_rfc=d["rfc"], is_resend=d["resend"], is_autosel=d["autosel"],
        tags=tuple(d["tags"]), members=members,
        revisions=tuple(SeriesId(r) for r in d["revs"]),
        superseded_by=SeriesId(d["sup"]) if d["sup"] else None, revision_link=d["link"])


def _when(v: datetime | None) -> str | None:
    return v.isoformat() if v is not None else None


def _at(v: str | None) -> datetime | None:
    return datetime.fromisoformat(v) if v is not None else None


def encode_standing(s: Standing) -> str:
    d = {
        "state": s.state.value, "turn": s.turn.value, "reason": s.reason,
        "since": _when(s.since), "posted": _when(s.posted_at), "activity": _when(s.last_activity),
        "last": _when(s.last_event_at), "first_review": _when(s.first_review_at),
        "applied_at": _when(s.applied_at), "stale": s.stale, "snooze": _when(s.snooze_until),
        "resume": [s.resume[0].value, s.resume[1].value, s.resume[2]] if s.resume else None,
        "author": s.author, "total": s.total, "revision": s.revision, "rfc": s.rfc,
        "reviewed": list(s.reviewed), "applied": list(s.applied), "spoke": list(s.spoke),
        "assignees": list(s.assignees), "m": list(s.maintainers), "r": list(s.reviewers),
        "sup": s.superseded, "naks": list(s.naks),
    }
    return json.dumps(d, separators=(",", ":"), ensure_ascii=False)


def decode_standing(text: str) -> Standing:
    d = json.loads(text)
    resume = d["resume"]

    def need(key: str) -> datetime:
        value = _at(d[key])
        if value is None:
            raise ValueError(f"stored standing lacks {key!r}")
        return value

    return Standing(
        state=State(d["state"]), turn=Turn(d["turn"]), reason=d["reason"], since=need("since"),
        posted_at=need("posted"), last_activity=need("activity"), last_event_at=need("last"),
        first_review_at=_at(d["first_review"]), applied_at=_at(d["applied_at"]),
        stale=d["stale"], snooze_until=_at(d["snooze"]),
        resume=(State(resume[0]), Turn(resume[1]), resume[2]) if resume else None,
        author=d["author"], total=d["total"], revision=d["revision"], rfc=d["rfc"],
        reviewed=tuple(d["reviewed"]), applied=tuple(d["applied"]), spoke=tuple(d["spoke"]),
        assignees=tuple(d["assignees"]), maintainers=tuple(d["m"]), reviewers=tuple(d["r"]),
        # absent from standings stored before issue 7 (a context change recomputes them)
        superseded=d.get("sup", False), naks=tuple(d.get("naks", ())))
