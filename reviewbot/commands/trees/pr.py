"""`reviewbot pr prepare|send|list|track`: merge-window pull requests, checked, drafted, sent.

`prepare` writes the pull request for a subsystem tree's signed tag (subject
and recipients from the policy's [pull], a summary of the tracked series by
topic, then `git request-pull` output byte for byte), runs the readiness
checks and stores a draft; it exits 1 when a check failed. Nothing is sent
until `pr send <id>`: by mail (a file in a spool directory, for `git send-email`,
until the outbox is wired in), or as a GitLab merge request when the policy
says `transport = "gitlab-mr"`. `track` marks sent pull requests merged when
pr-tracker-bot answered them or their tip is in the upstream branch.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
from collections.abc import Mapping
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from reviewbot import __version__
from reviewbot.adapters.forge.gitlab import ForgeError, GitLabMergeRequests
from reviewbot.adapters.git.mainline import LocalMainlineTags
from reviewbot.adapters.git.pullrepo import GitPullTree
from reviewbot.adapters.git.tree import GitTreeError
from reviewbot.adapters.kernel.maintainers_file import MaintainersSource
from reviewbot.adapters.kernel.policy_files import load_policies
from reviewbot.adapters.spool.files import SpoolDir
from reviewbot.adapters.sql.series.lookup import SqlSeriesLookup
from reviewbot.adapters.sql.trees.pulls import SqlPulls
from reviewbot.commands.db import CommandError, open_app, run_guarded, settings
from reviewbot.commands.timeargs import now_or, parse_when
from reviewbot.core.maintainers.routing import RoutingIndex
from reviewbot.core.maintainers.sections import MaintainersError
from reviewbot.core.policy.model import Policy, PolicySet
from reviewbot.core.policy.schema import PolicyError
from reviewbot.core.pulls.cycle import Cycle, NoMainlineTags, cycle_from_tags
from reviewbot.core.pulls.model import CheckResult, MergeRequestInfo, StoredDraft
from reviewbot.core.pulls.summary import draft_email
from reviewbot.service.trees import pulls as service
from reviewbot.wiring import App, policy_dir

X_MAILER = f"reviewbot/{__version__}"
TOKEN_ENV = "REVIEWBOT_GITLAB_TOKEN"


# -- shared with `debt` ---------------------------------------------------------------

def subsystem_policy(args: argparse.Namespace, name: str | None) -> Policy:
    """The policy named NAME (file stem), or matching it as a section or list."""
    try:
        directory = policy_dir(settings(args), os.environ)
        policies = load_policies(directory) if directory else PolicySet(Policy())
    except (ValueError, PolicyError) as exc:
        raise CommandError(f"policies: {exc}") from exc
    if name is None:
        return policies.default
    return policies.by_name(name) or policies.for_subsystem(name, (name,))


def maintainers_index(args: argparse.Namespace) -> RoutingIndex | None:
    conf = settings(args)
    where = conf.maintainers or os.environ.get("REVIEWBOT_MAINTAINERS")
    if not where:
        return None
    try:
        return MaintainersSource.from_path(where, mailmap=conf.mailmap).load().index
    except MaintainersError as exc:
        raise CommandError(f"MAINTAINERS: {exc}") from exc


def open_tree(path: str | None) -> GitPullTree:
    try:
        return GitPullTree(str(Path(path or ".").resolve()))
    except GitTreeError as exc:
        raise CommandError(str(exc)) from exc


def tree_cycle(tree: GitPullTree, now: datetime) -> Cycle | None:
    """The cycle from the tree's own mainline tags; None when it has none."""
    try:
        return cycle_from_tags(LocalMainlineTags(tree.path).tags(), now)
    except NoMainlineTags:
        return None


def gitlab_forge(url: str) -> GitLabMergeRequests:
    token = None
    creds = os.environ.get("CREDENTIALS_DIRECTORY")
    if creds and (Path(creds) / "gitlab-token").is_file():
        token = (Path(creds) / "gitlab-token").read_text().strip()
    token = token or os.environ.get(TOKEN_ENV) or None
    return GitLabMergeRequests(url, token, user_agent=X_MAILER)


# -- prepare ----------------------------------------------------------------------------

_MARK = {CheckResult.PASS: "pass", CheckResult.WARN: "warn", CheckResult.FAIL: "FAIL"}


