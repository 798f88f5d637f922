"""The upstream-debt report end to end: the vendor's `ofed` branch (tests/pulls_build.py) of
real corpus patches, against mainline, with the corpus ingested and the maintainer's
for-next polled by applied detection."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from reviewbot.core.pulls.debt import debt_metric
from tests.conftest import KERNEL_MAINTAINERS
from tests.pulls_build import EXPIRED, IN_TREE, WAITING_AUTHOR, WAITING_REVIEW, World, git
from tests.sqlfixtures import run

pytestmark = [pytest.mark.corpus, pytest.mark.slow]


def debt(capsys: pytest.CaptureFixture[str], db: str, world: World, *args: str,
         conf: Path | None = None) -> dict[str, Any]:
    head = ["--config", str(conf)] if conf else []
    code, out, err = run(capsys, *head, "--db", db, "debt", "--tree", str(world.vendor),
                         "--branch", "ofed", "--upstream", "origin/master", "--as-of",
                         "2025-07-12", "--json", *args)
    assert code == 0, err
    return dict(json.loads(out))


def test_every_commit_lands_in_its_class(capsys: pytest.CaptureFixture[str], world: World,
                                         world_db: str) -> None:
    data = debt(capsys, world_db, world)
    by_sha = {c["commit"]: c for c in data["commits"]}
    assert set(by_sha) == set(world.ofed.values())  # every commit not upstream by ancestry
    got = {name: by_sha[sha]["class"] for name, sha in world.ofed.items()}
    assert got == {
        "upstream_same": "upstream", "upstream_edited": "upstream",
        "in_tree": "in_maintainer_tree", "waiting_review": "waiting_on_reviewers",
        "waiting_review_2": "waiting_on_reviewers", "waiting_author": "waiting_on_author",
        "expired": "rejected_or_expired", "never_posted": "never_posted"}
    assert data["totals"] == {"upstream": 2, "in_maintainer_tree": 1,
                              "waiting_on_reviewers": 2, "waiting_on_author": 1,
                              "rejected_or_expired": 1, "never_posted": 1}
    series = {name: (by_sha[sha]["series_id"], by_sha[sha]["state"])
              for name, sha in world.ofed.items()}
    assert series["in_tree"] == (IN_TREE, "applied")
    assert series["waiting_review"] == (WAITING_REVIEW[0], "new")
    assert series["waiting_author"] == (WAITING_AUTHOR, "changes_requested")
    assert series["expired"] == (EXPIRED, "under_review")
    assert series["never_posted"] == (None, None)
    reasons = {name: by_sha[sha]["reason"] for name, sha in world.ofed.items()}
    assert reasons["upstream_same"].startswith("an equivalent patch is upstream")
    mainline_sha = git(world.linux, "log", "--format=%h", "--abbrev=12", "-1", "--grep",
                       "siw_mem_add", "master").strip()
    assert reasons["upstream_edited"] == f"upstream as {mainline_sha} (same subject and author)"
    tree_sha = world.good[IN_TREE]
    assert reasons["in_tree"] == f"applied to for-next of {world.rdma} as {tree_sha[:12]}"
    assert reasons["expired"].startswith("expired: no activity for ")
    link = by_sha[world.ofed["waiting_author"]]["link"]
    assert link == f"https://lore.kernel.org/r/{WAITING_AUTHOR}"


def test_postings_match_whatever_their_dates(capsys: pytest.CaptureFixture[str], world: World,
                                             world_db: str) -> None:
    """The vendor committed these before posting them; they still match their postings."""
    data = debt(capsys, world_db, world)
    by_sha = {c["commit"]: c for c in data["commits"]}
    for name in ("in_tree", "waiting_author"):
        c = by_sha[world.ofed[name]]
        assert c["committed"] < "2025-07-10" and c["match"] == "patch-id", c


def test_since_breakdowns_and_the_trend(capsys: pytest.CaptureFixture[str], world: World,
                                        world_db: str, tmp_path: Path) -> None:
    conf = tmp_path / "config.toml"
    conf.write_text(f'maintainers = "{KERNEL_MAINTAINERS}"\n')
    first = debt(capsys, world_db, world, "--record", conf=conf)
    assert first["trend"] == {}
    assert first["by_subsystem"]["MEMORY MANAGEMENT"]["rejected_or_expired"] == 1
    assert first["by_author_domain"]["vendor.example"]["never_posted"] == 1
    later = debt(capsys, world_db, world, "--since", "2025-06-20")
    assert sum(later["totals"].values()) == 4  # in_tree, 2 waiting on reviewers, author
    assert later["trend"]["upstream"] == -2 and later["trend"]["never_posted"] == 0
    assert debt_metric("ofed", later["totals"])[("ofed", "waiting_on_reviewers")] == 2


def test_the_text_report_says_where_debt_is_stuck(capsys: pytest.CaptureFixture[str],
                                                  world: World, world_db: str) -> None:
    code, out, _ = run(capsys, "--db", world_db, "debt", "--tree", str(world.vendor),
                       "--branch", "ofed", "--upstream", "origin/master", "--as-of",
                       "2025-07-12")
    assert code == 0
    assert out.startswith(f"upstream debt of ofed against origin/master in {world.vendor}, "
                          "as of 2025-07-12: 8 commits\n\nnever posted: send them: 1\n")
    assert "waiting on the author: changes requested: 1\n" in out
    assert "RDMA/mlx5: Vendor-specific tuning knob" in out


@pytest.mark.parametrize("args,error", [
    (["--branch", "nope", "--upstream", "origin/master"], "'nope' names no commit"),
    (["--branch", "ofed", "--upstream", "nope"], "'nope' names no commit"),
])
def test_bad_refs_are_one_clear_line(capsys: pytest.CaptureFixture[str], world: World,
                                     world_db: str, args: list[str], error: str) -> None:
    code, out, err = run(capsys, "--db", world_db, "debt", "--tree", str(world.vendor), *args)
    assert code == 1 and out == "" and error in err and err.count("\n") == 1
