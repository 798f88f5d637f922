"""Settings: parsed once from TOML into frozen objects; unknown keys are errors.

Lookup (first match wins): --config, $REVIEWBOT_CONFIG,
$CONFIGURATION_DIRECTORY/config.toml, /etc/reviewbot/config.toml,
$XDG_CONFIG_HOME/reviewbot/config.toml; none found means defaults.
Database: --db, then $REVIEWBOT_DATABASE_URL, then `database` in the file,
then sqlite:///reviewbot.db in the working directory.

Trees for applied detection: each `[[trees]]` entry names a `url` (cloned
bare into the cache, see tree_cache_dir) or a local `path`, the `branches`
whose commits count as applied, and optionally the `subsystem` (policy name)
and its own `interval`. `reviewbot trees poll` and the daemon also watch the
`[tree]` of every policy in `[policy] dir`, when that is set and the policy
names a url and branches; a `[[trees]]` entry for the same url wins.

Mail: `[mail]` names the bot's `from`, the `smtp` URL (see
core.notify.smtpurl), the `lore` base for links and what to do with a mail
caught in the crash window (`in_doubt`). The SMTP password is never in this
file: $REVIEWBOT_SMTP_PASSWORD, else `password_file`, else the systemd
credential `smtp-password` ($CREDENTIALS_DIRECTORY).
"""

from __future__ import annotations

import tomllib
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any

from reviewbot.config_web import ChatSettings, HttpSettings, MetricsSettings, parse_web
from reviewbot.core.notify.message import DEFAULT_LORE, address_of, domain_of
from reviewbot.core.notify.outbox import DEFAULT_MAX_ATTEMPTS, InDoubt, RetryPolicy
from reviewbot.core.notify.smtpurl import SmtpTarget, parse_smtp_url
from reviewbot.core.policy.schema import _line_index, _line_of  # tomllib has no positions

DEFAULT_DATABASE_URL = "sqlite:///reviewbot.db"
# A lore source's first poll fetches this much history: a polite start on a big
# list (the whole history is one `--since` away).
DEFAULT_LORE_BACKFILL = timedelta(days=30)
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
    # lore only: where a first poll (no cursor yet) starts; None = DEFAULT_LORE_BACKFILL ago
    since: datetime | None = None

    @property
    def kind(self) -> str:
        return "epoch" if self.epochs else "lore" if self.lore else "mbox"


@dataclass(frozen=True, slots=True)
class TreeSettings:
    source: str  # URL, or an absolute local path
    branches: tuple[str, ...]
    subsystem: str | None = None
    interval: float | None = None  # None: the settings' poll_interval


@dataclass(frozen=True, slots=True)
class MailSettings:
    """`[mail]`: how reviewbot sends mail and reads email commands."""

    sender: str  # `from`: "reviewbot <bot@example.org>"; its domain makes our Message-IDs
    smtp: SmtpTarget | None = None  # None: mail is queued (and dry runs work) but not sent
    password_file: Path | None = None
    lore: str = DEFAULT_LORE  # a series links as <lore>/r/<message-id>
    in_doubt: InDoubt = InDoubt.RESEND  # a mail found mid-send after a crash
    max_attempts: int = DEFAULT_MAX_ATTEMPTS  # temporary failures before "failed"
    # Email commands: the authserv-id of a local relay whose Authentication-Results
    # (dkim=pass) is trusted instead of verifying DKIM here. None: verify here.
    trusted_relay: str | None = None
    commands_maildir: Path | None = None  # a maildir the daemon reads commands from

    @property
    def address(self) -> str:
        return address_of(self.sender)

    def retry_policy(self) -> RetryPolicy:
        return RetryPolicy(in_doubt=self.in_doubt, max_attempts=self.max_attempts)

    def password(self, env: Mapping[str, str]) -> str | None:
        """$REVIEWBOT_SMTP_PASSWORD, else password_file, else $CREDENTIALS_DIRECTORY/
        smtp-password; None when there is none. ConfigError if a named file is unreadable."""
        if env.get("REVIEWBOT_SMTP_PASSWORD"):
            return env["REVIEWBOT_SMTP_PASSWORD"]
        path = self.password_file
        if path is None and env.get("CREDENTIALS_DIRECTORY"):
            cred = Path(env["CREDENTIALS_DIRECTORY"]) / "smtp-password"
            path = cred if cred.is_file() else None
        if path is None:
            return None
        try:
            return path.read_text(encoding="utf-8").rstrip("\r\n")
        except (OSError, UnicodeDecodeError) as exc:
            raise ConfigError(f"[mail] password_file {path}: {exc}") from exc


