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
from typing import Any

from reviewbot.commands.db import CommandError, open_app, run_guarded, unknown_series
from reviewbot.commands.timeargs import NO_MAINTAINERS, add_as_of, now_or
from reviewbot.core.backlog.turn import SeriesStatus, timeline_lines
from reviewbot.core.maintainers.subsystems import SeriesRouting
from reviewbot.core.model import Series, Trailer
from reviewbot.service.backlog.queries import NotYetPosted, UnknownSeries, series_view
from reviewbot.service.backlog.shapes import (
    attestation_text,
    series_json,
    status_json,
    with_attestation,
)


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
            lines.append(f"        attestation: {attestation_text(attested[p.message_id])}")
        lines.extend(f"        {r}" for r in reviews)
    return "\n".join(lines)


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
    attested = app.attest([p.message_id for p in s.patches])
    if args.json:
        out = with_attestation({**series_json(s, status.state.value),
                                **status_json(status, routing)}, attested)
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
