"""Settings: parsed once from TOML into frozen objects; unknown keys are errors.

Lookup (first match wins): --config, $REVIEWBOT_CONFIG,
$CONFIGURATION_DIRECTORY/config.toml, /etc/reviewbot/config.toml,
$XDG_CONFIG_HOME/reviewbot/config.toml; none found means defaults.
Database: --db, then $REVIEWBOT_DATABASE_URL, then `database` in the file,
then sqlite:///reviewbot.db in the working directory.
"""

from __future__ import annotations

import tomllib
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

DEFAULT_DATABASE_URL = "sqlite:///reviewbot.db"
DEFAULT_POLL_INTERVAL = 300.0  # seconds; conventions.md §4: at least 300 s per lore list
MIN_LORE_POLL_INTERVAL = 300.0


class ConfigError(ValueError):
    """A settings file that cannot be used; the message names the file and the reason."""


@dataclass(frozen=True, slots=True)
class SourceSettings:
    list_name: str
    epochs: tuple[Path, ...] = ()
    lore: str | None = None
    mbox: Path | None = None

    @property
    def kind(self) -> str:
        return "epoch" if self.epochs else "lore" if self.lore else "mbox"


@dataclass(frozen=True, slots=True)
class Settings:
    database_url: str | None = None  # from the file; see database() for the effective URL
    raw_codec: str = "identity"  # how new raw mail is stored: "identity" or "zlib" (half the disk)
    poll_interval: float = DEFAULT_POLL_INTERVAL
    sources: tuple[SourceSettings, ...] = ()
    path: Path | None = None  # the file these came from
    extra: Mapping[str, Any] = field(default_factory=dict)  # tables owned by other parts

    def database(self, cli_db: str | None, env: Mapping[str, str]) -> str:
        return (cli_db or env.get("REVIEWBOT_DATABASE_URL") or self.database_url
                or DEFAULT_DATABASE_URL)


# Top-level tables other parts of reviewbot own and validate themselves.
DELEGATED_TABLES = frozenset({"policy", "mail", "chat", "metrics", "gitlab", "daemon"})
_TOP_KEYS = frozenset({"database", "raw_codec", "poll_interval", "sources"}) | DELEGATED_TABLES
RAW_CODECS = ("identity", "zlib")
_SOURCE_KEYS = frozenset({"list", "epochs", "lore", "mbox"})


def find_config(cli_path: str | None, env: Mapping[str, str],
                etc: Path = Path("/etc/reviewbot")) -> Path | None:
    """The settings file to read, or None; an explicitly named file must exist."""
    explicit = cli_path or env.get("REVIEWBOT_CONFIG")
    if explicit:
        path = Path(explicit)
        if not path.is_file():
            raise ConfigError(f"{path}: no such settings file")
        return path
    candidates = []
    if d := env.get("CONFIGURATION_DIRECTORY"):
        candidates.append(Path(d) / "config.toml")
    candidates.append(etc / "config.toml")
    if d := env.get("XDG_CONFIG_HOME"):
        candidates.append(Path(d) / "reviewbot" / "config.toml")
    return next((c for c in candidates if c.is_file()), None)


def load(cli_path: str | None, env: Mapping[str, str]) -> Settings:
    path = find_config(cli_path, env)
    if path is None:
        return Settings()
    try:
        data = tomllib.loads(path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, tomllib.TOMLDecodeError) as exc:
        raise ConfigError(f"{path}: {exc}") from exc
    return parse(data, path)


def parse(data: Mapping[str, Any], path: Path) -> Settings:
    def fail(reason: str) -> ConfigError:
        return ConfigError(f"{path}: {reason}")

    unknown = sorted(set(data) - _TOP_KEYS)
    if unknown:
        raise fail(f"unknown key(s) {', '.join(unknown)} (known: {', '.join(sorted(_TOP_KEYS))})")
    db = data.get("database")
    if db is not None and (not isinstance(db, str) or not db):
        raise fail("database must be a non-empty URL string")
    codec = data.get("raw_codec", "identity")
    if codec not in RAW_CODECS:
        raise fail(f"raw_codec must be one of {', '.join(RAW_CODECS)}, not {codec!r}")
    interval = data.get("poll_interval", DEFAULT_POLL_INTERVAL)
    if isinstance(interval, bool) or not isinstance(interval, int | float) or interval <= 0:
        raise fail(f"poll_interval must be a positive number of seconds, not {interval!r}")
    raw_sources = data.get("sources", [])
    if not isinstance(raw_sources, list):
        raise fail("sources must be an array of tables ([[sources]])")
    sources = tuple(_source(s, i, path.parent, fail) for i, s in enumerate(raw_sources, 1))
    if any(s.lore for s in sources) and interval < MIN_LORE_POLL_INTERVAL:
        raise fail(f"poll_interval {interval} s is below {MIN_LORE_POLL_INTERVAL:.0f} s, "
                   "the polite minimum for lore.kernel.org")
    extra = {k: v for k, v in data.items() if k in DELEGATED_TABLES}
    return Settings(db, codec, float(interval), sources, path, extra)


def _source(s: Any, n: int, base: Path, fail: Any) -> SourceSettings:
    where = f"[[sources]] #{n}"
    if not isinstance(s, dict):
        raise fail(f"{where} must be a table")
    unknown = sorted(set(s) - _SOURCE_KEYS)
    if unknown:
        raise fail(f"{where}: unknown key(s) {', '.join(unknown)} "
                   f"(known: {', '.join(sorted(_SOURCE_KEYS))})")
    name = s.get("list")
    if not isinstance(name, str) or not name:
        raise fail(f"{where}: `list` (the list's name, e.g. \"linux-rdma\") is required")
    kinds = [k for k in ("epochs", "lore", "mbox") if k in s]
    if len(kinds) != 1:
        raise fail(f"{where} ({name}): give exactly one of epochs, lore, mbox")
    if "epochs" in s:
        epochs = s["epochs"]
        if (not isinstance(epochs, list) or not epochs
                or not all(isinstance(e, str) and e for e in epochs)):
            raise fail(f"{where} ({name}): epochs must be a non-empty list of paths")
        return SourceSettings(name, epochs=tuple(base / Path(e).expanduser() for e in epochs))
    if "lore" in s:
        url = s["lore"]
        if not isinstance(url, str) or not url.startswith(("http://", "https://")):
            raise fail(f"{where} ({name}): lore must be an http(s) URL, not {url!r}")
        return SourceSettings(name, lore=url.rstrip("/"))
    mbox = s["mbox"]
    if not isinstance(mbox, str) or not mbox:
        raise fail(f"{where} ({name}): mbox must be a path")
    return SourceSettings(name, mbox=base / Path(mbox).expanduser())
