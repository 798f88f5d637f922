"""Settings (reviewbot/config.py): lookup order, database precedence, strict keys."""

from __future__ import annotations

import re
import subprocess
from pathlib import Path

import pytest

from reviewbot.cli import main
from reviewbot.config import ConfigError, Settings, find_config, load


def write(path: Path, text: str) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text, encoding="utf-8")
    return path


@pytest.mark.parametrize(("cli", "env_keys", "expected"), [
    ("cli.toml", {"REVIEWBOT_CONFIG": "env.toml", "CONFIGURATION_DIRECTORY": "sd"}, "cli.toml"),
    (None, {"REVIEWBOT_CONFIG": "env.toml", "CONFIGURATION_DIRECTORY": "sd"}, "env.toml"),
    (None, {"CONFIGURATION_DIRECTORY": "sd", "XDG_CONFIG_HOME": "xdg"}, "sd/config.toml"),
    (None, {"XDG_CONFIG_HOME": "xdg"}, "xdg/reviewbot/config.toml"),
    (None, {"HOME": "home"}, "home/.config/reviewbot/config.toml"),
    (None, {"HOME": "nohome"}, "etc/config.toml"),
])
def test_lookup_order(tmp_path: Path, cli: str | None, env_keys: dict[str, str],
                      expected: str | None) -> None:
    """--config, $REVIEWBOT_CONFIG, $CONFIGURATION_DIRECTORY, $XDG_CONFIG_HOME (default
    ~/.config), then /etc."""
    for name in ("cli.toml", "env.toml", "sd/config.toml", "xdg/reviewbot/config.toml",
                 "home/.config/reviewbot/config.toml", "etc/config.toml"):
        write(tmp_path / name, "")
    env = {k: str(tmp_path / v) for k, v in env_keys.items()}
    found = find_config(str(tmp_path / cli) if cli else None, env, etc=tmp_path / "etc")
    assert found == (tmp_path / expected if expected else None)


def test_user_config_comes_before_etc(tmp_path: Path) -> None:
    """$XDG_CONFIG_HOME wins over /etc/reviewbot/config.toml; none at all means defaults."""
    etc = write(tmp_path / "etc" / "config.toml", "")
    write(tmp_path / "xdg" / "reviewbot" / "config.toml", "")
    assert find_config(None, {"XDG_CONFIG_HOME": str(tmp_path / "xdg")},
                       etc.parent) == tmp_path / "xdg" / "reviewbot" / "config.toml"
    assert find_config(None, {"HOME": str(tmp_path / "empty")}, tmp_path / "none") is None


def test_named_file_must_exist(tmp_path: Path) -> None:
    """An explicitly named settings file that is missing is an error, not silently skipped."""
    with pytest.raises(ConfigError, match="no such settings file"):
        find_config(str(tmp_path / "missing.toml"), {})


def _git_config(tmp_path: Path, **keys: str) -> dict[str, str]:
    """An environment whose global git config (only) sets `keys` ("reviewbot.database")."""
    gitconfig = tmp_path / "gitconfig"
    for key, value in keys.items():
        subprocess.run(["git", "config", "--file", str(gitconfig), key.replace("_", "."),
                        value], check=True)
    return {"GIT_CONFIG_GLOBAL": str(gitconfig), "GIT_CONFIG_NOSYSTEM": "1",
            "HOME": str(tmp_path / "home")}


def test_database_precedence(tmp_path: Path) -> None:
    """--db beats $REVIEWBOT_DATABASE_URL beats the file beats git config
    reviewbot.database beats the state directory."""
    s = Settings(database_url="sqlite:///file.db", path=tmp_path / "c.toml")
    env = {"REVIEWBOT_DATABASE_URL": "sqlite:///env.db",
           **_git_config(tmp_path, reviewbot_database="~/git.db")}
    assert s.database_origin("sqlite:///cli.db", env) == ("sqlite:///cli.db", "--db")
    assert s.database_origin(None, env) == ("sqlite:///env.db", "$REVIEWBOT_DATABASE_URL")
    del env["REVIEWBOT_DATABASE_URL"]
    assert s.database_origin(None, env) == ("sqlite:///file.db", str(tmp_path / "c.toml"))
    assert Settings().database_origin(None, env) == (
        f"sqlite:///{Path('~/git.db').expanduser()}", "git config reviewbot.database")


@pytest.mark.parametrize(("env_keys", "expected"), [
    ({"STATE_DIRECTORY": "/var/lib/reviewbot", "XDG_STATE_HOME": "/x"},
     "/var/lib/reviewbot/reviewbot.db"),
    ({"STATE_DIRECTORY": "/var/lib/a:/var/lib/b"}, "/var/lib/a/reviewbot.db"),
    ({"XDG_STATE_HOME": "/xdg/state", "HOME": "/home/u"}, "/xdg/state/reviewbot/reviewbot.db"),
    ({"XDG_STATE_HOME": "relative", "HOME": "/home/u"},
     "/home/u/.local/state/reviewbot/reviewbot.db"),
    ({"HOME": "/home/u"}, "/home/u/.local/state/reviewbot/reviewbot.db"),
])
def test_default_database_follows_systemd_then_xdg(env_keys: dict[str, str],
                                                    expected: str) -> None:
    """Never the working directory: $STATE_DIRECTORY, else $XDG_STATE_HOME/reviewbot
    (an absolute one, as the spec says), else ~/.local/state/reviewbot."""
    env = {"GIT_CONFIG_GLOBAL": "/dev/null", "GIT_CONFIG_NOSYSTEM": "1", **env_keys}
    assert Settings().database_origin(None, env) == (f"sqlite:///{expected}", "default")


