"""Settings: parsed once from TOML into frozen objects; unknown keys are errors.

Every table is validated: an unknown table or key, or a bad value, is refused
with `file:line: reason`. Lookup (first match wins): --config, $REVIEWBOT_CONFIG,
$CONFIGURATION_DIRECTORY/config.toml (systemd), $XDG_CONFIG_HOME/reviewbot/config.toml
(default ~/.config), /etc/reviewbot/config.toml; none found means defaults.
Database: --db, then $REVIEWBOT_DATABASE_URL, then `database` in the file, then
git config `reviewbot.database`, then reviewbot.db in the state directory
($STATE_DIRECTORY under systemd, else $XDG_STATE_HOME/reviewbot, default
~/.local/state/reviewbot; see locations.py). MAINTAINERS: `maintainers` in the
file, then $REVIEWBOT_MAINTAINERS, then git config `reviewbot.maintainers`.

`[daemon]` tunes `reviewbot run` and `reviewbot health` (DaemonSettings).

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

import re
import tomllib
from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any

from reviewbot.config_web import ChatSettings, HttpSettings, MetricsSettings, parse_web
from reviewbot.core.notify.addresses import DEFAULT_LORE, address_of, domain_of
from reviewbot.core.notify.outbox import DEFAULT_MAX_ATTEMPTS, InDoubt, RetryPolicy
from reviewbot.core.notify.smtpurl import SmtpTarget, parse_smtp_url
from reviewbot.core.policy.tomllines import line_index, line_of
from reviewbot.locations import config_candidates, database_url, default_database, git_config

# A lore source's first poll fetches this much history: a polite start on a big
# list (the whole history is one `--since` away).
DEFAULT_LORE_BACKFILL = timedelta(days=30)
DEFAULT_POLL_INTERVAL = 300.0  # seconds; conventions.md §4: at least 300 s per lore list
MIN_LORE_POLL_INTERVAL = 300.0
DEFAULT_STOP_TIMEOUT = 10.0  # seconds an in-flight poll may take to finish after SIGTERM
DEFAULT_HEALTH_MISSED_POLLS = 3


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
class DaemonSettings:
    """`[daemon]`: how `reviewbot run` stops and when `reviewbot health` complains."""

    # After SIGTERM, an in-flight poll may finish its batch for this long; then the
    # daemon exits anyway (the unfinished batch is rolled back and read again next time).
    stop_timeout: float = DEFAULT_STOP_TIMEOUT
    # `health` fails when a source's last successful poll is older than this many of
    # its poll intervals (a slow first ingest counts as polling: every batch stored does).
    health_missed_polls: int = DEFAULT_HEALTH_MISSED_POLLS


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
    daemon: DaemonSettings = field(default_factory=DaemonSettings)
    maintainers: Path | None = None  # a MAINTAINERS file, a kernel tree or a kernel git repo
    mailmap: Path | None = None  # a .mailmap (default: the kernel tree's, when it has one)
    mail: MailSettings | None = None  # [mail]; None: no mail is built or sent
    me: str | None = None  # the user's address (`queue --mine`); None: git's user.email
    # the HTTP surface (issue 10): see the end of this module
    http: HttpSettings = field(default_factory=lambda: HttpSettings())
    chat: ChatSettings | None = None  # [chat]; None: no chat endpoints
    metrics: MetricsSettings = field(default_factory=lambda: MetricsSettings())

    def database(self, cli_db: str | None, env: Mapping[str, str]) -> str:
        return self.database_origin(cli_db, env)[0]

    def database_origin(self, cli_db: str | None, env: Mapping[str, str]) -> tuple[str, str]:
        """The database URL and where it came from: "--db", "$REVIEWBOT_DATABASE_URL",
        the settings file's path, "git config reviewbot.database" or "default"."""
        if cli_db:
            return cli_db, "--db"
        if env.get("REVIEWBOT_DATABASE_URL"):
            return env["REVIEWBOT_DATABASE_URL"], "$REVIEWBOT_DATABASE_URL"
        if self.database_url:
            return self.database_url, str(self.path)
        if configured := git_config("reviewbot.database", env):
            return database_url(configured), "git config reviewbot.database"
        return default_database(env), "default"


