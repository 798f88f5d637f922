"""Where reviewbot keeps its things on this machine, by the XDG and systemd conventions.

- State (the SQLite database): $STATE_DIRECTORY (systemd's StateDirectory=), else
  $XDG_STATE_HOME/reviewbot, else ~/.local/state/reviewbot. Never the working
  directory: a command run inside a kernel tree must not leave a database there.
- Settings: $CONFIGURATION_DIRECTORY/config.toml (systemd), then
  $XDG_CONFIG_HOME/reviewbot/config.toml (default ~/.config), then
  /etc/reviewbot/config.toml; --config and $REVIEWBOT_CONFIG come before all of them.
- User-level basics from git config, as b4 keeps its own (`reviewbot.database`,
  `reviewbot.maintainers`), and `user.email` for "who acts".
- What ships inside the package: the default policies (importlib.resources).

Standard library only: config.py, the composition root and the CLI all ask here.
"""

from __future__ import annotations

import importlib.resources
import shutil
import subprocess
from collections.abc import Mapping
from pathlib import Path

DATABASE_FILE = "reviewbot.db"
GIT_TIMEOUT = 5.0  # seconds; `git config` answers in milliseconds, a hung git must not hang us


def _home(env: Mapping[str, str]) -> Path | None:
    if env.get("HOME"):
        return Path(env["HOME"])
    try:
        return Path.home()
    except (RuntimeError, KeyError):  # no HOME and no passwd entry
        return None


def _xdg(env: Mapping[str, str], var: str, default: str) -> Path | None:
    """$XDG_<var> when it is an absolute path (the spec says ignore relative ones)."""
    value = env.get(var, "")
    if value and Path(value).is_absolute():
        return Path(value)
    home = _home(env)
    return home / default if home is not None else None


def state_dir(env: Mapping[str, str]) -> Path:
    """$STATE_DIRECTORY (its first entry), else $XDG_STATE_HOME/reviewbot,
    else ~/.local/state/reviewbot."""
    if d := env.get("STATE_DIRECTORY"):
        return Path(d.split(":")[0])
    base = _xdg(env, "XDG_STATE_HOME", ".local/state")
    if base is None:
        raise RuntimeError("no $STATE_DIRECTORY, $XDG_STATE_HOME or home directory to keep "
                           "the database in: give --db URL or set $REVIEWBOT_DATABASE_URL")
    return base / "reviewbot"


def default_database(env: Mapping[str, str]) -> str:
    """The SQLite URL of the database in the state directory."""
    return f"sqlite:///{state_dir(env) / DATABASE_FILE}"


def config_candidates(env: Mapping[str, str], etc: Path = Path("/etc/reviewbot")) -> list[Path]:
    """Settings files to look for when none is named, first match wins."""
    found = []
    if d := env.get("CONFIGURATION_DIRECTORY"):
        found.append(Path(d.split(":")[0]) / "config.toml")
    if (xdg := _xdg(env, "XDG_CONFIG_HOME", ".config")) is not None:
        found.append(xdg / "reviewbot" / "config.toml")
    found.append(etc / "config.toml")
    return found


def git_config(key: str, env: Mapping[str, str]) -> str | None:
    """`git config --get KEY` in the working directory (so a repository's own config
    counts, as for b4), with `env` as git's environment; None when unset or no git."""
    git = shutil.which("git", path=env.get("PATH"))
    if git is None:
        return None
    try:
        proc = subprocess.run([git, "config", "--get", key], capture_output=True, text=True,
                              env=dict(env), timeout=GIT_TIMEOUT, check=False)
    except (OSError, subprocess.TimeoutExpired):
        return None
    value = proc.stdout.strip()
    return value if proc.returncode == 0 and value else None


def database_url(value: str) -> str:
    """A git-config `reviewbot.database`: a URL, or a plain path to an SQLite file."""
    if "://" in value:
        return value
    return f"sqlite:///{Path(value).expanduser().resolve()}"


def packaged_policies() -> Path | None:
    """The policies shipped with reviewbot (reviewbot/policies), None if missing."""
    path = importlib.resources.files("reviewbot") / "policies"
    return path if isinstance(path, Path) and (path / "default.toml").is_file() else None
