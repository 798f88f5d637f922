"""Is a subsystem tree ready for its pull request? Each check: pass, warn or fail, and why.

Pure: the shell gathers the facts (git, tracked series, MAINTAINERS, the cycle)
into `PullFacts`. What refuses a pull request (fail) and what only warns follows
conventions.md §2: an unsigned, unverified or unpushed tag, a base that is no
mainline tag nor the upstream branch, NAKed or superseded series, a missing
committer Signed-off-by and broken Fixes: tags fail; the rest warns.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from email.utils import parseaddr

from reviewbot.core.maintainers.routing import RoutingIndex
from reviewbot.core.model import SeriesId
from reviewbot.core.pulls.cycle import Cycle
from reviewbot.core.pulls.match import CommitPosting
from reviewbot.core.pulls.model import Check, CheckResult, CommitInfo, SeriesSummary, TagInfo

PASS, WARN, FAIL = CheckResult.PASS, CheckResult.WARN, CheckResult.FAIL
FIXES_FORMAT = re.compile(r'^[0-9a-f]{12,40} \(".+"\)$')  # conventions.md §1
MAX_LISTED = 5  # commits named in one reason; the rest are counted


@dataclass(frozen=True, slots=True)
class PullFacts:
    tag: TagInfo
    verify_ok: bool  # `git verify-tag` exit status
    verify_output: str
    pushed: str | None  # what `refs/tags/<tag>` is at the public URL; None: absent
    url: str
    base: str
    base_commit: str
    base_tags: tuple[str, ...]  # mainline tags pointing at base_commit
    upstream_ref: str | None
    upstream_commit: str | None  # upstream_ref resolved; None: not configured or missing
    commits: Sequence[CommitInfo]  # base..tag, no merges
    postings: Mapping[str, CommitPosting]  # sha -> the posting it applies
    series: Mapping[SeriesId, SeriesSummary]
    unknown_fixes: frozenset[str]  # Fixes: hashes that name no commit in the tree
    linux_next_ref: str | None
    not_in_next: Sequence[str] | None  # shas missing there; None: ref not configured/found
    now: datetime
    late_rebase: timedelta
    cycle: Cycle | None = None
    maintainers: RoutingIndex | None = None
    sections: tuple[str, ...] = ()  # the subsystem's MAINTAINERS sections


def _short(c: CommitInfo) -> str:
    return f'{c.sha[:12]} ("{c.subject}")'


def _n(count: int, noun: str) -> str:
    return f"{count} {noun}" + ("" if count == 1 else "s")


def _listed(items: Sequence[str]) -> str:
    more = len(items) - MAX_LISTED
    return "; ".join(items[:MAX_LISTED]) + (f"; and {more} more" if more > 0 else "")


def check_tag_signed(f: PullFacts) -> Check:
    t = f.tag
    if not t.annotated:
        return Check("tag_signed", FAIL, f"{t.name} is a lightweight tag: make a signed one "
                     "with `git tag -s`")
    if not t.signed:
        return Check("tag_signed", FAIL, f"{t.name} is annotated but not signed: "
                     "re-create it with `git tag -s`")
    return Check("tag_signed", PASS, f"{t.name} is a signed tag by {t.tagger_name} "
                 f"<{t.tagger_email}>")


def check_tag_verified(f: PullFacts) -> Check:
    lines = [ln.strip() for ln in f.verify_output.splitlines() if ln.strip()]
    said = lines[-1] if lines else "no output"
    if not f.tag.signed:
        return Check("tag_verified", FAIL, f"{f.tag.name} has no signature to verify")
    if not f.verify_ok:
        return Check("tag_verified", FAIL, f"`git verify-tag {f.tag.name}` failed: {said}")
    good = next((ln for ln in lines if ln.lower().startswith("good")), said)
    return Check("tag_verified", PASS, good)


def check_tag_pushed(f: PullFacts) -> Check:
    name = f.tag.name
    if f.pushed is None:
        return Check("tag_pushed", FAIL, f"tags/{name} is not at {f.url}: "
                     f"`git push {f.url} tag {name}`")
    if f.pushed != f.tag.object_sha:
        return Check("tag_pushed", FAIL, f"tags/{name} at {f.url} is {f.pushed[:12]}, the local "
                     f"tag is {f.tag.object_sha[:12]}: push it again")
    return Check("tag_pushed", PASS, f"tags/{name} at {f.url} matches the local tag")


def check_base(f: PullFacts) -> Check:
    if f.base_tags:
        what = "a mainline tag" if f.base in f.base_tags else f"mainline tag {f.base_tags[0]}"
        return Check("base", PASS, f"the base {f.base} is {what}")
    if f.upstream_commit is not None and f.upstream_commit == f.base_commit:
        return Check("base", PASS, f"the base {f.base} is the upstream branch {f.upstream_ref}")
    upstream = (f" nor the upstream branch {f.upstream_ref}" if f.upstream_ref
                else " (no [pull] upstream_ref configured)")
    return Check("base", FAIL, f"the base {f.base} ({f.base_commit[:12]}) is not a mainline "
                 f"tag{upstream}")


def _review_problem(c: CommitInfo, cp: CommitPosting | None,
                    series: Mapping[SeriesId, SeriesSummary]) -> tuple[CheckResult, str] | None:
    if cp is None:
        return WARN, f"{_short(c)} matches no tracked posting"
    s = series.get(cp.posting.series_id)
    if s is None:
        return WARN, f"{_short(c)}: series <{cp.posting.series_id}> is not stored"
    if s.naks:
        who = ", ".join(sorted({r.email for r in s.naks}))
        return FAIL, f"{_short(c)}: its series v{s.version} was NAKed by {who}"
    if s.superseded_by is not None:
        return FAIL, (f"{_short(c)} comes from v{s.version}, superseded by "
                      f"<{s.superseded_by}>")
    own = [v for v in c.trailer_values("Reviewed-by", "Acked-by")
           if parseaddr(v)[1].lower() not in {c.author_email.lower(), s.author_email.lower()}]
    if not s.reviewers_other_than(c.author_email, s.author_email) and not own:
        return WARN, f"{_short(c)}: nobody but the author reviewed or acked {s.link}"
    return None


def check_series(f: PullFacts) -> Check:
    problems = [p for c in f.commits
                if (p := _review_problem(c, f.postings.get(c.sha), f.series)) is not None]
    if not problems:
        n = len({cp.posting.series_id for cp in f.postings.values()})
        return Check("series", PASS, f"all {len(f.commits)} commits come from {n} tracked "
                     "series reviewed or acked by someone other than the author")
    worst = FAIL if any(r is FAIL for r, _ in problems) else WARN
    ordered = [t for r, t in problems if r is FAIL] + [t for r, t in problems if r is WARN]
    return Check("series", worst, f"{len(problems)} of {len(f.commits)} commits: "
                 + _listed(ordered))


def _signed_off_by_committer(c: CommitInfo) -> bool:
    for value in c.trailer_values("Signed-off-by"):
        name, addr = parseaddr(value)
        if addr.lower() == c.committer_email.lower() or (
                name and name.casefold() == c.committer_name.casefold()):
            return True
    return False


def check_signed_off(f: PullFacts) -> Check:
    missing = [f"{_short(c)} lacks Signed-off-by: {c.committer_name} <{c.committer_email}>"
               for c in f.commits if not _signed_off_by_committer(c)]
    if missing:
        return Check("signed_off", FAIL, f"{len(missing)} of {len(f.commits)} commits: "
                     + _listed(missing))
    return Check("signed_off", PASS, "every commit has its committer's Signed-off-by")


def check_fixes(f: PullFacts) -> Check:
    bad: list[str] = []
    count = 0
    for c in f.commits:
        for value in c.trailer_values("Fixes"):
            count += 1
            if not FIXES_FORMAT.match(value):
                bad.append(f'{_short(c)}: malformed "Fixes: {value}" (want 12+ hex digits '
                           'and ("subject"))')
            elif value.split()[0] in f.unknown_fixes:
                bad.append(f"{_short(c)}: Fixes: {value.split()[0]} names no commit in the tree")
    if bad:
        return Check("fixes", FAIL, _listed(bad))
    if not count:
        return Check("fixes", PASS, "no Fixes: tags")
    return Check("fixes", PASS, f"{count} Fixes: tags, well formed, naming existing commits")


def _addresses(entries: Sequence[str]) -> set[str]:
    return {parseaddr(e)[1].lower() for e in entries if parseaddr(e)[1]}


def check_outside_files(f: PullFacts) -> Check:
    index = f.maintainers
    if index is None or not f.sections:
        return Check("outside_files", PASS, "not checked: no MAINTAINERS or no [subsystem] "
                     "sections for this subsystem")
    ours = {s.casefold() for s in f.sections}
    problems: list[str] = []
    outside = 0
    for c in f.commits:
        owners: dict[str, set[str]] = {}  # outside file -> its owners' addresses
        for path in c.files:
            secs = [index.sections[sid] for sid, _ in index.file_sections(path)]
            if any(s.name.casefold() in ours for s in secs):
                continue
            owners[path] = set().union(*(_addresses(s.maintainers) for s in secs
                                         if not s.is_catch_all))
        if not owners:
            continue
        outside += 1
        cp = f.postings.get(c.sha)
        s = f.series.get(cp.posting.series_id) if cp else None
        ackers = {parseaddr(v)[1].lower() for v in c.trailer_values("Acked-by", "Reviewed-by")}
        if s is not None:
            ackers |= {r.email.lower() for r in s.reviews if r.kind.is_review}
        ackers.add(c.author_email.lower())  # an owner writing the change needs no ack
        for path, who in sorted(owners.items()):
            if not who:
                problems.append(f"{_short(c)} touches {path}, which no MAINTAINERS section "
                                "but THE REST claims")
            elif not who & ackers:
                problems.append(f"{_short(c)} touches {path} without an ack from "
                                f"{', '.join(sorted(who))}")
    if problems:
        return Check("outside_files", WARN, _listed(problems))
    if outside:
        verb = "touches" if outside == 1 else "touch"
        return Check("outside_files", PASS, f"{_n(outside, 'commit')} {verb} files outside "
                     f"{', '.join(f.sections)}, each acked by their owners")
    return Check("outside_files", PASS, f"every file is within {', '.join(f.sections)}")


def check_linux_next(f: PullFacts) -> Check:
    if f.linux_next_ref is None:
        return Check("linux_next", PASS, "not checked: no [pull] linux_next_ref configured")
    if f.not_in_next is None:
        return Check("linux_next", WARN, f"{f.linux_next_ref} not found in the tree: fetch it")
    if f.not_in_next:
        missing = [_short(c) for c in f.commits if c.sha in set(f.not_in_next)]
        return Check("linux_next", WARN, f"{len(missing)} of {len(f.commits)} commits are not "
                     f"in {f.linux_next_ref}: " + _listed(missing))
    return Check("linux_next", PASS, f"all {len(f.commits)} commits are in {f.linux_next_ref}")


def check_late_rebase(f: PullFacts) -> Check:
    if not f.commits:
        return Check("late_rebase", PASS, "no commits")
    # Before the window measure back from now; in it, from the day it opened.
    end = f.now
    if f.cycle is not None and f.cycle.merge_window_open and f.cycle.latest_tag_date:
        end = min(end, f.cycle.latest_tag_date)
    recent = [c for c in f.commits if end - f.late_rebase <= c.committer_date <= f.now]
    days = f.late_rebase.total_seconds() / 86400
    if len(recent) * 2 > len(f.commits):
        return Check("late_rebase", WARN, f"{len(recent)} of {len(f.commits)} commits were "
                     f"committed in the {days:g} days before {end:%Y-%m-%d}: a late rebase? "
                     "Commits should sit in linux-next before the merge window")
    return Check("late_rebase", PASS, f"{len(recent)} of {len(f.commits)} commits committed "
                 f"in the {days:g} days before {end:%Y-%m-%d}")


def check_uapi(f: PullFacts) -> Check:
    touching = [_short(c) for c in f.commits if any(p.startswith("include/uapi/")
                                                    for p in c.files)]
    if touching:
        verb = "changes" if len(touching) == 1 else "change"
        return Check("uapi", WARN, f"{_n(len(touching), 'commit')} {verb} include/uapi/ (say "
                     "so in the tag message): " + _listed(touching))
    return Check("uapi", PASS, "no include/uapi/ changes")


def check_merge_window(f: PullFacts) -> Check:
    c = f.cycle
    if c is None:
        return Check("merge_window", PASS, "not checked: no mainline tags in the tree")
    if c.merge_window_open:
        if c.window_week == 2:
            return Check("merge_window", WARN, f"week 2 of the merge window after "
                         f"{c.release}: Linus wants pull requests in week 1 or before")
        return Check("merge_window", PASS, f"the merge window after {c.release} is open")
    nxt = f", next expected {c.next_merge_window}" if c.next_merge_window else ""
    return Check("merge_window", PASS, f"before the merge window ({c.latest_tag}{nxt})")


CHECKS: tuple[Callable[[PullFacts], Check], ...] = (
    check_tag_signed, check_tag_verified, check_tag_pushed, check_base, check_series,
    check_signed_off, check_fixes, check_outside_files, check_linux_next, check_late_rebase,
    check_uapi, check_merge_window,
)


def readiness(f: PullFacts) -> tuple[Check, ...]:
    """Every check, in a fixed order."""
    return tuple(check(f) for check in CHECKS)


def fixes_hashes(commits: Sequence[CommitInfo]) -> set[str]:
    """The well-formed Fixes: hashes, for the shell to look up in the tree."""
    return {v.split()[0] for c in commits for v in c.trailer_values("Fixes")
            if FIXES_FORMAT.match(v)}
