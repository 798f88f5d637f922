"""`reviewbot series <message-id> [--json]`: the series containing a message."""

from __future__ import annotations

import argparse
import json
from typing import Any

from reviewbot.commands.db import CommandError, open_store, run_guarded
from reviewbot.core.model import Series, Trailer


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
    store = open_store(args)
    mid = args.message_id.strip().removeprefix("<").removesuffix(">")
    found = store.series_for(mid)
    if found is None:
        if store.has_message(mid):
            raise CommandError(f"<{mid}> is stored but belongs to no series "
                               "(not a patch, cover letter or reply to one)")
        raise CommandError(f"unknown message <{mid}>")
    s, state = found
    print(json.dumps(series_json(s, state), indent=2, ensure_ascii=False) if args.json
          else _text(s, state))
    return 0


def register(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    p = sub.add_parser("series", help="show the series containing a message")
    p.add_argument("message_id", metavar="MESSAGE-ID", help="with or without <>")
    p.add_argument("--json", action="store_true", help="machine-readable output")
    p.set_defaults(func=run_guarded(_run))
