"""Settings of the HTTP surface: `[http]`, `[chat]` and `[metrics]` (issue 10).

Parsed by config.parse like every other table: unknown keys and bad values are
refused with the file and line. Secrets are never in the file itself:

    [http]
    listen = "127.0.0.1:8080"          # `reviewbot run` serves HTTP only when set
    lore = "https://lore.kernel.org"   # series link to <lore>/r/<message-id>
    [[http.tokens]]                    # bearer tokens for the API's writes
    identity = "leon@kernel.org"
    sha256 = "<hex sha256 of the token>"   # or token_file = "/etc/reviewbot/tokens/leon"

    [chat]
    rate_per_minute = 20               # commands per chat user
    answer_within = 2.0                # seconds; slower answers go to response_url
    subsystem = "INFINIBAND SUBSYSTEM" # what `backlog`, `ready`, `stats` mean without one
    [chat.slack]
    signing_secret_file = "/etc/reviewbot/slack-signing-secret"
    [chat.slack.users]
    U2147483697 = "leon@kernel.org"    # Slack user id -> mail identity
    [chat.mattermost]
    token_file = "/etc/reviewbot/mattermost-token"
    [chat.mattermost.users]
    jgunthorpe = "jgg@nvidia.com"      # Mattermost user id or user name -> mail identity

    [metrics]
    subsystems = ["INFINIBAND SUBSYSTEM"]  # default: the policies' sections and those
                                           # listing a configured source's list
    max_subsystems = 50
    refresh = 30                       # seconds between snapshots (scrapes read the last)
    mainline = "/var/lib/reviewbot/linux"  # mainline tags for the merge-window gauge
    [[metrics.debt]]                   # recorded `reviewbot debt --record` totals
    name = "ofed"                      # the metric's tree label
    tree = "/srv/ofed"
    branch = "ofed"

A secret file may also come from the environment ($REVIEWBOT_SLACK_SIGNING_SECRET,
$REVIEWBOT_MATTERMOST_TOKEN) or a systemd credential (slack-signing-secret,
mattermost-token in $CREDENTIALS_DIRECTORY).
"""

from __future__ import annotations

import hashlib
import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

DEFAULT_HOST = "127.0.0.1"
DEFAULT_LORE = "https://lore.kernel.org"
Fail = Callable[[tuple[str, ...], str], Exception]


class SecretError(ValueError):
    """A configured secret that cannot be read; the message says which and why."""


@dataclass(frozen=True, slots=True)
class Listen:
    host: str
    port: int

    def __str__(self) -> str:
        return f"[{self.host}]:{self.port}" if ":" in self.host else f"{self.host}:{self.port}"


def parse_listen(text: str) -> Listen:
    """`HOST:PORT`, `[v6]:PORT` or `:PORT` (127.0.0.1); ValueError with the reason."""
    m = re.fullmatch(r"(?:\[([0-9A-Fa-f:.]+)\]|([^:\[\]\s]*)):(\d{1,5})", text.strip())
    if m is None:
        raise ValueError(f"listen must be HOST:PORT (e.g. 127.0.0.1:8080), not {text!r}")
    port = int(m.group(3))
    if port > 65535:
        raise ValueError(f"port {port} is out of range")
    return Listen(m.group(1) or m.group(2) or DEFAULT_HOST, port)


@dataclass(frozen=True, slots=True)
class ApiToken:
    identity: str  # the mail address the token acts as
    sha256: str | None = None  # hex digest of the token
    token_file: Path | None = None  # or the token itself, in a file

    def digest(self) -> str:
        """The token's sha256 (reads token_file); SecretError if unreadable."""
        if self.sha256 is not None:
            return self.sha256
        assert self.token_file is not None
        return hashlib.sha256(read_secret(self.token_file).encode()).hexdigest()


@dataclass(frozen=True, slots=True)
class HttpSettings:
    listen: Listen | None = None  # None: `run` serves no HTTP (serve defaults to 127.0.0.1)
    lore: str = DEFAULT_LORE
    tokens: tuple[ApiToken, ...] = ()
    page_size: int = 50  # API default page size (limit), at most max_page_size
    max_page_size: int = 500


@dataclass(frozen=True, slots=True)
class ChatPlatform:
    secret_file: Path | None = None
    users: Mapping[str, str] = field(default_factory=dict)  # chat user -> mail identity

    def secret(self, env: Mapping[str, str], env_name: str, credential: str) -> str | None:
        """$env_name, else the secret file, else the systemd credential; None when none."""
        if env.get(env_name):
            return env[env_name]
        path = self.secret_file
        if path is None and env.get("CREDENTIALS_DIRECTORY"):
            cred = Path(env["CREDENTIALS_DIRECTORY"]) / credential
            path = cred if cred.is_file() else None
        return read_secret(path) if path is not None else None


