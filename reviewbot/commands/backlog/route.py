"""`reviewbot route [--maintainers PATH] PATCHFILE... [--json | --format=...]`.

The MAINTAINERS sections a patch (or a series: several files) touches, with their
maintainers, reviewers, lists, trees and status, and the section expected to take it.
`--format=get_maintainer` prints what `scripts/get_maintainer.pl --no-git
--no-git-fallback --no-rolestats` prints. MAINTAINERS comes from --maintainers, else
the settings' `maintainers`, else $REVIEWBOT_MAINTAINERS: a file, a kernel tree, or a
kernel git repository (with --ref).
"""

from __future__ import annotations

import argparse
import json
import os
import sys
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from reviewbot.adapters.kernel.maintainers_file import LoadedMaintainers, MaintainersSource
from reviewbot.core.maintainers.patchscan import scan_patch
from reviewbot.core.maintainers.recipients import get_maintainer_lines
from reviewbot.core.maintainers.routing import RouteResult, Taker, expected_taker, route_scans
from reviewbot.core.maintainers.sections import MaintainersError, Section

ENV = "REVIEWBOT_MAINTAINERS"


class RouteError(Exception):
    pass


def maintainers_location(args: argparse.Namespace, env: Mapping[str, str]) -> str:
    if args.maintainers:
        return str(args.maintainers)
    try:
        from reviewbot import config

        settings = config.load(getattr(args, "config", None), env)
        configured = getattr(settings, "maintainers", None)
        if configured:
            return str(configured)
    except (ImportError, ValueError) as err:  # config.ConfigError is a ValueError
        raise RouteError(str(err)) from err
    if env.get(ENV):
        return env[ENV]
    raise RouteError("no MAINTAINERS: pass --maintainers PATH (a MAINTAINERS file, a kernel "
                     f"tree or a kernel git repository) or set ${ENV}")


def _read_patch(name: str) -> str:
    try:
        data = sys.stdin.buffer.read() if name == "-" else Path(name).read_bytes()
    except OSError as err:
        raise RouteError(f"{name}: {err.strerror}") from err
    # get_maintainer.pl reads patches as UTF-8 too.
    return data.decode("utf-8", errors="replace")


def _section_json(s: Section) -> dict[str, Any]:
    return {
        "name": s.name, "status": s.status, "maintainers": list(s.maintainers),
        "reviewers": list(s.reviewers), "lists": list(s.lists), "trees": list(s.trees),
        "patchwork": list(s.patchwork), "web": list(s.values("W")),
        "bugs": list(s.values("B")), "chat": list(s.values("C")),
        "profile": list(s.values("P")), "catch_all": s.is_catch_all, "line": s.line,
    }


def _as_json(result: RouteResult, taker: Taker, lines: list[str], origin: str
             ) -> dict[str, Any]:
    return {
        "maintainers_file": origin,
        "files": list(result.files),
        "unowned_files": list(result.unowned),
        "expected_taker": {
            "section": taker.section.name if taker.section else None,
            "trees": list(taker.trees),
            "votes": [{"section": n, "files": v} for n, v in taker.votes],
        },
        "sections": [{**_section_json(m.section), "depth": m.depth, "files": list(m.files),
                      "keyword": m.keyword} for m in result.matches],
        "get_maintainer": lines,
    }


def _print_text(result: RouteResult, taker: Taker) -> None:
    print(f"files: {len(result.files)}")
    if result.unowned:
        print(f"unowned (only THE REST): {', '.join(result.unowned)}")
    if taker.section:
        votes = ", ".join(f"{n} {v}" for n, v in taker.votes)
        print(f"expected to take: {taker.section.name} (votes: {votes})")
        for t in taker.trees:
            print(f"  tree: {t}")
    else:
        print("expected to take: nobody (no subsystem owns these files)")
    for m in result.matches:
        s = m.section
        why = f"depth {m.depth}" + (", keyword" if m.keyword else "")
        print(f"\n{s.name}  [{why}]" + ("  (catch-all, not a subsystem)" if s.is_catch_all else ""))
        if s.status:
            print(f"  status: {s.status}")
        for letter, label in (("M", "maintainer"), ("R", "reviewer"), ("L", "list"),
                              ("T", "tree"), ("Q", "patchwork")):
            for v in s.values(letter):
                print(f"  {label}: {v}")
        if m.files:
            print(f"  files: {', '.join(m.files)}")


def _run(args: argparse.Namespace) -> int:
    try:
        where = maintainers_location(args, os.environ)
        source = MaintainersSource.from_path(where, ref=args.ref, mailmap=args.mailmap)
        loaded: LoadedMaintainers = source.load()
        texts = [_read_patch(p) for p in args.patchfiles]
    except (RouteError, MaintainersError) as err:
        print(f"reviewbot route: error: {err}", file=sys.stderr)
        return 1
    scans = [scan_patch(t) for t in texts]
    if not any(s.files for s in scans):
        names = ", ".join(args.patchfiles)
        print(f"reviewbot route: error: no file names found: {names} "
              f"{'does' if len(args.patchfiles) == 1 else 'do'} not look like a patch (no "
              "diff); give patches (diffs or mails with a diff)", file=sys.stderr)
        return 1
    for name, scan in zip(args.patchfiles, scans, strict=True):
        if not scan.files:
            print(f"reviewbot route: warning: {name} does not look like a patch (no diff)",
                  file=sys.stderr)
    result = route_scans(loaded.index, [f for s in scans for f in s.files], scans)
    lines = get_maintainer_lines(result, loaded.mailmap, loaded.file_emails(result.files))
    fmt = "json" if args.json else args.format
    if fmt == "get_maintainer":
        for line in lines:
            print(line)
    else:
        taker = expected_taker(loaded.index, result)
        if fmt == "json":
            print(json.dumps(_as_json(result, taker, lines, loaded.origin), indent=2,
                             ensure_ascii=False))
        else:
            _print_text(result, taker)
    return 0


def register(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    p = sub.add_parser("route", help="the subsystems, maintainers and lists of a patch or "
                       "series (MAINTAINERS, as get_maintainer.pl)")
    p.add_argument("patchfiles", nargs="+", metavar="PATCHFILE",
                   help="patch or mail files (several = one series); - for stdin")
    p.add_argument("--maintainers", metavar="PATH",
                   help=f"MAINTAINERS file, kernel tree or kernel git repository (default: "
                   f"the settings' `maintainers`, else ${ENV})")
    p.add_argument("--ref", default="HEAD", help="commit to read from a git repository "
                   "(default: HEAD)")
    p.add_argument("--mailmap", metavar="FILE", help=".mailmap to canonicalise addresses "
                   "(default: the tree's, if --maintainers is a tree or repository)")
    p.add_argument("--format", choices=("text", "json", "get_maintainer"), default="text",
                   help="text (default), json, or get_maintainer: the lines "
                   "scripts/get_maintainer.pl prints")
    p.add_argument("--json", action="store_true", help="same as --format=json")
    p.set_defaults(func=_run)