@dataclass(frozen=True, slots=True)
class Settings:
    database_url: str | None = None  # from the file; see database() for the effective URL
    # how raw mail that is not kept by reference (epochs) is stored: "zlib" or "identity"
    raw_codec: str = "zlib"
    poll_interval: float = DEFAULT_POLL_INTERVAL
    sources: tuple[SourceSettings, ...] = ()
    path: Path | None = None  # the file these came from
    extra: Mapping[str, Any] = field(default_factory=dict)  # tables owned by other parts
    trees: tuple[TreeSettings, ...] = ()
    maintainers: Path | None = None  # a MAINTAINERS file, a kernel tree or a kernel git repo
    mailmap: Path | None = None  # a .mailmap (default: the kernel tree's, when it has one)
    mail: MailSettings | None = None  # [mail]; None: no mail is built or sent
    me: str | None = None  # the user's address (`queue --mine`); None: git's user.email
    # the HTTP surface (issue 10): see the end of this module
    http: HttpSettings = field(default_factory=lambda: HttpSettings())
    chat: ChatSettings | None = None  # [chat]; None: no chat endpoints
    metrics: MetricsSettings = field(default_factory=lambda: MetricsSettings())

    def database(self, cli_db: str | None, env: Mapping[str, str]) -> str:
        return (cli_db or env.get("REVIEWBOT_DATABASE_URL") or self.database_url
                or DEFAULT_DATABASE_URL)


# Top-level tables other parts of reviewbot own and validate themselves.
DELEGATED_TABLES = frozenset({"policy", "gitlab", "daemon"})
_WEB_TABLES = frozenset({"http", "chat", "metrics"})  # parsed by _web_settings
_TOP_KEYS = (frozenset({"database", "raw_codec", "poll_interval", "sources", "trees",
                        "maintainers", "mailmap", "mail", "me"})
             | DELEGATED_TABLES | _WEB_TABLES)
RAW_CODECS = ("identity", "zlib")
_SOURCE_KEYS = frozenset({"list", "epochs", "lore", "mbox", "since"})
_TREE_KEYS = frozenset({"url", "path", "branches", "subsystem", "interval"})
_MAIL_KEYS = frozenset({"from", "smtp", "password_file", "lore", "in_doubt", "max_attempts",
                        "trusted_relay", "commands_maildir"})


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
        text = path.read_text(encoding="utf-8")
        data = tomllib.loads(text)
    except (OSError, UnicodeDecodeError, tomllib.TOMLDecodeError) as exc:
        raise ConfigError(f"{path}: {exc}") from exc
    return parse(data, path, text)


def parse(data: Mapping[str, Any], path: Path, text: str | None = None) -> Settings:
    """Validated settings; `text` (the file's) lets [mail] errors name their line."""
    def fail(reason: str) -> ConfigError:
        return ConfigError(f"{path}: {reason}")

    unknown = sorted(set(data) - _TOP_KEYS)
    if unknown:
        raise fail(f"unknown key(s) {', '.join(unknown)} (known: {', '.join(sorted(_TOP_KEYS))})")
    db = data.get("database")
    if db is not None and (not isinstance(db, str) or not db):
        raise fail("database must be a non-empty URL string")
    codec = data.get("raw_codec", "zlib")
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
    raw_trees = data.get("trees", [])
    if not isinstance(raw_trees, list):
        raise fail("trees must be an array of tables ([[trees]])")
    trees = tuple(_tree(t, i, path.parent, fail) for i, t in enumerate(raw_trees, 1))
    extra = {k: v for k, v in data.items() if k in DELEGATED_TABLES}
    paths = {}
    for key in ("maintainers", "mailmap"):  # relative to the settings file, like sources
        value = data.get(key)
        if value is not None and (not isinstance(value, str) or not value):
            raise fail(f"{key} must be a path string, not {value!r}")
        paths[key] = path.parent / Path(value).expanduser() if value else None
    mail = _mail(data["mail"], path, text) if "mail" in data else None
    me = data.get("me")
    if me is not None and (not isinstance(me, str) or not domain_of(me)):
        raise fail(f"me must be your address, e.g. \"leon@kernel.org\", not {me!r}")
    web = _web_settings(data, path, text)
    return Settings(db, codec, float(interval), sources, path, extra, trees,
                    maintainers=paths["maintainers"], mailmap=paths["mailmap"], mail=mail,
                    me=address_of(me).lower() if me else None, **web)


