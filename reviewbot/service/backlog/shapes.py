"""The JSON shapes of series and queues, shared by the CLI (`queue --json`, `series --json`)
and the HTTP API, so both say the same thing with the same keys (keys are only ever added).
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime, timedelta
from typing import Any

from reviewbot.core.backlog.stats import Percentiles, SubsystemStats
from reviewbot.core.backlog.turn import SeriesStatus, describe_event
from reviewbot.core.maintainers.subsystems import SeriesRouting
from reviewbot.core.model import Series, Trailer
from reviewbot.service.backlog.queries import Entry


def days(span: timedelta | None) -> float | None:
    return round(span.total_seconds() / 86400, 2) if span is not None else None


def am_command(series_id: str) -> str:
    return f"reviewbot am {series_id}"


def entry_json(e: Entry, now: datetime, failed: Mapping[str, tuple[int, ...]] | None = None
               ) -> dict[str, Any]:
    """One queue row. `failed`: for the apply list (`--ready`), the patches whose
    signature b4 found bad per series; adds `am` and `attestation_failed`."""
    s, st = e.summary, e.status
    out = {
        "series_id": s.series_id, "title": s.title, "version": s.version,
        "patches": s.patch_count, "total": s.total, "state": st.state.value,
        "author": {"name": s.author_name, "email": s.author_email},
        "date": s.date.isoformat(), "age_seconds": int((now - s.date).total_seconds()),
        "turn": st.turn.value, "waiting_on": list(st.waiting_on), "reason": st.reason,
        "since": st.since.isoformat(), "due": st.due.isoformat() if st.due else None,
        "assignees": list(st.assignees),
        "subsystems": [r.section for r in e.routing.routes],
        "taker": e.routing.taker.section if e.routing.taker else None,
        # added by issue 7 (names above are stable)
        "overdue": st.overdue(now), "last_activity": st.last_activity.isoformat(),
        "naks": list(st.naks),
    }
    if failed is not None:
        out["am"] = am_command(s.series_id)
        out["attestation_failed"] = list(failed.get(s.series_id, ()))
    return out


def pct_json(p: Percentiles) -> dict[str, Any]:
    return {"count": p.count, "p50_days": days(p.p50), "p90_days": days(p.p90)}


def stats_json(st: SubsystemStats) -> dict[str, Any]:
    return {
        "open_total": st.open_total,
        "open_by_state": dict(st.open_by_state),
        "age_buckets": dict(st.age_buckets),
        "oldest_waiting": [{"series_id": w.series_id, "since": w.since.isoformat(),
                            "state": w.state.value, "turn": w.turn.value, "reason": w.reason}
                           for w in st.oldest_waiting],
        "time_to_first_review": pct_json(st.time_to_first_review),
        "time_to_applied": pct_json(st.time_to_applied),
        "reviewer_load": dict(st.reviewer_load),
        "expired": st.expired,
    }


def _trailer(t: Trailer) -> dict[str, Any]:
    return {"kind": t.kind.value, "name": t.name, "email": t.email, "value": t.value,
            "qualifier": t.qualifier, "source": t.source}


def series_json(s: Series, state: str) -> dict[str, Any]:
    """The stable JSON shape scripts rely on (keys are only ever added)."""
    return {
        "series_id": s.series_id,
        "title": s.title,
        "version": s.version,
        "total": s.total,
        "author": {"name": s.author_name, "email": s.author_email},
        "date": s.date.isoformat(),
        "cover_message_id": s.cover_message_id,
        "patches": [{"index": p.index, "message_id": p.message_id, "subject": p.subject,
                     "files": list(p.files), "patch_id": p.patch_id,
                     "trailers": [_trailer(t) for t in p.trailers]} for p in s.patches],
        "cover_trailers": [_trailer(t) for t in s.cover_trailers],
        "missing": list(s.missing),
        "revisions": list(s.revisions),
        "superseded_by": s.superseded_by,
        "revision_link": s.revision_link,
        "change_id": s.change_id,
        "is_rfc": s.is_rfc,
        "is_resend": s.is_resend,
        "tags": list(s.tags),
        "state": state,
    }


def with_attestation(out: dict[str, Any], attested: Mapping[str, Mapping[str, str]]
                     ) -> dict[str, Any]:
    """series_json's patches with b4's verdict on each posting (None: mail not stored)."""
    for p in out["patches"]:
        a = attested.get(p["message_id"])
        p["attestation"] = dict(a) if a is not None else None
    return out


def attestation_text(a: Mapping[str, str]) -> str:
    """"pass (DKIM/kernel.org)", "none: not signed"."""
    who = f" ({a['identity']})" if a.get("identity") else ""
    why = f": {a['detail']}" if a.get("detail") else ""
    return f"{a['result']}{who}{why}"


def _iso(when: object) -> str | None:
    return when.isoformat() if when is not None else None  # type: ignore[attr-defined]


def status_json(status: SeriesStatus, routing: SeriesRouting) -> dict[str, Any]:
    """The backlog keys `series --json` adds to series_json."""
    return {
        "state": status.state.value,
        "subsystems": [{"section": r.section, "taker": r.is_taker, "lists": list(r.lists)}
                       for r in routing.routes],
        "unowned_files": list(routing.unowned),
        "turn": status.turn.value,
        "waiting_on": list(status.waiting_on),
        "assignees": list(status.assignees),
        "reason": status.reason,
        "since": status.since.isoformat(),
        "due": _iso(status.due),
        "first_review_at": _iso(status.first_review_at),
        "applied_at": _iso(status.applied_at),
        "timeline": [{"at": t.at.isoformat(), "event": describe_event(t.event),
                      "kind": t.event.kind.value if t.event else "clock",
                      "actor": t.event.actor if t.event else "", "role": t.role.value,
                      "state": t.state.value, "turn": t.turn.value, "reason": t.reason}
                     for t in status.timeline],
    }


