"""Pull-request drafts and recorded upstream-debt totals (migration 0007).

A draft row keeps the prepared request whole (subject, recipients, summary, the
request-pull text, the checks) so `pr send` sends exactly what was reviewed;
`status` moves draft -> sent -> merged, each step with its time and evidence.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from datetime import datetime
from typing import Any

import sqlalchemy as sa
from sqlalchemy.engine import Engine
from sqlmodel import Field, SQLModel

from reviewbot.adapters.sql.schema.tables import AwareDateTime
from reviewbot.core.pulls.model import (
    Check,
    CheckResult,
    DraftStatus,
    GitLabTarget,
    PullDraft,
    PullMerged,
    StoredDraft,
)


def _text(nullable: bool = False) -> Any:
    return Field(default=None, sa_column=sa.Column(sa.Text(), nullable=nullable))


def _aware(nullable: bool) -> Any:
    return Field(default=None, sa_column=sa.Column(AwareDateTime(), nullable=nullable))


class PullDraftRow(SQLModel, table=True):
    __tablename__ = "pull_draft"

    id: int | None = Field(default=None, primary_key=True)
    subsystem: str = Field(index=True)
    tree: str = _text()
    tag: str
    base: str
    base_commit: str
    tip: str
    url: str = _text()
    transport: str
    sender: str
    recipients: str = _text()  # JSON {"to": [...], "cc": [...]}
    subject: str = _text()
    summary: str = _text()
    request_pull: str = _text()
    checks: str = _text()  # JSON [{name, result, reason}]
    gitlab: str | None = _text(nullable=True)  # JSON GitLabTarget
    created: datetime = _aware(False)
    status: str = Field(default="draft", index=True)
    sent_at: datetime | None = _aware(True)
    sent_ref: str | None = _text(nullable=True)  # Message-ID or merge request URL
    merged_at: datetime | None = _aware(True)
    merged_evidence: str | None = _text(nullable=True)


class DebtSnapshotRow(SQLModel, table=True):
    """The totals of one `reviewbot debt --record`, for the trend."""

    __tablename__ = "debt_snapshot"

    id: int | None = Field(default=None, primary_key=True)
    tree: str = Field(index=True)
    branch: str
    taken: datetime = _aware(False)
    counts: str = _text()  # JSON {class: n}


DRAFT: sa.Table = PullDraftRow.__table__  # type: ignore[attr-defined]
DEBT: sa.Table = DebtSnapshotRow.__table__  # type: ignore[attr-defined]


def _dump(v: Any) -> str:
    return json.dumps(v, separators=(",", ":"), ensure_ascii=False)


def _row(d: PullDraft) -> dict[str, Any]:
    g = d.gitlab
    return {
        "subsystem": d.subsystem, "tree": d.tree, "tag": d.tag, "base": d.base,
        "base_commit": d.base_commit, "tip": d.tip, "url": d.url, "transport": d.transport,
        "sender": d.sender, "recipients": _dump({"to": list(d.to), "cc": list(d.cc)}),
        "subject": d.subject, "summary": d.summary, "request_pull": d.request_pull,
        "checks": _dump([c.to_json() for c in d.checks]), "created": d.created,
        "gitlab": None if g is None else _dump({
            "url": g.url, "project": g.project, "source_branch": g.source_branch,
            "target_branch": g.target_branch, "source_project": g.source_project,
            "labels": list(g.labels)}),
        "status": DraftStatus.DRAFT.value,
    }


def _stored(r: Any) -> StoredDraft:
    people = json.loads(r.recipients)
    g = json.loads(r.gitlab) if r.gitlab else None
    draft = PullDraft(
        subsystem=r.subsystem, tree=r.tree, tag=r.tag, base=r.base, base_commit=r.base_commit,
        tip=r.tip, url=r.url, sender=r.sender, to=tuple(people["to"]), cc=tuple(people["cc"]),
        subject=r.subject, summary=r.summary, request_pull=r.request_pull,
        checks=tuple(Check(c["name"], CheckResult(c["result"]), c["reason"])
                     for c in json.loads(r.checks)),
        created=r.created, transport=r.transport,
        gitlab=None if g is None else GitLabTarget(
            g["url"], g["project"], g["source_branch"], g["target_branch"],
            g["source_project"], tuple(g["labels"])))
    return StoredDraft(r.id, draft, DraftStatus(r.status), r.sent_at, r.sent_ref,
                       r.merged_at, r.merged_evidence)


class SqlPulls:
    """The PullStore port over one engine."""

    def __init__(self, engine: Engine) -> None:
        self.engine = engine

    def save_draft(self, draft: PullDraft) -> int:
        with self.engine.begin() as conn:
            key = conn.execute(sa.insert(DRAFT).values(**_row(draft))).inserted_primary_key
            assert key is not None
            return int(key[0])

    def draft(self, draft_id: int) -> StoredDraft | None:
        with self.engine.connect() as conn:
            r = conn.execute(sa.select(DRAFT).where(DRAFT.c.id == draft_id)).first()
        return _stored(r) if r is not None else None

    def drafts(self) -> list[StoredDraft]:
        with self.engine.connect() as conn:
            return [_stored(r) for r in conn.execute(sa.select(DRAFT).order_by(DRAFT.c.id))]

    def mark_sent(self, draft_id: int, at: datetime, ref: str) -> None:
        with self.engine.begin() as conn:
            done = conn.execute(sa.update(DRAFT).where(DRAFT.c.id == draft_id,
                                                       DRAFT.c.status == DraftStatus.DRAFT.value)
                                .values(status=DraftStatus.SENT.value, sent_at=at, sent_ref=ref))
            if done.rowcount != 1:
                raise ValueError(f"pull request draft {draft_id} is not an unsent draft")

    def mark_merged(self, draft_id: int, merged: PullMerged) -> None:
        with self.engine.begin() as conn:
            conn.execute(sa.update(DRAFT).where(DRAFT.c.id == draft_id).values(
                status=DraftStatus.MERGED.value, merged_at=merged.at,
                merged_evidence=merged.evidence))

    def record_debt(self, tree: str, branch: str, at: datetime,
                    counts: Mapping[str, int]) -> None:
        with self.engine.begin() as conn:
            conn.execute(sa.insert(DEBT).values(tree=tree, branch=branch, taken=at,
                                                counts=_dump(dict(counts))))

    def debt_history(self, tree: str, branch: str) -> list[tuple[datetime, dict[str, int]]]:
        with self.engine.connect() as conn:
            rows = conn.execute(sa.select(DEBT.c.taken, DEBT.c.counts)
                                .where(DEBT.c.tree == tree, DEBT.c.branch == branch)
                                .order_by(DEBT.c.taken, DEBT.c.id))
            return [(taken, {k: int(v) for k, v in json.loads(counts).items()})
                    for taken, counts in rows]