@dataclass(frozen=True, slots=True)
class ChatSettings:
    slack: ChatPlatform | None = None
    mattermost: ChatPlatform | None = None
    rate_per_minute: int = 20
    answer_within: float = 2.0  # Slack wants an answer in 3 s
    subsystem: str | None = None


@dataclass(frozen=True, slots=True)
class DebtTarget:
    name: str
    tree: str
    branch: str


@dataclass(frozen=True, slots=True)
class MetricsSettings:
    subsystems: tuple[str, ...] = ()
    max_subsystems: int = 50
    refresh: float = 30.0
    mainline: str | None = None
    debt: tuple[DebtTarget, ...] = ()


def read_secret(path: Path) -> str:
    try:
        return path.read_text(encoding="utf-8").strip()
    except (OSError, UnicodeDecodeError) as exc:
        raise SecretError(f"secret file {path}: {exc}") from exc


_HTTP_KEYS = frozenset({"listen", "lore", "tokens", "page_size", "max_page_size"})
_TOKEN_KEYS = frozenset({"identity", "sha256", "token_file"})
_CHAT_KEYS = frozenset({"slack", "mattermost", "rate_per_minute", "answer_within", "subsystem"})
_PLATFORM_SECRET = {"slack": "signing_secret_file", "mattermost": "token_file"}
_METRICS_KEYS = frozenset({"subsystems", "max_subsystems", "refresh", "mainline", "debt"})
_DEBT_KEYS = frozenset({"name", "tree", "branch"})
_LABEL = re.compile(r"[A-Za-z0-9_.:/ ()+-]{1,100}")  # no "@": never an address


def parse_web(data: Mapping[str, Any], base: Path, fail: Fail) -> dict[str, Any]:
    """The `http`, `chat` and `metrics` keyword arguments of config.Settings."""
    return {"http": _http(data.get("http", {}), base, fail),
            "chat": _chat(data["chat"], base, fail) if "chat" in data else None,
            "metrics": _metrics(data.get("metrics", {}), base, fail)}


def _table(value: Any, keys: tuple[str, ...], known: frozenset[str], fail: Fail) -> dict[str, Any]:
    if not isinstance(value, dict):
        raise fail(keys, f"{'.'.join(keys)} must be a table")
    unknown = sorted(set(value) - known)
    if unknown:
        raise fail((*keys, unknown[0]), f"unknown key(s) {', '.join(unknown)} "
                   f"(known: {', '.join(sorted(known))})")
    return value


def _positive(t: Mapping[str, Any], keys: tuple[str, ...], name: str, default: float,
              fail: Fail, *, integer: bool = False) -> Any:
    value = t.get(name, default)
    kinds = int if integer else int | float
    if isinstance(value, bool) or not isinstance(value, kinds) or value <= 0:
        what = "a positive integer" if integer else "a positive number"
        raise fail((*keys, name), f"{name} must be {what}, not {value!r}")
    return value


def _email(value: Any, keys: tuple[str, ...], fail: Fail) -> str:
    if (not isinstance(value, str) or value.count("@") != 1 or " " in value.strip()
            or value.strip().startswith("@") or value.strip().endswith("@")):
        raise fail(keys, f"{keys[-1]} must be a mail address, not {value!r}")
    return value.strip().lower()


def _path(value: Any, keys: tuple[str, ...], base: Path, fail: Fail) -> Path:
    if not isinstance(value, str) or not value:
        raise fail(keys, f"{keys[-1]} must be a path string, not {value!r}")
    return base / Path(value).expanduser()


