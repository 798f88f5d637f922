"""`[mail]` settings: validated like [[sources]], every error with file:line."""

from __future__ import annotations

from pathlib import Path

import pytest

from reviewbot import config
from reviewbot.core.notify.outbox import InDoubt
from reviewbot.core.notify.smtpurl import SmtpTls


def load(tmp_path: Path, text: str) -> config.Settings:
    path = tmp_path / "config.toml"
    path.write_text(text)
    return config.load(str(path), {})


def test_a_full_mail_table(tmp_path: Path) -> None:
    conf = load(tmp_path, '''
database = "sqlite:///x.db"

[mail]
from = "reviewbot <bot@example.org>"
smtp = "smtp+starttls://bot%40example.org@mail.example.org"
password_file = "secret"
lore = "https://lore.example.org/"
in_doubt = "hold"
max_attempts = 5
trusted_relay = "mx.example.org"
commands_maildir = "commands"
''')
    m = conf.mail
    assert m is not None
    assert m.address == "bot@example.org"
    assert m.smtp is not None and m.smtp.tls is SmtpTls.STARTTLS and m.smtp.port == 587
    assert m.smtp.user == "bot@example.org"
    assert m.lore == "https://lore.example.org"
    assert m.in_doubt is InDoubt.HOLD and m.retry_policy().max_attempts == 5
    assert m.password_file == tmp_path / "secret"
    assert m.commands_maildir == tmp_path / "commands"
    assert m.trusted_relay == "mx.example.org"


def test_defaults(tmp_path: Path) -> None:
    m = load(tmp_path, '[mail]\nfrom = "bot@example.org"\n').mail
    assert m is not None and m.smtp is None and m.lore == "https://lore.kernel.org"
    assert m.in_doubt is InDoubt.RESEND and m.trusted_relay is None
    assert load(tmp_path, 'database = "x"\n').mail is None


@pytest.mark.parametrize("body,line,reason", [
    ('from = "bot@example.org"\nsmpt = "smtp://x"', 3, "unknown key(s) smpt"),
    ('from = "bot@example.org"\npassword = "hunter2"', 3, "no password in the settings file"),
    ('from = "bot"', 2, "from must be the bot's address"),
    ('smtp = "smtp://x"', 1, "from must be"),
    ('from = "bot@example.org"\nsmtp = "imap://x"', 3, "scheme must be one of"),
    ('from = "bot@example.org"\nsmtp = "smtp://u:pw@x"', 3, "no password in the URL"),
    ('from = "bot@example.org"\nlore = "lore.kernel.org"', 3, "lore must be an http(s) URL"),
    ('from = "bot@example.org"\nin_doubt = "maybe"', 3, "in_doubt must be"),
    ('from = "bot@example.org"\nmax_attempts = 0', 3, "max_attempts must be"),
    ('from = "bot@example.org"\ntrusted_relay = "a b"', 3, "authserv-id"),
])
def test_bad_values_name_file_and_line(tmp_path: Path, body: str, line: int,
                                       reason: str) -> None:
    with pytest.raises(config.ConfigError) as exc:
        load(tmp_path, f"[mail]\n{body}\n")
    assert str(exc.value).startswith(f"{tmp_path / 'config.toml'}:{line}: [mail] ")
    assert reason in str(exc.value)


def test_the_password_comes_from_the_environment_or_a_file(tmp_path: Path) -> None:
    (tmp_path / "pw").write_text("s3cret\n")
    m = load(tmp_path, '[mail]\nfrom = "bot@example.org"\npassword_file = "pw"\n').mail
    assert m is not None
    assert m.password({}) == "s3cret"
    assert m.password({"REVIEWBOT_SMTP_PASSWORD": "env"}) == "env"
    bare = load(tmp_path, '[mail]\nfrom = "bot@example.org"\n').mail
    assert bare is not None and bare.password({}) is None
    (tmp_path / "creds").mkdir()
    (tmp_path / "creds" / "smtp-password").write_text("cred")
    assert bare.password({"CREDENTIALS_DIRECTORY": str(tmp_path / "creds")}) == "cred"
    gone = load(tmp_path, '[mail]\nfrom = "bot@example.org"\npassword_file = "nope"\n').mail
    assert gone is not None
    with pytest.raises(config.ConfigError, match="password_file"):
        gone.password({})


def test_the_deploy_example_is_valid() -> None:
    from tests.conftest import REPO_ROOT

    m = config.load(str(REPO_ROOT / "deploy" / "config.example.toml"), {}).mail
    assert m is not None and m.address == "reviewbot@example.org"
    assert m.smtp is not None and m.smtp.tls is SmtpTls.STARTTLS
    assert m.in_doubt is InDoubt.RESEND
