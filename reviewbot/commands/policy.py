"""`reviewbot policy check [PATH]`: validate policy files, print OK or errors per file.

PATH is a file or a directory of *.toml files; by default $REVIEWBOT_POLICIES,
else `[policy] dir` of the settings file, else the policies shipped with reviewbot.
Exit 1 when anything is wrong.
"""

from __future__ import annotations

import argparse
import os
import sys
from pathlib import Path

from reviewbot import config
from reviewbot.adapters.kernel.policy_files import read_policy_files
from reviewbot.core.policy.schema import check_policy_files
from reviewbot.wiring import policy_dir

EXIT_OK = 0
EXIT_INVALID = 1


def default_policy_path(cli_config: str | None) -> Path:
    """$REVIEWBOT_POLICIES, else the settings' [policy] dir, else the shipped policies."""
    found = policy_dir(config.load(cli_config, os.environ), os.environ)
    if found is None:
        raise ValueError("no policies to check: the installation lacks its shipped policies "
                         "(reinstall reviewbot), or give PATH")
    return found


def _check(args: argparse.Namespace) -> int:
    try:
        path: Path = args.path or default_policy_path(getattr(args, "config", None))
    except ValueError as exc:  # ConfigError is a ValueError
        print(f"reviewbot: error: {exc}", file=sys.stderr)
        return EXIT_INVALID
    files, read_issues = read_policy_files(path)
    _, per_file = check_policy_files(files)
    bad = bool(read_issues)
    for issue in read_issues:
        print(issue)
    for file in sorted(per_file):
        issues = per_file[file]
        if not issues:
            print(f"{file}: OK")
        for issue in issues:
            bad = True
            print(issue)
    return EXIT_INVALID if bad else EXIT_OK


def register(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    p = sub.add_parser("policy", help="per-subsystem policies (SLAs, reminders, reviewers): check "
                       "them")
    actions = p.add_subparsers(dest="policy_command", metavar="ACTION", required=True)
    check = actions.add_parser("check", help="validate policy files (exit 1 on error)")
    check.add_argument("path", nargs="?", type=Path,
                       help="a policy file or directory "
                       "(default: $REVIEWBOT_POLICIES, [policy] dir, the shipped policies)")
    check.set_defaults(func=_check)
