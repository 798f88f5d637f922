"""The poll log: each source's (and tree's) polls as one JSON row of the `meta` table
("poll:<key>"), written by whoever polls (the daemon, a CLI ingest, `trees poll`), so
`reviewbot health`, `/healthz` and `/metrics` in any process see them.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from datetime import datetime
from typing import Any

import sqlalchemy as sa
from sqlalchemy.engine import Engine

from reviewbot.adapters.sql.schema.rows import META, get_meta, set_meta
from reviewbot.ports import PollRecord

_POLL = "poll:"


class SqlPollLog:
    def __init__(self, engine: Engine) -> None:
        self.engine = engine

    def record(self, key: str, list_name: str, at: datetime, error: str | None) -> None:
        def ended(r: dict[str, Any]) -> None:
            r["polls"] += 1
            if error is None:
                r["last_success"] = at.isoformat()
            else:
                r["errors"] += 1
                r["last_error_at"] = at.isoformat()
                r["last_error"] = error[:500]

        self._update(key, list_name, ended)

    def progress(self, key: str, list_name: str, at: datetime) -> None:
        self._update(key, list_name, lambda r: r.__setitem__("last_success", at.isoformat()))

    def _update(self, key: str, list_name: str, change: Callable[[dict[str, Any]], None]
                ) -> None:
        """Read, change and write one source's record in one transaction."""
        with self.engine.begin() as conn:
            text = get_meta(conn, _POLL + key)
            r: dict[str, Any] = (json.loads(text) if text
                                 else {"list": list_name, "polls": 0, "errors": 0})
            r["list"] = list_name or r.get("list", "")
            change(r)
            set_meta(conn, _POLL + key, json.dumps(r, sort_keys=True))

    def records(self) -> list[PollRecord]:
        with self.engine.connect() as conn:
            rows = conn.execute(sa.select(META.c.key, META.c.value)
                                .where(META.c.key.startswith(_POLL)).order_by(META.c.key))
            return [_record(key.removeprefix(_POLL), json.loads(value)) for key, value in rows]

    def last_successes(self) -> dict[str, datetime]:
        """Source (or "tree:...") key -> its last successful poll or stored batch."""
        return {r.key: r.last_success for r in self.records() if r.last_success}


def _record(key: str, r: dict[str, Any]) -> PollRecord:
    def when(name: str) -> datetime | None:
        value = r.get(name)
        return datetime.fromisoformat(value) if isinstance(value, str) else None

    error = r.get("last_error")
    return PollRecord(key, str(r.get("list", "")), int(r.get("polls", 0)),
                      int(r.get("errors", 0)), when("last_success"),
                      when("last_error_at"), error if isinstance(error, str) else None)