# Top-level tables another module validates: the HTTP surface's (reviewbot.config_web).
# GitLab is configured in policies ([pull]) and $REVIEWBOT_GITLAB_TOKEN, so a [gitlab]
# table is refused as unknown rather than silently ignored.
DELEGATED_TABLES = frozenset({"http", "chat", "metrics"})
_TOP_KEYS = (frozenset({"database", "raw_codec", "poll_interval", "sources", "trees",
                        "maintainers", "mailmap", "mail", "me", "policy", "daemon"})
             | DELEGATED_TABLES)
RAW_CODECS = ("identity", "zlib")
_SOURCE_KEYS = frozenset({"list", "epochs", "lore", "mbox", "since"})
_TREE_KEYS = frozenset({"url", "path", "branches", "subsystem", "interval"})
_POLICY_KEYS = frozenset({"dir"})
_DAEMON_KEYS = frozenset({"stop_timeout", "health_missed_polls"})
_MAIL_KEYS = frozenset({"from", "smtp", "password_file", "lore", "in_doubt", "max_attempts",
                        "trusted_relay", "commands_maildir"})


def find_config(cli_path: str | None, env: Mapping[str, str],
                etc: Path = Path("/etc/reviewbot")) -> Path | None:
    """The settings file to read, or None; an explicitly named file must exist."""
    explicit = cli_path or env.get("REVIEWBOT_CONFIG")
    if explicit:
        path = Path(explicit)
        if not path.is_file():
            via = "--config" if cli_path else "$REVIEWBOT_CONFIG"
            raise ConfigError(f"{path}: no such settings file (named by {via})")
        return path
    return next((c for c in config_candidates(env, etc) if c.is_file()), None)


def load(cli_path: str | None, env: Mapping[str, str]) -> Settings:
    path = find_config(cli_path, env)
    if path is None:
        return _with_git_maintainers(Settings(), env)
    try:
        text = path.read_text(encoding="utf-8")
        data = tomllib.loads(text)
    except (OSError, UnicodeDecodeError) as exc:
        raise ConfigError(f"{path}: cannot read the settings file: {exc}") from exc
    except tomllib.TOMLDecodeError as exc:
        at = re.search(r"at line (\d+)", str(exc))
        raise ConfigError(f"{path}{f':{at[1]}' if at else ''}: not valid TOML: {exc}") from exc
    return _with_git_maintainers(parse(data, path, text), env)


def _with_git_maintainers(conf: Settings, env: Mapping[str, str]) -> Settings:
    """git config `reviewbot.maintainers`, when neither the file nor the environment
    names MAINTAINERS (asked only then: a git call costs milliseconds)."""
    if conf.maintainers is not None or env.get("REVIEWBOT_MAINTAINERS"):
        return conf
    value = git_config("reviewbot.maintainers", env)
    return replace(conf, maintainers=Path(value).expanduser()) if value else conf


class _Failer:
    """Builds `file:line: reason` errors; lines come from the file's text when known."""

    def __init__(self, path: Path, text: str | None) -> None:
        self.path = path
        self.index = line_index(text) if text is not None else {}

    def __call__(self, reason: str, *where: str) -> ConfigError:
        line = line_of(self.index, where) if self.index and where else None
        return ConfigError(f"{self.path}{f':{line}' if line else ''}: {reason}")


def _positive(value: Any) -> bool:
    return not isinstance(value, bool) and isinstance(value, int | float) and value > 0