def test_maintainers_from_git_config(tmp_path: Path) -> None:
    """git config reviewbot.maintainers, when neither the file nor
    $REVIEWBOT_MAINTAINERS names MAINTAINERS."""
    env = _git_config(tmp_path, reviewbot_maintainers=str(tmp_path / "linux"))
    cfg = write(tmp_path / "c.toml", "")
    assert load(str(cfg), env).maintainers == tmp_path / "linux"
    assert load(str(cfg), {**env, "REVIEWBOT_MAINTAINERS": "/m"}).maintainers is None
    cfg.write_text('maintainers = "/from/file"\n')
    assert load(str(cfg), env).maintainers == Path("/from/file")


def test_example_config_parses() -> None:
    """deploy/config.example.toml is valid and names one epoch and one lore source."""
    example = Path(__file__).resolve().parents[1] / "deploy" / "config.example.toml"
    s = load(str(example), {})
    assert [(x.list_name, x.kind) for x in s.sources] == [("linux-rdma", "epoch"),
                                                         ("netdev", "lore")]
    assert s.poll_interval == 300 and s.raw_codec == "zlib"


def test_relative_paths_are_relative_to_the_file(tmp_path: Path) -> None:
    """epochs = ["mirror/0.git"] means next to the settings file, not the working dir."""
    cfg = write(tmp_path / "etc" / "c.toml",
                '[[sources]]\nlist = "l"\nepochs = ["mirror/0.git"]\n')
    assert load(str(cfg), {}).sources[0].epochs == (tmp_path / "etc" / "mirror" / "0.git",)


@pytest.mark.parametrize(("text", "line", "reason"), [
    ("colour = 1\n", 1, "unknown key colour"),
    ('poll_interval = 300\n[colours]\nred = 1\n', 2, "unknown table colours"),
    ('[[sources]]\nlist = "l"\nlore = "https://x"\nbranch = "m"\n', 4,
     "[[sources]] #1: unknown key(s) branch"),
    ('[[sources]]\nlist = "a"\nmbox = "a"\n[[sources]]\nlore = "https://x"\n', 4, "`list`"),
    ('[[sources]]\nlist = "l"\n', 1, "exactly one of epochs, lore, mbox"),
    ('[[sources]]\nlist = "l"\nlore = "ftp://x"\n', 3, "http(s) URL"),
    ('poll_interval = 60\n[[sources]]\nlist = "l"\nlore = "https://x"\n', 1, "below 300 s"),
    ("poll_interval = -1\n", 1, "positive number"),
    ("\ndatabase = 5\n", 2, "database must be"),
    ('raw_codec = "lz4"\n', 1, "raw_codec must be one of identity, zlib"),
    ("this is = not toml\n", 1, "not valid TOML"),
    ('[[trees]]\npath = "/t"\nbranches = []\n', 3, "branches must be a non-empty list"),
    ('[policy]\ndir = "p"\ncolour = 1\n', 3, "[policy]: unknown key(s) colour"),
    ('[policy]\ndir = 5\n', 2, "[policy] dir must be a path string"),
    ('[daemon]\nstop_timeout = "soon"\n', 2, "stop_timeout must be a positive number"),
    ('[daemon]\nhealth_missed_polls = 0\n', 2, "health_missed_polls must be a positive int"),
    ('[daemon]\nwatchdog = 1\n', 2, "[daemon]: unknown key(s) watchdog"),
    ('maintainers = 1\n', 1, "maintainers must be a path string"),
])
def test_bad_settings_name_file_line_and_reason(tmp_path: Path, text: str, line: int,
                                                reason: str) -> None:
    """Each mistake is rejected as `file:line: reason`, for every table."""
    cfg = write(tmp_path / "c.toml", text)
    with pytest.raises(ConfigError) as err:
        load(str(cfg), {})
    assert str(err.value).startswith(f"{cfg}:{line}: "), str(err.value)
    assert reason in str(err.value)


def test_daemon_table_is_parsed() -> None:
    """[daemon] values reach the settings; without the table the defaults hold."""
    example = Path(__file__).resolve().parents[1] / "deploy" / "config.example.toml"
    assert load(str(example), {}).daemon.stop_timeout == 10.0
    assert load(str(example), {}).daemon.health_missed_polls == 3


def test_cli_reports_bad_settings(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    """The CLI turns a bad settings file into one error line and exit 1."""
    cfg = write(tmp_path / "c.toml", "colour = 1\n")
    code = main(["--config", str(cfg), "--db", f"sqlite:///{tmp_path}/x.db", "stats"])
    err = capsys.readouterr().err
    assert code == 1 and re.fullmatch(
        rf"reviewbot: error: {re.escape(str(cfg))}:1: unknown key colour \(known: .*\)\n", err)


def test_ingest_uses_configured_sources(tmp_path: Path, capsys: pytest.CaptureFixture[str]
                                        ) -> None:
    """`ingest` without a source option reads [[sources]]; none configured is a clear error."""
    cfg = write(tmp_path / "c.toml", "")
    code = main(["--config", str(cfg), "--db", f"sqlite:///{tmp_path}/x.db", "ingest"])
    assert code == 1 and "nothing to ingest" in capsys.readouterr().err
