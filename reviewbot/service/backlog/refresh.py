"""Refresh: reassemble the dirty thread components, route their series, store their standing.

Ingest only links new mail into thread components (core.series.closure) and
marks what it touched dirty. A refresh then takes dirty components in chunks of
a bounded number of messages, assembles each chunk (components are closed under
every assembly rule, so this equals assembling everything), routes each series
(reusing the stored routing while its file set and MAINTAINERS are unchanged),
replays its events into a Standing, and stores the lot. A component a
concurrent batch changed meanwhile is left dirty for the next round.

`build` is the pure heart, shared with the equivalence tests: the same function
over all live messages in one go is the full pass incremental results must equal.
"""

from __future__ import annotations

import hashlib
import logging
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass

from reviewbot.core.backlog.entitled import appliers_for
from reviewbot.core.backlog.events import (
    OlderRevision,
    PatchCommit,
    SeriesEvent,
    carried_events,
    history_events,
    merge_events,
    older_revisions,
)
from reviewbot.core.backlog.replay import replay
from reviewbot.core.backlog.standing import Standing, standing
from reviewbot.core.maintainers.people import (
    aliases_from_uses,
    aliases_version,
    name_key,
    person_uses,
)
from reviewbot.core.maintainers.subsystems import SeriesRouting, route_files
from reviewbot.core.model import Message, MessageId, Series, SeriesId
from reviewbot.core.policy.model import Policy, address, ignore_reason
from reviewbot.core.series.assemble import Assembly, assemble
from reviewbot.ports import ComponentResult, DirtyComponent, SeriesRecord, SeriesStore
from reviewbot.service.backlog.context import BacklogContext

log = logging.getLogger(__name__)

MAX_MESSAGES = 5_000  # per chunk: bounds a refresh's memory (~30 MB) whatever the archive's size
_NO_PROGRESS_ROUNDS = 3  # a hot component rewritten under us this often waits for next time


@dataclass(frozen=True, slots=True)
class RefreshReport:
    components: int = 0  # components written
    series: int = 0  # series stored for them
    messages: int = 0  # messages assembled
    left_dirty: int = 0  # components a concurrent batch changed meanwhile
    context_changed: bool = False  # MAINTAINERS, policies or mailmap changed: all redone
    aliases_changed: int = 0  # addresses whose person changed

    def summary(self) -> str:
        extra = ", context changed" if self.context_changed else ""
        return (f"refreshed {self.components} components ({self.series} series, "
                f"{self.messages} messages){extra}")


def files_hash(files: Iterable[str]) -> str:
    return hashlib.sha1("\n".join(sorted(set(files))).encode(),
                        usedforsecurity=False).hexdigest()


def series_files(s: Series) -> tuple[str, ...]:
    return tuple(sorted({f for p in s.patches for f in p.files}))


def current_aliases(store: SeriesStore, ctx: BacklogContext) -> tuple[dict[str, str], int]:
    """The alias map for the stored people and this context; stores it if it changed.

    Components whose series name an address whose person changed become dirty.
    Returns (aliases, addresses changed).
    """
    version = aliases_version(store.people_version(), ctx.stamp)
    stored_version, stored = store.aliases()
    if stored_version == version:
        return stored, 0
    uses, listed = store.people()
    aliases = compute_aliases(uses, listed, ctx)
    changed = {a for a in {*stored, *aliases} if stored.get(a) != aliases.get(a)}
    store.save_aliases(version, aliases, changed, aliases_digest(aliases))
    return aliases, len(changed)


def aliases_digest(aliases: Mapping[str, str]) -> str:
    """Names an alias map by its content: results computed with one map are stored only
    while it is still the stored one (several processes may refresh at once)."""
    text = "\n".join(f"{a} {c}" for a, c in sorted(aliases.items()))
    return hashlib.sha1(text.encode(), usedforsecurity=False).hexdigest()


