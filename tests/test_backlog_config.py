"""Settings for routing and the backlog: `maintainers`, `mailmap` (and `[policy] dir`)."""

from __future__ import annotations

from pathlib import Path

import pytest

from reviewbot.config import ConfigError, load

EXAMPLE = Path(__file__).resolve().parents[1] / "deploy" / "config.example.toml"


def test_paths_are_relative_to_the_settings_file(tmp_path: Path) -> None:
    """maintainers = "linux" means next to the settings file, like the sources' paths."""
    cfg = tmp_path / "etc" / "c.toml"
    cfg.parent.mkdir()
    cfg.write_text('maintainers = "linux"\nmailmap = "/srv/mailmap"\n', encoding="utf-8")
    s = load(str(cfg), {})
    assert (s.maintainers, s.mailmap) == (tmp_path / "etc" / "linux", Path("/srv/mailmap"))


def test_both_are_optional(tmp_path: Path) -> None:
    """Without them nothing is routed (commands say so), and nothing fails to load."""
    cfg = tmp_path / "c.toml"
    cfg.write_text("", encoding="utf-8")
    assert (load(str(cfg), {}).maintainers, load(str(cfg), {}).mailmap) == (None, None)


@pytest.mark.parametrize("text", ['maintainers = 3\n', 'mailmap = ""\n'])
def test_bad_values_are_refused_with_the_file(tmp_path: Path, text: str) -> None:
    """A non-string or empty path is an error naming the file and the key."""
    cfg = tmp_path / "c.toml"
    cfg.write_text(text, encoding="utf-8")
    with pytest.raises(ConfigError, match=rf"{cfg}:1: {text.split()[0]} must be a path string"):
        load(str(cfg), {})


def test_example_names_maintainers_and_policies() -> None:
    """deploy/config.example.toml shows a kernel tree for MAINTAINERS and a policy dir."""
    s = load(str(EXAMPLE), {})
    assert s.maintainers == Path("/var/lib/reviewbot/linux")
    assert s.extra["policy"] == {"dir": "/etc/reviewbot/policies"}