def _tree(t: Any, n: int, base: Path, fail: Any) -> TreeSettings:
    where = f"[[trees]] #{n}"
    if not isinstance(t, dict):
        raise fail(f"{where} must be a table")
    unknown = sorted(set(t) - _TREE_KEYS)
    if unknown:
        raise fail(f"{where}: unknown key(s) {', '.join(unknown)} "
                   f"(known: {', '.join(sorted(_TREE_KEYS))})")
    if ("url" in t) == ("path" in t):
        raise fail(f"{where}: give exactly one of url, path")
    value = t.get("url", t.get("path"))
    if not isinstance(value, str) or not value:
        raise fail(f"{where}: {'url' if 'url' in t else 'path'} must be a non-empty string")
    source = value if "url" in t else str((base / Path(value).expanduser()).resolve())
    branches = t.get("branches")
    if (not isinstance(branches, list) or not branches
            or not all(isinstance(b, str) and b for b in branches)):
        raise fail(f"{where} ({value}): branches must be a non-empty list of branch names")
    subsystem = t.get("subsystem")
    if subsystem is not None and (not isinstance(subsystem, str) or not subsystem):
        raise fail(f"{where} ({value}): subsystem must be a policy name")
    every = t.get("interval")
    if every is not None and (isinstance(every, bool) or not isinstance(every, int | float)
                              or every <= 0):
        raise fail(f"{where} ({value}): interval must be a positive number of seconds")
    return TreeSettings(source, tuple(branches), subsystem,
                        float(every) if every is not None else None)


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
    if "since" in s and "lore" not in s:
        raise fail(f"{where} ({name}): since applies to lore sources only")
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
        since = s.get("since")
        if since is not None:
            since = _aware_date(since)
            if since is None:
                raise fail(f"{where} ({name}): since must be a TOML date or date-time, "
                           f"not {s['since']!r}")
        return SourceSettings(name, lore=url.rstrip("/"), since=since)
    mbox = s["mbox"]
    if not isinstance(mbox, str) or not mbox:
        raise fail(f"{where} ({name}): mbox must be a path")
    return SourceSettings(name, mbox=base / Path(mbox).expanduser())


def _aware_date(value: Any) -> datetime | None:
    """A TOML date (midnight UTC) or date-time (UTC when it has no offset)."""
    if isinstance(value, datetime):
        return value if value.tzinfo else value.replace(tzinfo=UTC)
    if isinstance(value, date):
        return datetime(value.year, value.month, value.day, tzinfo=UTC)
    return None


def _mail(m: Any, path: Path, text: str | None) -> MailSettings:
    """`[mail]`, every error as `file:line: [mail] reason`."""
    index = _line_index(text) if text is not None else {}

    def fail(key: str | None, reason: str) -> ConfigError:
        line = _line_of(index, ("mail", key) if key else ("mail",)) if index else None
        return ConfigError(f"{path}{f':{line}' if line else ''}: [mail] {reason}")

    if not isinstance(m, dict):
        raise fail(None, "mail must be a table ([mail])")
    if "password" in m:
        raise fail("password", "no password in the settings file: use "
                               "$REVIEWBOT_SMTP_PASSWORD or password_file")
    unknown = sorted(set(m) - _MAIL_KEYS)
    if unknown:
        raise fail(unknown[0], f"unknown key(s) {', '.join(unknown)} "
                               f"(known: {', '.join(sorted(_MAIL_KEYS))})")
    sender = m.get("from")
    if not isinstance(sender, str) or not domain_of(sender):
        raise fail("from" if "from" in m else None,
                   "from must be the bot's address, e.g. 'reviewbot <bot@example.org>', "
                   f"not {sender!r}")
    smtp = None
    if "smtp" in m:
        if not isinstance(m["smtp"], str):
            raise fail("smtp", f"smtp must be a URL string, not {m['smtp']!r}")
        try:
            smtp = parse_smtp_url(m["smtp"])
        except ValueError as exc:
            raise fail("smtp", str(exc)) from None
    lore = m.get("lore", DEFAULT_LORE)
    if not isinstance(lore, str) or not lore.startswith(("http://", "https://")):
        raise fail("lore", f"lore must be an http(s) URL, not {lore!r}")
    in_doubt = m.get("in_doubt", InDoubt.RESEND.value)
    if in_doubt not in {d.value for d in InDoubt}:
        raise fail("in_doubt", f"in_doubt must be 'resend' or 'hold', not {in_doubt!r}")
    attempts = m.get("max_attempts", DEFAULT_MAX_ATTEMPTS)
    if isinstance(attempts, bool) or not isinstance(attempts, int) or attempts < 1:
        raise fail("max_attempts", f"max_attempts must be a positive integer, not {attempts!r}")
    relay = m.get("trusted_relay")
    if relay is not None and (not isinstance(relay, str) or not relay.strip()
                              or any(c.isspace() or c == ";" for c in relay.strip())):
        raise fail("trusted_relay", "trusted_relay must be the relay's authserv-id (the "
                                    "first word of its Authentication-Results header)")
    files = {}
    for key in ("password_file", "commands_maildir"):
        value = m.get(key)
        if value is not None and (not isinstance(value, str) or not value):
            raise fail(key, f"{key} must be a path string, not {value!r}")
        files[key] = path.parent / Path(value).expanduser() if value else None
    return MailSettings(sender.strip(), smtp, lore=lore.rstrip("/"),
                        in_doubt=InDoubt(in_doubt), max_attempts=attempts,
                        trusted_relay=relay.strip() if relay else None, **files)


def _web_settings(data: Mapping[str, Any], path: Path, text: str | None) -> dict[str, Any]:
    """`[http]`, `[chat]`, `[metrics]` (reviewbot.config_web), errors as `file:line: ...`."""
    index = _line_index(text) if text is not None else {}

    def fail(keys: tuple[str, ...], reason: str) -> ConfigError:
        line = _line_of(index, keys) if index else None
        return ConfigError(f"{path}{f':{line}' if line else ''}: [{keys[0]}] {reason}")

    return parse_web(data, path.parent, fail)
