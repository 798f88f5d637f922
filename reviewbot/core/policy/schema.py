"""Policy TOML text -> validated, frozen `Policy` objects. Pure: text in, objects out.

Every file is validated on its own (unknown tables and keys, wrong types, bad
durations, unknown time zones are refused with file, line and reason), then a
subsystem file is laid over default.toml key by key, and default.toml over the
built-in defaults of `core.policy`. policies/README.md documents the schema.
"""

from __future__ import annotations

import re
import tomllib
from collections.abc import Callable, Mapping
from dataclasses import dataclass, replace
from pathlib import PurePath
from typing import Any

from reviewbot.core.policy import values as pv
from reviewbot.core.policy.model import (
    DEFAULT_NAME,
    Absence,
    DateRange,
    Digest,
    Escalation,
    Ignore,
    NagPolicy,
    Policy,
    PolicySet,
    Pull,
    PullTransport,
    Quiet,
    Report,
    Reviewers,
    Sla,
    Tree,
    address,
)
from reviewbot.core.policy.tomllines import line_index, line_of


@dataclass(frozen=True, slots=True)
class PolicyIssue:
    file: str
    line: int
    reason: str

    def __str__(self) -> str:
        # Line 0: the problem is the file itself (missing, unreadable).
        where = f"{self.file}:{self.line}" if self.line else self.file
        return f"{where}: {self.reason}"


class PolicyError(ValueError):
    """One or more policy files are invalid; `issues` says where and why."""

    def __init__(self, issues: tuple[PolicyIssue, ...]) -> None:
        super().__init__("\n".join(str(i) for i in issues))
        self.issues = issues


# ---- the schema ------------------------------------------------------------------

PERIOD_KEYS: dict[str, pv.Parser] = {"from": pv.day, "until": pv.day, "reason": pv.string}
ABSENCE_KEYS: dict[str, pv.Parser] = {
    "who": pv.string, "from": pv.day, "until": pv.day, "reason": pv.string}

SCHEMA: dict[str, dict[str, pv.Parser]] = {
    "subsystem": {"sections": pv.strings, "lists": pv.addresses, "time_zone": pv.time_zone},
    "tree": {"url": pv.string, "branches": pv.strings, "appliers": pv.addresses},
    "sla": {"first_review": pv.parse_duration, "followup_review": pv.parse_duration,
            "apply": pv.parse_duration, "stale_after": pv.parse_duration,
            "expire_after": pv.parse_duration},
    "nag": {"enabled": pv.boolean, "first_after": pv.parse_duration, "cadence": pv.parse_duration,
            "per_reviewer_series_week": pv.count, "per_reviewer_week": pv.count,
            "global_daily": pv.count, "opt_in": pv.recipients},
    "escalation": {"after_nags": pv.count, "after": pv.duration_or_never, "to": pv.recipients},
    "quiet": {"merge_window": pv.boolean},
    "reviewers": {"strategy": pv.strategy, "pool": pv.addresses, "per_series": pv.positive,
                  "include_maintainers": pv.boolean},
    "digest": {"recipients": pv.recipients, "days": pv.weekdays, "at": pv.local_time},
    "ignore": {"bots": pv.boolean, "autosel": pv.boolean, "stable_review": pv.boolean,
               "rfc": pv.boolean, "senders": pv.strings},
    "pull": {"name": pv.string, "url": pv.string, "subject_template": pv.subject_template,
             "fixes_subject_template": pv.subject_template, "fixes_tags": pv.strings,
             "branch": pv.string, "to": pv.mailboxes, "cc": pv.mailboxes_or_lists,
             "greeting": pv.string, "upstream_ref": pv.string, "linux_next_ref": pv.string,
             "late_rebase": pv.parse_duration, "transport": pv.transport,
             "gitlab_url": pv.http_url, "gitlab_project": pv.string,
             "source_project": pv.string, "source_branch": pv.string,
             "target_branch": pv.string, "labels": pv.strings},
    "report": {"mail": pv.boolean, "to": pv.recipients, "top": pv.positive,
               "domains": pv.domain_map},
}
# Arrays of tables: [[quiet.period]] and [[reviewers.absence]].
TABLE_ARRAYS: dict[tuple[str, str], dict[str, pv.Parser]] = {
    ("quiet", "period"): PERIOD_KEYS,
    ("reviewers", "absence"): ABSENCE_KEYS,
}

