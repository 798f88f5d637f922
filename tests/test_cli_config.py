"""Settings (reviewbot/config.py): lookup order, database precedence, strict keys."""

from __future__ import annotations

from pathlib import Path

import pytest

from reviewbot.cli import main
from reviewbot.config import DEFAULT_DATABASE_URL, ConfigError, Settings, find_config, load


def write(path: Path, text: str) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text, encoding="utf-8")
    return path


@pytest.mark.parametrize(("cli", "env_keys", "expected"), [
    ("cli.toml", {"REVIEWBOT_CONFIG": "env.toml", "CONFIGURATION_DIRECTORY": "sd"}, "cli.toml"),
    (None, {"REVIEWBOT_CONFIG": "env.toml", "CONFIGURATION_DIRECTORY": "sd"}, "env.toml"),
    (None, {"CONFIGURATION_DIRECTORY": "sd", "XDG_CONFIG_HOME": "xdg"}, "sd/config.toml"),
    (None, {"XDG_CONFIG_HOME": "xdg"}, "xdg/reviewbot/config.toml"),
    (None, {}, None),
])
def test_lookup_order(tmp_path: Path, cli: str | None, env_keys: dict[str, str],
                      expected: str | None) -> None:
    """--config, $REVIEWBOT_CONFIG, $CONFIGURATION_DIRECTORY, (/etc), $XDG_CONFIG_HOME."""
    for name in ("cli.toml", "env.toml", "sd/config.toml", "xdg/reviewbot/config.toml"):
        write(tmp_path / name, "")
    env = {k: str(tmp_path / v) for k, v in env_keys.items()}
    found = find_config(str(tmp_path / cli) if cli else None, env, etc=tmp_path / "etc")
    assert found == (tmp_path / expected if expected else None)


def test_etc_comes_before_xdg(tmp_path: Path) -> None:
    """/etc/reviewbot/config.toml wins over $XDG_CONFIG_HOME, loses to $CONFIGURATION_DIRECTORY."""
    etc = write(tmp_path / "etc" / "config.toml", "")
    write(tmp_path / "xdg" / "reviewbot" / "config.toml", "")
    write(tmp_path / "sd" / "config.toml", "")
    assert find_config(None, {"XDG_CONFIG_HOME": str(tmp_path / "xdg")}, etc.parent) == etc
    assert find_config(None, {"CONFIGURATION_DIRECTORY": str(tmp_path / "sd")},
                       etc.parent) == tmp_path / "sd" / "config.toml"


def test_named_file_must_exist(tmp_path: Path) -> None:
    """An explicitly named settings file that is missing is an error, not silently skipped."""
    with pytest.raises(ConfigError, match="no such settings file"):
        find_config(str(tmp_path / "missing.toml"), {})


def test_database_precedence() -> None:
    """--db beats $REVIEWBOT_DATABASE_URL beats the file beats ./reviewbot.db."""
    s = Settings(database_url="sqlite:///file.db")
    env = {"REVIEWBOT_DATABASE_URL": "sqlite:///env.db"}
    assert s.database("sqlite:///cli.db", env) == "sqlite:///cli.db"
    assert s.database(None, env) == "sqlite:///env.db"
    assert s.database(None, {}) == "sqlite:///file.db"
    assert Settings().database(None, {}) == DEFAULT_DATABASE_URL == "sqlite:///reviewbot.db"


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


@pytest.mark.parametrize(("text", "reason"), [
    ("colour = 1\n", "unknown key(s) colour"),
    ('[[sources]]\nlist = "l"\nlore = "https://x"\nbranch = "m"\n',
     "[[sources]] #1: unknown key(s) branch"),
    ('[[sources]]\nlore = "https://x"\n', "`list`"),
    ('[[sources]]\nlist = "l"\n', "exactly one of epochs, lore, mbox"),
    ('[[sources]]\nlist = "l"\nlore = "ftp://x"\n', "http(s) URL"),
    ('poll_interval = 60\n[[sources]]\nlist = "l"\nlore = "https://x"\n', "below 300 s"),
    ("poll_interval = -1\n", "positive number"),
    ("database = 5\n", "database must be"),
    ('raw_codec = "lz4"\n', "raw_codec must be one of identity, zlib"),
    ("this is = not toml\n", "c.toml"),
])
def test_bad_settings_name_file_and_reason(tmp_path: Path, text: str, reason: str) -> None:
    """Each mistake is rejected with the file's path and what is wrong."""
    cfg = write(tmp_path / "c.toml", text)
    with pytest.raises(ConfigError) as err:
        load(str(cfg), {})
    assert str(err.value).startswith(f"{cfg}: ") and reason in str(err.value)


def test_cli_reports_bad_settings(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    """The CLI turns a bad settings file into one error line and exit 1."""
    cfg = write(tmp_path / "c.toml", "colour = 1\n")
    code = main(["--config", str(cfg), "--db", f"sqlite:///{tmp_path}/x.db", "stats"])
    err = capsys.readouterr().err
    assert code == 1 and err.startswith(f"reviewbot: error: {cfg}: unknown key(s) colour")


def test_ingest_uses_configured_sources(tmp_path: Path, capsys: pytest.CaptureFixture[str]
                                        ) -> None:
    """`ingest` without a source option reads [[sources]]; none configured is a clear error."""
    cfg = write(tmp_path / "c.toml", "")
    code = main(["--config", str(cfg), "--db", f"sqlite:///{tmp_path}/x.db", "ingest"])
    assert code == 1 and "nothing to ingest" in capsys.readouterr().err