def parse(data: Mapping[str, Any], path: Path, text: str | None = None) -> Settings:
    """Validated settings; `text` (the file's) lets every error name its line."""
    fail = _Failer(path, text)
    unknown = sorted(set(data) - _TOP_KEYS)
    if unknown:
        kind = "table" if isinstance(data[unknown[0]], dict | list) else "key"
        raise fail(f"unknown {kind} {', '.join(unknown)} "
                   f"(known: {', '.join(sorted(_TOP_KEYS))})", unknown[0])
    db = data.get("database")
    if db is not None and (not isinstance(db, str) or not db):
        raise fail(f"database must be a non-empty URL string, not {db!r}", "database")
    codec = data.get("raw_codec", "zlib")
    if codec not in RAW_CODECS:
        raise fail(f"raw_codec must be one of {', '.join(RAW_CODECS)}, not {codec!r}",
                   "raw_codec")
    interval = data.get("poll_interval", DEFAULT_POLL_INTERVAL)
    if not _positive(interval):
        raise fail(f"poll_interval must be a positive number of seconds, not {interval!r}",
                   "poll_interval")
    raw_sources = data.get("sources", [])
    if not isinstance(raw_sources, list):
        raise fail("sources must be an array of tables ([[sources]])", "sources")
    sources = tuple(_source(s, i, path.parent, fail) for i, s in enumerate(raw_sources, 1))
    if any(s.lore for s in sources) and interval < MIN_LORE_POLL_INTERVAL:
        raise fail(f"poll_interval {interval} s is below {MIN_LORE_POLL_INTERVAL:.0f} s, "
                   "the polite minimum for lore.kernel.org", "poll_interval")
    raw_trees = data.get("trees", [])
    if not isinstance(raw_trees, list):
        raise fail("trees must be an array of tables ([[trees]])", "trees")
    trees = tuple(_tree(t, i, path.parent, fail) for i, t in enumerate(raw_trees, 1))
    extra: dict[str, Any] = {}
    if "policy" in data:
        extra["policy"] = _policy(data["policy"], fail)
    paths = {}
    for key in ("maintainers", "mailmap"):  # relative to the settings file, like sources
        value = data.get(key)
        if value is not None and (not isinstance(value, str) or not value):
            raise fail(f"{key} must be a path string, not {value!r}", key)
        paths[key] = path.parent / Path(value).expanduser() if value else None
    daemon = _daemon(data["daemon"], fail) if "daemon" in data else DaemonSettings()
    mail = _mail(data["mail"], path, text) if "mail" in data else None
    me = data.get("me")
    if me is not None and (not isinstance(me, str) or not domain_of(me)):
        raise fail(f"me must be your address, e.g. \"leon@kernel.org\", not {me!r}", "me")
    web = _web_settings(data, path, text)
    return Settings(db, codec, float(interval), sources, path, extra, trees, daemon,
                    maintainers=paths["maintainers"], mailmap=paths["mailmap"], mail=mail,
                    me=address_of(me).lower() if me else None, **web)


def _unknown(table: Mapping[str, Any], known: frozenset[str], where: str,
             fail: _Failer, *at: str) -> None:
    unknown = sorted(set(table) - known)
    if unknown:
        raise fail(f"{where}: unknown key(s) {', '.join(unknown)} "
                   f"(known: {', '.join(sorted(known))})", *at, unknown[0])


def _policy(p: Any, fail: _Failer) -> dict[str, Any]:
    if not isinstance(p, dict):
        raise fail("policy must be a table ([policy])", "policy")
    _unknown(p, _POLICY_KEYS, "[policy]", fail, "policy")
    directory = p.get("dir")
    if directory is not None and (not isinstance(directory, str) or not directory):
        raise fail(f"[policy] dir must be a path string, not {directory!r}", "policy", "dir")
    return dict(p)


def _daemon(d: Any, fail: _Failer) -> DaemonSettings:
    if not isinstance(d, dict):
        raise fail("daemon must be a table ([daemon])", "daemon")
    _unknown(d, _DAEMON_KEYS, "[daemon]", fail, "daemon")
    stop = d.get("stop_timeout", DEFAULT_STOP_TIMEOUT)
    if not _positive(stop):
        raise fail(f"[daemon] stop_timeout must be a positive number of seconds, not {stop!r}",
                   "daemon", "stop_timeout")
    missed = d.get("health_missed_polls", DEFAULT_HEALTH_MISSED_POLLS)
    if isinstance(missed, bool) or not isinstance(missed, int) or missed < 1:
        raise fail(f"[daemon] health_missed_polls must be a positive integer, not {missed!r}",
                   "daemon", "health_missed_polls")
    return DaemonSettings(float(stop), missed)