def compute_aliases(uses: Mapping[tuple[str, str], int], listed: Iterable[str],
                    ctx: BacklogContext) -> dict[str, str]:
    """address -> canonical address: the mailmap, then people who sign with one name
    (MAINTAINERS' addresses win as canonical)."""
    counted = dict(uses)
    listed = list(listed)
    for entry in listed:  # a MAINTAINERS entry names its person once
        key = name_key(entry.split("<")[0])
        if key is not None and "@" in address(entry):
            counted[(key, address(entry))] = counted.get((key, address(entry)), 0) + 1
    return aliases_from_uses(counted, preferred={address(e) for e in listed},
                             base=ctx.mailmap_aliases())


def full_pass(messages: Sequence[Message], ctx: BacklogContext,
              actions: Mapping[SeriesId, Sequence[SeriesEvent]] | None = None,
              commits: Iterable[PatchCommit] = ()) -> list[SeriesRecord]:
    """Everything from scratch in one go: what incremental refreshes must equal."""
    listed = [e for s in (ctx.maintainers.index().sections if ctx.maintainers else ())
              for e in (*s.maintainers, *s.reviewers)]
    aliases = compute_aliases(person_uses(messages), listed, ctx)
    return build(assemble(messages), messages, ctx, aliases, actions or {}, commits, {})


def refresh(store: SeriesStore, ctx: BacklogContext, *,
            max_messages: int = MAX_MESSAGES) -> RefreshReport:
    """Bring every stored series up to date with its component, the context and the facts."""
    context_changed = store.context_stamp() != ctx.stamp
    if context_changed:
        sections = ctx.maintainers.index().sections if ctx.maintainers is not None else ()
        marked = store.save_context(ctx.stamp, sections)
        log.info("MAINTAINERS, policies or mailmap changed: recomputing %d components", marked)
    aliases, changed = current_aliases(store, ctx)
    done = series = messages = 0
    idle = 0
    dirty = store.dirty_components(max_messages)
    while dirty:
        by_comp = store.component_messages([d.comp for d in dirty])
        old_ids = store.component_series_ids([d.comp for d in dirty])
        results, rekey = _compute(store, ctx, aliases, dirty, by_comp, old_ids)
        written = store.save_components(results, rekey, aliases_digest(aliases))
        if not written:  # maybe who is who changed meanwhile: take the new map
            aliases, more = current_aliases(store, ctx)
            changed += more
        done += len(written)
        series += sum(len(r.series) for r in results if r.comp in written)
        messages += sum(len(by_comp.get(c, ())) for c in written)
        idle = 0 if written else idle + 1
        if idle >= _NO_PROGRESS_ROUNDS:
            break
        dirty = store.dirty_components(max_messages)
    left = len(store.dirty_components(max_messages)) if idle else 0
    return RefreshReport(done, series, messages, left, context_changed, changed)


def _compute(
    store: SeriesStore, ctx: BacklogContext, aliases: Mapping[str, str],
    dirty: Sequence[DirtyComponent], by_comp: Mapping[int, list[Message]],
    old_ids: Sequence[SeriesId],
) -> tuple[list[ComponentResult], dict[SeriesId, SeriesId]]:
    messages = [m for ms in by_comp.values() for m in ms]
    comp_of = {m.message_id: c for c, ms in by_comp.items() for m in ms}
    assembly = assemble(messages)
    new_ids = {s.series_id for s in assembly.series}
    # A series reassembled under another root (its cover letter arrived) keeps the
    # claims and overrides people recorded on its old id.
    rekey = {old: assembly.series_of[MessageId(old)] for old in old_ids
             if old not in new_ids and MessageId(old) in assembly.series_of}
    actions: dict[SeriesId, list[SeriesEvent]] = {}
    for sid, events in store.actions(sorted({*new_ids, *rekey})).items():
        actions.setdefault(rekey.get(sid, sid), []).extend(events)
    postings = sorted({p.message_id for s in assembly.series for p in s.patches})
    cached = store.stored_routes(sorted(new_ids))
    reusable = [sid for sid, s in ((s.series_id, s) for s in assembly.series)
                if cached.get(sid) == (files_hash(series_files(s)), ctx.route_stamp)]
    records = build(assembly, messages, ctx, aliases, actions, store.commits(postings),
                    store.routing(reusable) if reusable else {})
    per_comp: dict[int, list[SeriesRecord]] = {d.comp: [] for d in dirty}
    for record in records:
        per_comp[comp_of[MessageId(record.series.series_id)]].append(record)
    gens = {d.comp: d.gen for d in dirty}
    return [ComponentResult(c, gens[c], tuple(rs)) for c, rs in per_comp.items()], rekey


