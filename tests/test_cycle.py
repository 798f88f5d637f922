"""`reviewbot cycle` on the mainline-like repository of tests/pulls_build.py: tags read from
the repository (with dates) or with `git ls-remote` (names only)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from tests.pulls_build import World
from tests.sqlfixtures import run

pytestmark = [pytest.mark.corpus, pytest.mark.slow]


def cycle(capsys: pytest.CaptureFixture[str], *args: str, conf: Path | None = None
          ) -> dict[str, object]:
    head = ["--config", str(conf)] if conf else []
    code, out, err = run(capsys, *head, "cycle", "--json", *args)
    assert code == 0, err
    return dict(json.loads(out))


def test_from_a_kernel_repository(capsys: pytest.CaptureFixture[str], world: World) -> None:
    data = cycle(capsys, "--tree", str(world.linux), "--as-of", "2025-07-15")
    assert {k: data[k] for k in ("release", "merge_window_open", "rc", "next_merge_window",
                                 "next_merge_window_latest", "changes_for")} == {
        "release": "v6.15", "merge_window_open": False, "rc": 6,
        "next_merge_window": "2025-07-27", "next_merge_window_latest": "2025-08-03",
        "changes_for": "6.17"}
    assert data["latest_tag_date"] == "2025-07-13T21:00:00+00:00"
    assert data["estimated_dates"] is False


def test_the_window_is_open_after_a_release(capsys: pytest.CaptureFixture[str],
                                            world: World) -> None:
    data = cycle(capsys, "--tree", str(world.linux), "--as-of", "2025-07-30")
    assert (data["release"], data["merge_window_open"], data["rc"]) == ("v6.16", True, None)
    assert data["merge_window_closes"] == "2025-08-10" and data["window_week"] == 1
    _, out, _ = run(capsys, "cycle", "--tree", str(world.linux), "--as-of", "2025-07-30")
    assert out.startswith("v6.16 (2025-07-27): the merge window for 6.17 is open (week 1); "
                          "-rc1 expected 2025-08-10\n")


def test_ls_remote_names_without_dates(capsys: pytest.CaptureFixture[str],
                                       world: World) -> None:
    data = cycle(capsys, "--upstream", f"file://{world.linux}", "--as-of",
                 "2025-07-30T12:00:00")
    assert (data["release"], data["merge_window_open"], data["estimated_dates"]) == (
        "v6.16", True, True)
    assert data["latest_tag_date"] == "2025-07-27T00:00:00+00:00"  # the last Sunday


def test_the_settings_kernel_repository_is_the_default(
        capsys: pytest.CaptureFixture[str], world: World, tmp_path: Path) -> None:
    conf = tmp_path / "config.toml"
    conf.write_text(f'maintainers = "{world.linux}"\n')
    data = cycle(capsys, "--as-of", "2025-06-01", conf=conf)
    assert (data["release"], data["merge_window_open"], data["source"]) == (
        "v6.15", True, str(world.linux))


@pytest.mark.parametrize("args,error", [
    (["--tree", "/nonexistent"], "/nonexistent: no such directory"),
    (["--upstream", "file:///nonexistent/linux.git"], "mainline tags from file:///nonexistent"),
])
def test_errors_are_one_line(capsys: pytest.CaptureFixture[str], args: list[str],
                             error: str) -> None:
    code, out, err = run(capsys, "cycle", *args)
    assert code == 1 and out == "" and error in err and err.count("\n") == 1


def test_before_the_first_release_tag(capsys: pytest.CaptureFixture[str], world: World) -> None:
    code, _, err = run(capsys, "cycle", "--tree", str(world.linux), "--as-of", "2025-01-01")
    assert code == 1 and "no mainline release tag (vX.Y) on or before 2025-01-01" in err
