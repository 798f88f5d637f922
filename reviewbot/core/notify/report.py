"""The cycle review report as text: for `reviewbot report` and the mail after each
merge window. Pure; the figures come from core.backlog.cyclereport."""

from __future__ import annotations

from collections.abc import Sequence

from reviewbot.core.backlog.cyclereport import CycleReport, Ranked
from reviewbot.core.notify.addresses import address_of
from reviewbot.core.notify.message import Draft, wrap
from reviewbot.core.notify.outbox import OutboxKey

REPORT = "report"
NAME_WIDTH = 26


def _who(r: Ranked) -> str:
    text = r.name or r.who
    return text if len(text) <= NAME_WIDTH else text[:NAME_WIDTH - 3] + "..."


def _rank_lines(title: str, rows: Sequence[Ranked]) -> list[str]:
    out = [title]
    if not rows:
        return [*out, "  none"]
    for r in rows:
        out.append(f"  {r.rank:>3} ({r.change_text():>4}) [{r.count:>4}] {_who(r)}")
    return out


def render_report(rep: CycleReport) -> str:
    days = len(rep.per_day) or 1
    span = max((rep.until - rep.since).days, 1)
    lines = [
        f"Review report of {rep.subsystem}: {rep.label}",
        f"{rep.since:%Y-%m-%d} to {rep.until:%Y-%m-%d} ({span} days); rank changes "
        f"against {rep.previous_label}",
        "",
        wrap(f"{rep.messages} messages in the subsystem's series threads "
             f"({rep.messages / span:.1f} a day; {days} days with mail)."),
        "",
        "Messages per day",
    ]
    for day, n in rep.per_day:
        lines.append(f"  {day:%Y-%m-%d} {n:>5}")
    p = rep.people
    total = sum(p.values()) or 1
    lines += [
        "",
        wrap(f"People: {sum(p.values())}. Posted patches but never replied to another's "
             f"thread: {p['posted_only']} ({100 * p['posted_only'] // total}%); only replied: "
             f"{p['replied_only']} ({100 * p['replied_only'] // total}%); both: {p['both']} "
             f"({100 * p['both'] // total}%)."),
        "",
        wrap(f"Series applied: {rep.applied}. With a review or ack from someone other "
             f"than the author: {rep.applied_reviewed} ({rep.share(rep.applied_reviewed)}%); "
             f"from another employer domain: {rep.applied_cross_domain} "
             f"({rep.share(rep.applied_cross_domain)}%)."),
        "",
        "Rankings: rank (change) [count] person",
        "",
        *_rank_lines("Top reviewers (threads):", rep.reviewers_threads), "",
        *_rank_lines("Top reviewers (messages):", rep.reviewers_messages), "",
        *_rank_lines("Top authors (threads):", rep.authors_threads), "",
        *_rank_lines("Top authors (messages):", rep.authors_messages), "",
        "Employer domains (score = reviews given - received; a reply counts 1, a",
        "review tag 2, per thread and reviewer)",
        f"  {'DOMAIN':<30} {'GIVEN':>6} {'POSTED':>6} {'RECEIVED':>8} {'SCORE':>6}",
    ]
    for d in rep.domains:
        name = d.domain if len(d.domain) <= 30 else d.domain[:27] + "..."
        lines.append(f"  {name:<30} {d.reviews_given:>6} {d.series_posted:>6} "
                     f"{d.reviews_received:>8} {d.score:>+6}")
    return "\n".join(lines)


def report_draft(rep: CycleReport, recipients: Sequence[str], operator: str) -> list[Draft]:
    body = render_report(rep) + "\n\n-- \n" + wrap(
        "An automatic report from reviewbot, mailed after each merge window because the "
        f"subsystem's policy asks for it ([report] mail). Questions to {operator}.")
    subject = f"[reviewbot] {rep.subsystem} review report for {rep.label}"
    return [Draft(key=OutboxKey(REPORT, rep.subsystem, address_of(r).lower(), rep.label),
                  to=(r,), subject=subject, body=body) for r in recipients]