Partial = dict[str, dict[str, Any]]  # table -> key -> parsed value; only keys the file sets


# ---- line numbers: reviewbot.core.policy.tomllines --------------------------------


# ---- one file --------------------------------------------------------------------


def parse_policy_text(text: str, file: str) -> tuple[Partial, list[PolicyIssue]]:
    """Validate one file. Returns the keys it sets (parsed) and every problem found."""
    try:
        data = tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        found = re.search(r"line (\d+)", str(exc))
        line = int(found.group(1)) if found else 1
        return {}, [PolicyIssue(file, line, f"not valid TOML: {exc}")]
    index = line_index(text)
    issues: list[PolicyIssue] = []
    partial: Partial = {}

    def issue(path: tuple[str, ...], reason: str) -> None:
        issues.append(PolicyIssue(file, line_of(index, path), reason))

    for table, body in data.items():
        keys = SCHEMA.get(table)
        if keys is None:
            what = f"unknown table [{table}]" if isinstance(body, dict) else (
                f"unknown key {table!r}: settings belong in tables")
            issue((table,), f"{what} (known: {', '.join(SCHEMA)})")
            continue
        if not isinstance(body, dict):
            issue((table,), f"{table} must be a table ([{table}])")
            continue
        out = partial.setdefault(table, {})
        for key, value in body.items():
            path = (table, key)
            if (table, key) in TABLE_ARRAYS:
                out[key] = _parse_table_array(table, key, value, issue)
            elif key not in keys:
                known = ", ".join([*keys, *(k for t, k in TABLE_ARRAYS if t == table)])
                issue(path, f"unknown key {key!r} in [{table}] (known: {known})")
            else:
                try:
                    out[key] = keys[key](value)
                except ValueError as exc:
                    issue(path, f"{table}.{key}: {exc}")
    return partial, issues


def _parse_table_array(
    table: str, key: str, value: Any, issue: Callable[[tuple[str, ...], str], None]
) -> tuple[Any, ...]:
    spec = TABLE_ARRAYS[(table, key)]
    if not isinstance(value, list) or not all(isinstance(v, dict) for v in value):
        issue((table, key), f"{table}.{key} must be written as [[{table}.{key}]] tables")
        return ()
    items: list[Absence | DateRange] = []
    for n, entry in enumerate(value):
        where = (table, f"{key}#{n}")
        parsed: dict[str, Any] = {}
        for k, v in entry.items():
            if k not in spec:
                known = ", ".join(spec)
                issue((*where, k), f"unknown key {k!r} in [[{table}.{key}]] (known: {known})")
                continue
            try:
                parsed[k] = spec[k](v)
            except ValueError as exc:
                issue((*where, k), f"{table}.{key}.{k}: {exc}")
        missing = [k for k in ("from", "until", "who") if k in spec and k not in entry]
        if missing:
            issue(where, f"[[{table}.{key}]] needs {', '.join(missing)}")
            continue
        if len(parsed) != len(entry):
            continue  # already reported
        if parsed["until"] < parsed["from"]:
            issue((*where, "until"),
                  f"{table}.{key}: until {parsed['until']} is before from {parsed['from']}")
            continue
        days = DateRange(parsed["from"], parsed["until"], parsed.get("reason", ""))
        if "who" in spec:
            who = address(parsed["who"])
            if "@" not in who:
                issue((*where, "who"), f"{table}.{key}.who: {parsed['who']!r} is not an address")
                continue
            items.append(Absence(who, days))
        else:
            items.append(days)
    return tuple(items)


# ---- building and sets ---------------------------------------------------------------

_FIELD = {"period": "periods", "absence": "absences"}


