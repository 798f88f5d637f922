"""`[http]`, `[chat]` and `[metrics]` settings: validated like every table, each error with
file:line; secrets only from files, the environment or systemd credentials."""

from __future__ import annotations

import hashlib
from pathlib import Path

import pytest

from reviewbot import config
from reviewbot.config_web import Listen, SecretError, parse_listen


def load(tmp_path: Path, text: str) -> config.Settings:
    path = tmp_path / "config.toml"
    path.write_text(text)
    return config.load(str(path), {})


def test_a_full_http_surface(tmp_path: Path) -> None:
    digest = hashlib.sha256(b"t0ken").hexdigest()
    (tmp_path / "tok").write_text("other-token\n")
    s = load(tmp_path, f'''
[http]
listen = "[::1]:9090"
lore = "https://lore.example.org/"
page_size = 20
[[http.tokens]]
identity = "Leon@Kernel.org"
sha256 = "{digest}"
[[http.tokens]]
identity = "jgg@nvidia.com"
token_file = "tok"

[chat]
rate_per_minute = 5
answer_within = 1.5
subsystem = "INFINIBAND SUBSYSTEM"
[chat.slack]
signing_secret_file = "slack.secret"
[chat.slack.users]
U1 = "leon@kernel.org"
[chat.mattermost.users]
jgg = "jgg@nvidia.com"

[metrics]
subsystems = ["INFINIBAND SUBSYSTEM"]
refresh = 15
mainline = "linux"
[[metrics.debt]]
name = "ofed"
tree = "ofed"
branch = "ofed"
''')
    assert s.http.listen == Listen("::1", 9090) and str(s.http.listen) == "[::1]:9090"
    assert s.http.lore == "https://lore.example.org" and s.http.page_size == 20
    assert [t.identity for t in s.http.tokens] == ["leon@kernel.org", "jgg@nvidia.com"]
    assert s.http.tokens[0].digest() == digest
    assert s.http.tokens[1].digest() == hashlib.sha256(b"other-token").hexdigest()
    assert s.chat is not None and s.chat.slack is not None and s.chat.mattermost is not None
    assert s.chat.slack.secret_file == tmp_path / "slack.secret"
    assert s.chat.slack.users == {"U1": "leon@kernel.org"}
    assert (s.chat.rate_per_minute, s.chat.answer_within) == (5, 1.5)
    assert s.metrics.mainline == str(tmp_path / "linux") and s.metrics.refresh == 15.0
    assert s.metrics.debt[0].tree == str((tmp_path / "ofed").resolve())


def test_defaults_serve_on_localhost_only_when_asked(tmp_path: Path) -> None:
    s = load(tmp_path, 'database = "sqlite:///x.db"\n')
    assert s.http.listen is None and s.chat is None and s.metrics.subsystems == ()
    assert parse_listen(":8080") == Listen("127.0.0.1", 8080)


@pytest.mark.parametrize("text,line,reason", [
    ('[http]\nlisten = "localhost"', 2, "listen must be HOST:PORT"),
    ('[http]\nlisten = "1.2.3.4:99999"', 2, "out of range"),
    ('[http]\nlisten = "x:1"\nport = 3', 3, "unknown key(s) port"),
    ('[[http.tokens]]\nidentity = "a@b"\nsha256 = "abc"', 3, "64 lower-case hex"),
    ('[[http.tokens]]\nidentity = "nobody"\nsha256 = "abc"', 2, "must be a mail address"),
    ('[[http.tokens]]\nidentity = "a@b"\ntoken = "x"', 3, "unknown key(s) token"),
    ('[[http.tokens]]\nidentity = "a@b"', 1, "exactly one of sha256, token_file"),
    ('[chat]\nrate_per_minute = 0', 2, "positive integer"),
    ('[chat]\n[chat.slack]\nsigning_secret = "x"', 3, "unknown key(s) signing_secret"),
    ('[chat]\n[chat.slack.users]\nU1 = "leon"', 3, "must be a mail address"),
    ('[chat]\n[chat.irc]\nx = 1', 2, "unknown key(s) irc"),
    ('[metrics]\nsubsystems = ["leon@kernel.org"]', 2, "no '@'"),
    ('[metrics]\nrefresh = -1', 2, "positive number"),
    ('[[metrics.debt]]\nname = "a@b"\ntree = "t"\nbranch = "b"', 2, "label value"),
    ('[[metrics.debt]]\nname = "x"\ntree = "t"', 1, "needs branch"),
])
def test_mistakes_name_the_file_and_line(tmp_path: Path, text: str, line: int,
                                         reason: str) -> None:
    with pytest.raises(config.ConfigError) as err:
        load(tmp_path, text)
    assert f"config.toml:{line}:" in str(err.value)
    assert reason in str(err.value)


def test_secrets_come_from_the_environment_files_or_credentials(tmp_path: Path) -> None:
    s = load(tmp_path, '[chat]\n[chat.slack]\nsigning_secret_file = "nope"\n[chat.mattermost]\n')
    assert s.chat is not None and s.chat.slack is not None and s.chat.mattermost is not None
    env = {"REVIEWBOT_SLACK_SIGNING_SECRET": "from-env"}
    assert s.chat.slack.secret(env, "REVIEWBOT_SLACK_SIGNING_SECRET", "x") == "from-env"
    with pytest.raises(SecretError, match="nope"):
        s.chat.slack.secret({}, "REVIEWBOT_SLACK_SIGNING_SECRET", "x")
    (tmp_path / "creds").mkdir()
    (tmp_path / "creds" / "mattermost-token").write_text("cred\n")
    assert s.chat.mattermost.secret({"CREDENTIALS_DIRECTORY": str(tmp_path / "creds")},
                                    "REVIEWBOT_MATTERMOST_TOKEN", "mattermost-token") == "cred"
    assert s.chat.mattermost.secret({}, "REVIEWBOT_MATTERMOST_TOKEN", "mattermost-token") is None
