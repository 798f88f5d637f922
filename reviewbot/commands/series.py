"""`reviewbot series <message-id> [--json] [--as-of DATE]`: the series containing a message,
its subsystems (the expected taker marked), its backlog state, whose turn it is, why,
since when, when due, and the timeline that led there."""

from __future__ import annotations

import argparse
import json

from reviewbot.commands.db import CommandError, open_app, run_guarded, unknown_series
from reviewbot.commands.timeargs import NO_MAINTAINERS, add_as_of, now_or
from reviewbot.core.backlog.turn import SeriesStatus, timeline_lines
from reviewbot.core.maintainers.subsystems import SeriesRouting
from reviewbot.core.model import Series
from reviewbot.service.queries import NotYetPosted, UnknownSeries, series_view
from reviewbot.service.shapes import series_json, status_json


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


def _text(s: Series, state: str) -> str:
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
        reviews = sorted({f"{t.kind.value} {t.name or t.email}" for t in p.trailers
                          if t.kind.is_review or t.kind.value == "Tested-by"})
        lines.append(f"  [{p.index}/{s.total}] {p.subject}")
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
    if args.json:
        print(json.dumps({**series_json(s, status.state.value), **status_json(status, routing)},
                         indent=2, ensure_ascii=False))
    else:
        text = _text(s, status.state.value)
        print("\n".join([text, *_status_text(status, routing, app.ctx.maintainers is not None)]))
    return 0


def register(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    p = sub.add_parser("series", help="show the series containing a message")
    p.add_argument("message_id", metavar="MESSAGE-ID", help="with or without <>")
    p.add_argument("--json", action="store_true", help="machine-readable output")
    add_as_of(p)
    p.set_defaults(func=run_guarded(_run))
