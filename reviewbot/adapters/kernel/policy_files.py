"""Read policies/ from disk and keep the last good set when an edit breaks it.

The daemon calls `PolicyStore.load()` at start (a PolicyError means: refuse
to start) and `reload_if_changed()` on an interval or SIGHUP. Validation is
the pure `core.policy_schema`; this module only reads files.
"""

from __future__ import annotations

import hashlib
import logging
from dataclasses import dataclass
from pathlib import Path

from reviewbot.core.policy.model import PolicySet
from reviewbot.core.policy.schema import PolicyError, PolicyIssue, check_policy_files

log = logging.getLogger(__name__)


def configured_dir(table: object, base: Path) -> Path | None:
    """The settings file's `[policy]` table -> its `dir` (relative to the settings file).

    Raises ValueError on unknown keys or a non-string dir.
    """
    if table is None:
        return None
    if not isinstance(table, dict):
        raise ValueError("[policy] must be a table")
    unknown = sorted(set(table) - {"dir"})
    if unknown:
        raise ValueError(f"[policy]: unknown key(s) {', '.join(unknown)} (known: dir)")
    directory = table.get("dir")
    if directory is None:
        return None
    if not isinstance(directory, str) or not directory:
        raise ValueError(f"[policy] dir must be a path string, not {directory!r}")
    return base / Path(directory).expanduser()


def policy_paths(path: Path) -> list[Path]:
    """A file is itself; a directory holds *.toml files (sorted)."""
    if path.is_dir():
        return sorted(p for p in path.glob("*.toml") if p.is_file())
    return [path]


def read_policy_files(path: Path) -> tuple[dict[str, str], list[PolicyIssue]]:
    """path -> {file name: text}, with unreadable files reported as issues."""
    if not path.exists():
        return {}, [PolicyIssue(str(path), 0, "no such file or directory")]
    files: dict[str, str] = {}
    issues: list[PolicyIssue] = []
    for file in policy_paths(path):
        try:
            files[str(file)] = file.read_text(encoding="utf-8")
        except (OSError, UnicodeDecodeError) as exc:
            issues.append(PolicyIssue(str(file), 0, f"cannot read: {exc}"))
    if not files and not issues:
        issues.append(PolicyIssue(str(path), 0, "no *.toml policy files"))
    return files, issues


def load_policies(path: Path) -> PolicySet:
    """Read and validate; raise PolicyError listing every problem."""
    files, issues = read_policy_files(path)
    policies, per_file = check_policy_files(files)
    issues.extend(i for f in sorted(per_file) for i in per_file[f])
    if issues or policies is None:
        raise PolicyError(tuple(issues))
    return policies


@dataclass(frozen=True, slots=True)
class ReloadResult:
    changed: bool  # the files differ from the last attempt
    applied: bool  # a new set is in force
    issues: tuple[PolicyIssue, ...] = ()

    @property
    def message(self) -> str:
        if not self.changed:
            return "policies unchanged"
        if self.applied:
            return "policies reloaded"
        return "policy edit refused, keeping the last good set: " + "; ".join(map(str, self.issues))


class PolicyStore:
    """The policies in force, reloaded when the files change."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self._current: PolicySet | None = None
        self._fingerprint: str | None = None
        self.last_error: tuple[PolicyIssue, ...] = ()  # why the latest edit was refused

    @property
    def current(self) -> PolicySet:
        if self._current is None:
            raise RuntimeError("PolicyStore.load() has not succeeded yet")
        return self._current

    @staticmethod
    def _fingerprint_of(files: dict[str, str], issues: list[PolicyIssue]) -> str:
        digest = hashlib.sha256()
        for name in sorted(files):
            digest.update(name.encode() + b"\0" + files[name].encode() + b"\0")
        digest.update(repr(issues).encode())  # a file becoming unreadable is a change too
        return digest.hexdigest()

    def _check(self) -> tuple[str, PolicySet | None, tuple[PolicyIssue, ...]]:
        files, read_issues = read_policy_files(self.path)
        policies, per_file = check_policy_files(files)
        issues = (*read_issues, *(i for f in sorted(per_file) for i in per_file[f]))
        return self._fingerprint_of(files, read_issues), policies, issues

    def load(self) -> PolicySet:
        """First load: raise PolicyError when invalid, so the daemon refuses to start."""
        fingerprint, policies, issues = self._check()
        if issues or policies is None:
            raise PolicyError(issues)
        self._current, self._fingerprint, self.last_error = policies, fingerprint, ()
        return policies

    def reload_if_changed(self) -> ReloadResult:
        fingerprint, policies, issues = self._check()
        if fingerprint == self._fingerprint:
            return ReloadResult(changed=False, applied=False, issues=self.last_error)
        self._fingerprint = fingerprint
        if issues or policies is None:
            self.last_error = issues
            result = ReloadResult(changed=True, applied=False, issues=issues)
            log.warning("%s", result.message)
            return result
        self._current = policies
        self.last_error = ()
        log.info("policies reloaded from %s", self.path)
        return ReloadResult(changed=True, applied=True)