def build_policy(name: str, *layers: Partial) -> Policy:
    """Lay validated partials over the built-in defaults, later layers winning key by key."""
    merged: Partial = {}
    for layer in layers:
        for table, values in layer.items():
            merged.setdefault(table, {}).update(values)

    def part(table: str, base: Any) -> Any:
        values = {_FIELD.get(k, k): v for k, v in merged.get(table, {}).items()}
        return replace(base, **values)

    escalation: Escalation = part("escalation", Escalation())
    if escalation.after_nags == 0:  # 0 reads as "never by count"
        escalation = replace(escalation, after_nags=None)
    sub = merged.get("subsystem", {})
    return Policy(
        name=name,
        sections=sub.get("sections", ()),
        lists=sub.get("lists", ()),
        time_zone=sub.get("time_zone", "UTC"),
        sla=part("sla", Sla()),
        nag=part("nag", NagPolicy()),
        escalation=escalation,
        quiet=part("quiet", Quiet()),
        reviewers=part("reviewers", Reviewers()),
        digest=part("digest", Digest()),
        ignore=part("ignore", Ignore()),
        tree=part("tree", Tree()),
        pull=part("pull", Pull()),
        report=part("report", Report()),
    )


def check_policy_files(
    files: Mapping[str, str],
) -> tuple[PolicySet | None, dict[str, list[PolicyIssue]]]:
    """Validate a set of files (path -> text). The file whose stem is "default" is the default.

    Returns the PolicySet (None if any file has an issue) and the issues per file.
    """
    parsed: dict[str, Partial] = {}
    issues: dict[str, list[PolicyIssue]] = {}
    for file in sorted(files):
        partial, found = parse_policy_text(files[file], file)
        parsed[file] = partial
        issues[file] = found
    default_file = next((f for f in sorted(files) if PurePath(f).stem == DEFAULT_NAME), None)
    claimed: dict[str, str] = {}
    for file, partial in parsed.items():
        sub = partial.get("subsystem", {})
        index = line_index(files[file])
        line = line_of(index, ("subsystem",))
        if file == default_file:
            for key in ("sections", "lists"):
                if key in sub:
                    issues[file].append(PolicyIssue(
                        file, line_of(index, ("subsystem", key)),
                        f"subsystem.{key}: the default applies to every subsystem; "
                        "match sections and lists in a subsystem file"))
            continue
        if not sub.get("sections") and not sub.get("lists") and not issues[file]:
            issues[file].append(PolicyIssue(
                file, line, "a subsystem policy needs [subsystem] sections or lists to match"))
        for name in (*(s.casefold() for s in sub.get("sections", ())), *sub.get("lists", ())):
            if name in claimed:
                issues[file].append(
                    PolicyIssue(file, line, f"{name!r} is already matched by {claimed[name]}"))
            claimed[name] = file
    if any(issues.values()):
        return None, issues
    base = parsed[default_file] if default_file else {}
    default = build_policy(DEFAULT_NAME, base)
    subsystems = tuple(
        build_policy(PurePath(f).stem, base, parsed[f]) for f in sorted(parsed) if f != default_file
    )
    for file, policy in zip([f for f in sorted(parsed) if f != default_file], subsystems,
                            strict=True):
        missing = _gitlab_missing(policy)
        if missing:
            issues[file].append(PolicyIssue(
                file, line_of(line_index(files[file]), ("pull", "transport")),
                f"pull.transport gitlab-mr needs pull.{', pull.'.join(missing)}"))
    if any(issues.values()):
        return None, issues
    return PolicySet(default, subsystems), issues


def _gitlab_missing(policy: Policy) -> list[str]:
    p = policy.pull
    if p.transport is not PullTransport.GITLAB_MR:
        return []
    return [k for k in ("gitlab_url", "gitlab_project", "source_branch", "target_branch")
            if getattr(p, k) is None]


def load_policy_set(files: Mapping[str, str]) -> PolicySet:
    """Like check_policy_files, but raise PolicyError listing every issue."""
    policies, issues = check_policy_files(files)
    if policies is None:
        raise PolicyError(tuple(i for file in sorted(issues) for i in issues[file]))
    return policies