def _mr_lines(mrs: list[MergeRequestInfo]) -> list[str]:
    out = []
    for mr in mrs:
        pipes = ", ".join(f"#{p.id} {p.status}" for p in mr.pipelines) or "no pipeline"
        ok = ("approved" if mr.approved else f"{mr.approvals_left} approvals left"
              if mr.approvals_left is not None else "approvals unknown")
        who = f" by {', '.join(mr.approved_by)}" if mr.approved_by else ""
        out.append(f"  !{mr.iid} {mr.title} ({mr.state}) {mr.web_url}: {pipes}; {ok}{who}")
    return out


def draft_json(s: StoredDraft) -> dict[str, Any]:
    d = s.draft
    return {
        "id": s.id, "status": s.status.value, "subsystem": d.subsystem, "tree": d.tree,
        "tag": d.tag, "base": d.base, "base_commit": d.base_commit, "tip": d.tip,
        "url": d.url, "transport": d.transport, "subject": d.subject, "from": d.sender,
        "to": list(d.to), "cc": list(d.cc), "created": d.created.isoformat(),
        "checks": [c.to_json() for c in d.checks],
        "email": draft_email(d, x_mailer=X_MAILER),
        "summary": d.summary, "request_pull": d.request_pull,
        "sent_at": s.sent_at.isoformat() if s.sent_at else None, "sent_ref": s.sent_ref,
        "merged_at": s.merged_at.isoformat() if s.merged_at else None,
        "merged_evidence": s.merged_evidence,
        "gitlab": None if d.gitlab is None else {
            "url": d.gitlab.url, "project": d.gitlab.project,
            "source_branch": d.gitlab.source_branch, "target_branch": d.gitlab.target_branch,
            "labels": list(d.gitlab.labels)},
    }


def lookup(app: App) -> SqlSeriesLookup:
    """Tracked series as pull requests and the debt report read them."""
    return SqlSeriesLookup(app.engine, app.raw_reader())


def _prepare(args: argparse.Namespace) -> int:
    now = now_or(args.as_of)
    policy = subsystem_policy(args, args.subsystem)
    tree = open_tree(args.tree)
    store = open_app(args)
    pulls = SqlPulls(store.engine)
    try:
        prepared = service.prepare(
            tree, lookup(store), pulls, policy=policy, name=args.subsystem,
            now=now, tag=args.tag, base=args.base, cycle=tree_cycle(tree, now),
            maintainers=maintainers_index(args))
    except service.PullError as exc:
        raise CommandError(str(exc)) from exc
    except GitTreeError as exc:
        raise CommandError(f"git: {exc}") from exc
    stored = pulls.draft(prepared.id)
    assert stored is not None
    d = stored.draft
    mrs: list[MergeRequestInfo] = []
    if d.gitlab is not None:
        try:
            mrs = asyncio.run(service.existing_merge_requests(gitlab_forge(d.gitlab.url), d))
        except ForgeError as exc:
            raise CommandError(str(exc)) from exc
    if args.json:
        data = draft_json(stored)
        if d.gitlab is not None:
            data["gitlab"]["existing"] = [mr.to_json() for mr in mrs]
        print(json.dumps(data, indent=2, ensure_ascii=False))
    else:
        print(f"draft {prepared.id}: {d.subject}")
        print(f"  {d.tag} ({d.tip[:12]}) on {d.base}: {len(prepared.commits)} commits")
        print("checks:")
        for c in d.checks:
            print(f"  {_MARK[c.result]:4}  {c.name:13} {c.reason}")
        if d.gitlab is not None:
            print(f"GitLab {d.gitlab.project}: {d.gitlab.source_branch} -> "
                  f"{d.gitlab.target_branch}, {len(mrs)} open merge request(s)")
            print("\n".join(_mr_lines(mrs)))
        how = "open the merge request" if d.gitlab else "send it"
        print("\nfix the failed checks and prepare again" if d.failed
              else f"\n{how} with: reviewbot pr send {prepared.id}")
        print("\n" + draft_email(d, x_mailer=X_MAILER))
    return 1 if d.failed else 0


# -- send, list, track -------------------------------------------------------------------

def default_spool(env: Mapping[str, str]) -> Path:
    """$STATE_DIRECTORY/outbox (systemd), else $XDG_STATE_HOME/reviewbot/outbox."""
    if d := env.get("STATE_DIRECTORY"):
        return Path(d.split(":")[0]) / "outbox"
    base = Path(env["XDG_STATE_HOME"]) if env.get("XDG_STATE_HOME") else \
        Path.home() / ".local" / "state"
    return base / "reviewbot" / "outbox"