def _http(raw: Any, base: Path, fail: Fail) -> HttpSettings:
    keys = ("http",)
    t = _table(raw, keys, _HTTP_KEYS, fail)
    listen = None
    if "listen" in t:
        if not isinstance(t["listen"], str):
            raise fail((*keys, "listen"), f"listen must be a string, not {t['listen']!r}")
        try:
            listen = parse_listen(t["listen"])
        except ValueError as exc:
            raise fail((*keys, "listen"), str(exc)) from None
    lore = t.get("lore", DEFAULT_LORE)
    if not isinstance(lore, str) or not lore.startswith(("http://", "https://")):
        raise fail((*keys, "lore"), f"lore must be an http(s) URL, not {lore!r}")
    raw_tokens = t.get("tokens", [])
    if not isinstance(raw_tokens, list):
        raise fail((*keys, "tokens"), "tokens must be an array of tables ([[http.tokens]])")
    tokens = []
    for n, entry in enumerate(raw_tokens):
        where = ("http", f"tokens#{n}")
        e = _table(entry, where, _TOKEN_KEYS, fail)
        identity = _email(e.get("identity"), (*where, "identity"), fail)
        if ("sha256" in e) == ("token_file" in e):
            raise fail(where, "give exactly one of sha256, token_file")
        if "sha256" in e:
            digest = e["sha256"]
            if not isinstance(digest, str) or not re.fullmatch(r"[0-9a-f]{64}", digest):
                raise fail((*where, "sha256"), "sha256 must be 64 lower-case hex digits "
                           "(sha256sum of the token)")
            tokens.append(ApiToken(identity, sha256=digest))
        else:
            tokens.append(ApiToken(identity, token_file=_path(e["token_file"],
                                                               (*where, "token_file"), base,
                                                               fail)))
    size = _positive(t, keys, "page_size", 50, fail, integer=True)
    most = _positive(t, keys, "max_page_size", 500, fail, integer=True)
    if size > most:
        raise fail((*keys, "page_size"), f"page_size {size} is above max_page_size {most}")
    return HttpSettings(listen, lore.rstrip("/"), tuple(tokens), size, most)


def _chat(raw: Any, base: Path, fail: Fail) -> ChatSettings:
    keys = ("chat",)
    t = _table(raw, keys, _CHAT_KEYS, fail)
    platforms: dict[str, ChatPlatform] = {}
    for name, secret_key in _PLATFORM_SECRET.items():
        if name not in t:
            continue
        where = ("chat", name)
        p = _table(t[name], where, frozenset({secret_key, "users"}), fail)
        secret = _path(p[secret_key], (*where, secret_key), base, fail) \
            if secret_key in p else None
        users_raw = p.get("users", {})
        if not isinstance(users_raw, dict):
            raise fail((*where, "users"), f"[chat.{name}.users] must map user ids to addresses")
        users = {str(u): _email(v, (*where, "users", str(u)), fail)
                 for u, v in users_raw.items()}
        platforms[name] = ChatPlatform(secret, users)
    subsystem = t.get("subsystem")
    if subsystem is not None and (not isinstance(subsystem, str) or not subsystem.strip()):
        raise fail((*keys, "subsystem"), "subsystem must be a MAINTAINERS section or list")
    return ChatSettings(platforms.get("slack"), platforms.get("mattermost"),
                        _positive(t, keys, "rate_per_minute", 20, fail, integer=True),
                        float(_positive(t, keys, "answer_within", 2.0, fail)),
                        subsystem.strip() if subsystem else None)


def _metrics(raw: Any, base: Path, fail: Fail) -> MetricsSettings:
    keys = ("metrics",)
    t = _table(raw, keys, _METRICS_KEYS, fail)
    subsystems = t.get("subsystems", [])
    if not isinstance(subsystems, list) or not all(
            isinstance(s, str) and _LABEL.fullmatch(s) for s in subsystems):
        raise fail((*keys, "subsystems"), "subsystems must be a list of MAINTAINERS section "
                   "names (a label value: no '@', at most 100 characters)")
    mainline = t.get("mainline")
    if mainline is not None:
        if not isinstance(mainline, str) or not mainline:
            raise fail((*keys, "mainline"), "mainline must be a kernel git repository path "
                       "or URL")
        if "://" not in mainline:
            mainline = str(_path(mainline, (*keys, "mainline"), base, fail))
    raw_debt = t.get("debt", [])
    if not isinstance(raw_debt, list):
        raise fail((*keys, "debt"), "debt must be an array of tables ([[metrics.debt]])")
    debt = []
    for n, entry in enumerate(raw_debt):
        where = ("metrics", f"debt#{n}")
        d = _table(entry, where, _DEBT_KEYS, fail)
        for k in sorted(_DEBT_KEYS):
            if not isinstance(d.get(k), str) or not d[k]:
                raise fail((*where, k), f"[[metrics.debt]] needs {k} (a non-empty string)")
        if not _LABEL.fullmatch(d["name"]):
            raise fail((*where, "name"), "name is a label value: letters, digits and "
                       "_.:/()+- only (no '@')")
        tree = d["tree"] if "://" in d["tree"] else str(_path(d["tree"], (*where, "tree"),
                                                             base, fail).resolve())
        debt.append(DebtTarget(d["name"], tree, d["branch"]))
    return MetricsSettings(tuple(dict.fromkeys(subsystems)),
                           _positive(t, keys, "max_subsystems", 50, fail, integer=True),
                           float(_positive(t, keys, "refresh", 30.0, fail)), mainline,
                           tuple(debt))
