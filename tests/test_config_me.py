"""The settings' `me` (issue 7, `queue --mine`): an address, validated, lower-cased."""

from __future__ import annotations

from pathlib import Path

import pytest

from reviewbot import config


def test_me_is_an_address(tmp_path: Path) -> None:
    conf = tmp_path / "c.toml"
    conf.write_text('me = "Leon Romanovsky <Leon@kernel.org>"\n', encoding="utf-8")
    assert config.load(str(conf), {}).me == "leon@kernel.org"
    conf.write_text("", encoding="utf-8")
    assert config.load(str(conf), {}).me is None


@pytest.mark.parametrize("value", ['"leon"', "3", '""'])
def test_a_bad_me_is_one_clear_error(tmp_path: Path, value: str) -> None:
    conf = tmp_path / "c.toml"
    conf.write_text(f"me = {value}\n", encoding="utf-8")
    with pytest.raises(config.ConfigError, match="me must be your address"):
        config.load(str(conf), {})