def build(
    assembly: Assembly,
    messages: Sequence[Message],
    ctx: BacklogContext,
    aliases: Mapping[str, str],
    actions: Mapping[SeriesId, Sequence[SeriesEvent]],
    commits: Iterable[PatchCommit],
    routings: Mapping[SeriesId, SeriesRouting],
) -> list[SeriesRecord]:
    """Each assembled series with its routing, policy and standing. Pure but for `ctx`'s
    MAINTAINERS, loaded on the first series whose routing is not in `routings`."""
    members: dict[SeriesId, list[Message]] = {}
    by_id = {m.message_id: m for m in messages}
    for mid, sid in assembly.series_of.items():
        if mid in by_id:
            members.setdefault(sid, []).append(by_id[mid])
    by_sid = {s.series_id: s for s in assembly.series}
    by_posting: dict[MessageId, list[PatchCommit]] = {}
    for c in commits:
        by_posting.setdefault(c.message_id, []).append(c)
    # Each series' own history first: a later revision is handed what its older ones
    # applied and were reviewed with (core.backlog.events.carried_events).
    own: dict[SeriesId, tuple[SeriesRouting, Policy, list[SeriesEvent]]] = {}
    for s in assembly.series:
        routing = routings.get(s.series_id)
        if routing is None:
            routing = (route_files(ctx.maintainers.index(), series_files(s))
                       if ctx.maintainers is not None else SeriesRouting((), ()))
        policy = ctx.policy_for(routing)
        newer = by_sid.get(s.superseded_by) if s.superseded_by else None
        own[s.series_id] = (routing, policy, history_events(
            s, members.get(s.series_id, ()), newer=newer,
            commits=(c for p in s.patches for c in by_posting.get(p.message_id, ())),
            actions=actions.get(s.series_id, ()),
            appliers=appliers_for(routing, policy, aliases)))
    out: list[SeriesRecord] = []
    for s in assembly.series:
        files = series_files(s)
        routing, policy, events = own[s.series_id]
        older = [OlderRevision(by_sid[o], tuple(own[o][2]),
                               frozenset(m.message_id for m in members.get(o, ())))
                 for o in older_revisions(s) if o in by_sid]
        if older:
            mine = {m.message_id for m in members.get(s.series_id, ())}
            events = merge_events(events, carried_events(s, mine, older))
        taker = routing.taker
        m_entries = taker.maintainers if taker else ()
        r_entries = taker.reviewers if taker else ()
        kept: Standing | None
        try:
            kept = standing(replay(events, policy, maintainers=m_entries, reviewers=r_entries,
                                   aliases=aliases))
        except ValueError as exc:
            log.warning("series <%s>: cannot derive its state: %s", s.series_id, exc)
            kept = None
        actors = {e.actor for e in events} | {e.target for e in events}
        actors |= {address(e) for e in (*m_entries, *r_entries)}
        out.append(SeriesRecord(
            series=s, routing=routing, files_hash=files_hash(files),
            route_stamp=ctx.route_stamp, policy=policy.name,
            ignored=ignore_reason(policy, s), standing=kept,
            actors=tuple(sorted(a for a in actors if a))))
    return out
