"""`reviewbot series <message-id> [--json] [--as-of DATE]`: the series containing a message,
its subsystems (the expected taker marked), its backlog state, whose turn it is, why,
since when, when due, and the timeline that led there.

Each patch shows its reviews ("carried from vN" when given to an identical patch of an
earlier revision) and b4's attestation of the posting (DKIM or patatt: pass, fail or
none; offline b4 does not check DKIM, so a DKIM-only signature is "none")."""

from __future__ import annotations

import argparse
import json
from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

from reviewbot.commands.db import CommandError, open_app, run_guarded, unknown_series
from reviewbot.commands.timeargs import NO_MAINTAINERS, add_as_of, now_or
from reviewbot.core.backlog.turn import SeriesStatus, describe_event, timeline_lines
from reviewbot.core.maintainers.subsystems import SeriesRouting
from reviewbot.core.model import Series, Trailer
from reviewbot.service.queries import NotYetPosted, UnknownSeries, series_view

if TYPE_CHECKING:  # b4 loads only when a series is shown
    from reviewbot.adapters.b4.attest import Attestation
    from reviewbot.wiring import App


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


def _status_text(status: SeriesStatus, routing: SeriesRouting, routed: bool) -> list[str]:
    lines = []
    if routing.routes:
        lines.append("  subsystems: " + "; ".join(
            r.section + (" (expected to take it)" if r.is_taker else "")
            for r in routing.routes))
    elif not routed:
        lines.append(f"  subsystems: unknown ({NO_MAINTAINERS})")
    else:
        lines.append("  subsystems: none (no MAINTAINERS section owns its files)")
    if routing.unowned:
        lines.append(f"  unowned files: {', '.join(routing.unowned)}")
    who = f" ({', '.join(status.waiting_on)})" if status.waiting_on else ""
    lines += [f"  state: {status.state}, {status.turn}'s turn{who}",
              f"  why: {status.reason}",
              f"  since: {status.since:%Y-%m-%d %H:%M} UTC"
              + (f", due {status.due:%Y-%m-%d %H:%M} UTC" if status.due else "")]
    if status.assignees:
        lines.append(f"  assigned: {', '.join(status.assignees)}")
    lines.append("  timeline:")
    lines += [f"    {t}" for t in timeline_lines(status)]
    return lines


def carried_versions(status: SeriesStatus) -> dict[str, int]:
    """Where carried reviews came from: the reply's Message-ID -> the revision's version."""
    return {t.event.ref: t.event.from_version for t in status.timeline
            if t.event is not None and t.event.from_version}


def _review_line(t: Trailer, carried: Mapping[str, int]) -> str:
    line = f"{t.kind.value} {t.name or t.email}"
    version = carried.get(str(t.source)) if t.source else None
    return f"{line} (carried from v{version})" if version else line


def _text(s: Series, state: str, carried: Mapping[str, int] | None = None,
          attested: Mapping[str, Any] | None = None) -> str:
    lines = [
        f"{s.title}",
        f"  v{s.version}, {len(s.patches)}/{s.total} patches, {state}"
        + (f", missing {', '.join(map(str, s.missing))}" if s.missing else ""),
        f"  by {s.author_name} <{s.author_email}> on {s.date:%Y-%m-%d %H:%M} UTC",
        f"  root <{s.series_id}>",
    ]
    if s.cover_message_id:
        lines.append(f"  cover <{s.cover_message_id}>")
    if len(s.revisions) > 1:
        lines.append("  revisions: " + " -> ".join(f"<{r}>" for r in s.revisions))
    if s.superseded_by:
        lines.append(f"  superseded by <{s.superseded_by}>")
    for p in s.patches:
        reviews = sorted({_review_line(t, carried or {}) for t in p.trailers
                          if t.kind.is_review or t.kind.value == "Tested-by"})
        lines.append(f"  [{p.index}/{s.total}] {p.subject}")
        if attested is not None and p.message_id in attested:
            lines.append(f"        attestation: {attested[p.message_id]}")
        lines.extend(f"        {r}" for r in reviews)
    return "\n".join(lines)


def _attest(app: App, s: Series) -> dict[str, Attestation]:
    """b4's verdict per posting, from the stored raw mail (no network)."""
    from reviewbot.adapters.b4.attest import B4Attestor
    from reviewbot.adapters.sql.lookup import SqlSeriesLookup

    raws = SqlSeriesLookup(app.engine, app.raw_reader()).raw_messages(
        [p.message_id for p in s.patches])
    return {str(k): v for k, v in B4Attestor().attest(raws).items()}


def _run(args: argparse.Namespace) -> int:
    app = open_app(args)
    now = now_or(args.as_of)
    mid = args.message_id.strip().removeprefix("<").removesuffix(">")
    try:
        view = series_view(app.reader, app.ctx, mid, now)
    except UnknownSeries as exc:
        raise CommandError(unknown_series(mid, exc.args[1] == "in no series")) from exc
    except NotYetPosted as exc:
        raise CommandError(f"<{exc.args[0]}> was posted {exc.args[1]:%Y-%m-%d %H:%M} UTC, "
                           f"after {now:%Y-%m-%d %H:%M} UTC") from exc
    except ValueError as exc:  # a history that cannot be replayed
        raise CommandError(f"<{mid}>: no state as of {now:%Y-%m-%d %H:%M} UTC ({exc})") from exc
    s, status, routing = view.series, view.status, view.routing
    attested = _attest(app, s)
    if args.json:
        out = {**series_json(s, status.state.value), **status_json(status, routing)}
        for p in out["patches"]:
            a = attested.get(p["message_id"])
            p["attestation"] = ({"result": a.result, "identity": a.identity,
                                 "detail": a.detail} if a is not None else None)
        print(json.dumps(out, indent=2, ensure_ascii=False))
    else:
        text = _text(s, status.state.value, carried_versions(status), attested)
        print("\n".join([text, *_status_text(status, routing, app.ctx.maintainers is not None)]))
    return 0


def register(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    p = sub.add_parser("series", help="show the series containing a message")
    p.add_argument("message_id", metavar="MESSAGE-ID", help="with or without <>")
    p.add_argument("--json", action="store_true", help="machine-readable output")
    add_as_of(p)
    p.set_defaults(func=run_guarded(_run))