def _send(args: argparse.Namespace) -> int:
    store = open_app(args)
    pulls = SqlPulls(store.engine)
    now = datetime.now(UTC)
    stored = pulls.draft(args.id)
    try:
        if stored is not None and stored.draft.gitlab is not None:
            mr = asyncio.run(service.open_merge_request(
                pulls, gitlab_forge(stored.draft.gitlab.url), args.id, now))
            print(f"draft {args.id}: opened merge request !{mr.iid} {mr.web_url}")
            return 0
        spool = SpoolDir(Path(args.outbox) if args.outbox else default_spool(os.environ),
                         x_mailer=X_MAILER, now=lambda: datetime.now(UTC))
        mid = service.send_email(pulls, spool, args.id, now)
    except (service.PullError, ForgeError) as exc:
        raise CommandError(str(exc)) from exc
    path = spool.path_for(service.mail_key(args.id))
    print(f"draft {args.id}: queued <{mid}> as {path} (send it with `git send-email {path}` "
          "or your mail client)")
    return 0


def _list(args: argparse.Namespace) -> int:
    pulls = SqlPulls(open_app(args, catch_up=False).engine)
    drafts = pulls.drafts()
    if args.json:
        print(json.dumps([draft_json(s) for s in drafts], indent=2, ensure_ascii=False))
        return 0
    for s in drafts:
        fails = sum(c.result is CheckResult.FAIL for c in s.draft.checks)
        extra = s.merged_evidence or s.sent_ref or (f"{fails} failed checks" if fails else "")
        print(f"{s.id:4} {s.status.value:6} {s.draft.created:%Y-%m-%d} {s.draft.subject}"
              + (f"  [{extra}]" if extra else ""))
    return 0


def _track(args: argparse.Namespace) -> int:
    store = open_app(args)
    tree = open_tree(args.tree) if args.tree else None
    try:
        done = service.track(SqlPulls(store.engine), lookup(store),
                             datetime.now(UTC), tree, args.upstream_ref)
    except GitTreeError as exc:
        raise CommandError(f"git: {exc}") from exc
    for s, merged in done:
        print(f"draft {s.id} ({s.draft.tag}) merged: {merged.evidence}")
    if not done:
        print("no sent pull request was merged since the last look")
    return 0


def register(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    p = sub.add_parser("pr", help="merge-window pull requests: prepare, check, send, track",
                       description=__doc__)
    actions = p.add_subparsers(dest="pr_command", metavar="ACTION", required=True)
    prep = actions.add_parser("prepare", help="check the tree and draft its pull request")
    prep.add_argument("--subsystem", required=True, metavar="NAME",
                      help="a policy name, or a MAINTAINERS section or list it matches")
    prep.add_argument("--tree", metavar="PATH", help="the repository (default: .)")
    prep.add_argument("--tag", help="the signed tag (default: the newest non-mainline tag)")
    prep.add_argument("--base", metavar="REF", help="where the changes start (default: the "
                      "merge-base with [pull] upstream_ref, else the newest mainline tag)")
    prep.add_argument("--as-of", type=parse_when, metavar="DATETIME",
                      help="check as of then: the cycle, late rebases (default: now)")
    prep.add_argument("--json", action="store_true", help="machine-readable output")
    prep.set_defaults(func=run_guarded(_prepare))
    send = actions.add_parser("send", help="send a prepared pull request (the confirmation)")
    send.add_argument("id", type=int, help="the draft's id (pr prepare, pr list)")
    send.add_argument("--outbox", metavar="DIR", help="write the mail into this directory "
                      "(default: $STATE_DIRECTORY/outbox, else $XDG_STATE_HOME/reviewbot/outbox)")
    send.set_defaults(func=run_guarded(_send))
    ls = actions.add_parser("list", help="drafts, sent and merged pull requests")
    ls.add_argument("--json", action="store_true", help="machine-readable output")
    ls.set_defaults(func=run_guarded(_list))
    tr = actions.add_parser("track", help="mark sent pull requests that upstream merged")
    tr.add_argument("--tree", metavar="PATH", help="a repository holding the upstream branch")
    tr.add_argument("--upstream-ref", metavar="REF", default="origin/master",
                    help="the upstream branch in --tree (default origin/master)")
    tr.set_defaults(func=run_guarded(_track))