def _tree(t: Any, n: int, base: Path, fail: _Failer) -> TreeSettings:
    where, at = f"[[trees]] #{n}", f"trees#{n - 1}"
    if not isinstance(t, dict):
        raise fail(f"{where} must be a table", at)
    _unknown(t, _TREE_KEYS, where, fail, at)
    if ("url" in t) == ("path" in t):
        raise fail(f"{where}: give exactly one of url, path", at)
    key = "url" if "url" in t else "path"
    value = t[key]
    if not isinstance(value, str) or not value:
        raise fail(f"{where}: {key} must be a non-empty string", at, key)
    source = value if key == "url" else str((base / Path(value).expanduser()).resolve())
    branches = t.get("branches")
    if (not isinstance(branches, list) or not branches
            or not all(isinstance(b, str) and b for b in branches)):
        raise fail(f"{where} ({value}): branches must be a non-empty list of branch names",
                   at, "branches")
    subsystem = t.get("subsystem")
    if subsystem is not None and (not isinstance(subsystem, str) or not subsystem):
        raise fail(f"{where} ({value}): subsystem must be a policy name", at, "subsystem")
    every = t.get("interval")
    if every is not None and not _positive(every):
        raise fail(f"{where} ({value}): interval must be a positive number of seconds",
                   at, "interval")
    return TreeSettings(source, tuple(branches), subsystem,
                        float(every) if every is not None else None)


def _source(s: Any, n: int, base: Path, fail: _Failer) -> SourceSettings:
    where, at = f"[[sources]] #{n}", f"sources#{n - 1}"
    if not isinstance(s, dict):
        raise fail(f"{where} must be a table", at)
    _unknown(s, _SOURCE_KEYS, where, fail, at)
    name = s.get("list")
    if not isinstance(name, str) or not name:
        raise fail(f"{where}: `list` (the list's name, e.g. \"linux-rdma\") is required",
                   at, "list")
    kinds = [k for k in ("epochs", "lore", "mbox") if k in s]
    if len(kinds) != 1:
        raise fail(f"{where} ({name}): give exactly one of epochs, lore, mbox", at)
    if "since" in s and "lore" not in s:
        raise fail(f"{where} ({name}): since applies to lore sources only", at, "since")
    if "epochs" in s:
        epochs = s["epochs"]
        if (not isinstance(epochs, list) or not epochs
                or not all(isinstance(e, str) and e for e in epochs)):
            raise fail(f"{where} ({name}): epochs must be a non-empty list of paths",
                       at, "epochs")
        return SourceSettings(name, epochs=tuple(base / Path(e).expanduser() for e in epochs))
    if "lore" in s:
        url = s["lore"]
        if not isinstance(url, str) or not url.startswith(("http://", "https://")):
            raise fail(f"{where} ({name}): lore must be an http(s) URL, not {url!r}",
                       at, "lore")
        since = s.get("since")
        if since is not None:
            since = _aware_date(since)
            if since is None:
                raise fail(f"{where} ({name}): since must be a TOML date or date-time, "
                           f"not {s['since']!r}", at, "since")
        return SourceSettings(name, lore=url.rstrip("/"), since=since)
    mbox = s["mbox"]
    if not isinstance(mbox, str) or not mbox:
        raise fail(f"{where} ({name}): mbox must be a path", at, "mbox")
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
    index = line_index(text) if text is not None else {}

    def fail(key: str | None, reason: str) -> ConfigError:
        line = line_of(index, ("mail", key) if key else ("mail",)) if index else None
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
    index = line_index(text) if text is not None else {}

    def fail(keys: tuple[str, ...], reason: str) -> ConfigError:
        line = line_of(index, keys) if index else None
        return ConfigError(f"{path}{f':{line}' if line else ''}: [{keys[0]}] {reason}")

    return parse_web(data, path.parent, fail)
