"""`reviewbot policy check` and the policy loader that keeps the last good set."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path

import pytest

import reviewbot
from reviewbot.adapters.kernel.policy_files import PolicyStore, load_policies
from reviewbot.cli import main
from reviewbot.core.policy.schema import PolicyError

SHIPPED = Path(__file__).resolve().parents[1] / "policies"
RDMA = '[subsystem]\nsections = ["INFINIBAND SUBSYSTEM"]\n'


def test_shipped_policies_pass(capsys: pytest.CaptureFixture[str]) -> None:
    """The policies/ directory in the repository is valid."""
    assert main(["policy", "check", str(SHIPPED)]) == 0
    assert capsys.readouterr().out.splitlines() == [
        f"{SHIPPED / 'default.toml'}: OK", f"{SHIPPED / 'infiniband.toml'}: OK"]


def test_shipped_infiniband_policy_matches_maintainers(kernel_maintainers: Path) -> None:
    """The RDMA policy names the real section, its list and its tree from MAINTAINERS."""
    text = kernel_maintainers.read_text(encoding="utf-8")
    section = text[text.index("\nINFINIBAND SUBSYSTEM\n"):].split("\n\n")[0]
    policy = load_policies(SHIPPED).for_subsystem("INFINIBAND SUBSYSTEM")
    assert policy.name == "infiniband"
    assert f"L:\t{policy.lists[0]}" in section
    assert f"T:\tgit {policy.tree.url}" in section
    assert policy.tree.branches == ("for-next", "for-rc")
    assert policy.sla.stale_after == timedelta(days=60)  # overridden
    assert policy.sla.followup_review == timedelta(days=7)  # from default.toml


def test_default_path_is_the_shipped_policies(
    capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    """Without PATH or settings, the policies shipped inside the package are checked,
    never a policies/ directory that happens to be in the working directory."""
    (tmp_path / "policies").mkdir()
    (tmp_path / "policies" / "default.toml").write_text("[nag]\nenabled = maybe\n")
    monkeypatch.chdir(tmp_path)
    for var in ("REVIEWBOT_POLICIES", "REVIEWBOT_CONFIG", "CONFIGURATION_DIRECTORY",
                "XDG_CONFIG_HOME"):
        monkeypatch.delenv(var, raising=False)
    monkeypatch.setenv("HOME", str(tmp_path))
    assert main(["policy", "check"]) == 0
    shipped = Path(reviewbot.__file__).parent / "policies"
    assert capsys.readouterr().out == (f"{shipped / 'default.toml'}: OK\n"
                                       f"{shipped / 'infiniband.toml'}: OK\n")
    monkeypatch.setenv("REVIEWBOT_POLICIES", "policies")
    assert main(["policy", "check"]) == 1


def test_errors_print_file_line_reason_and_exit_1(
    capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    """A bad file gets its errors, the good one its OK, and the exit status is 1."""
    (tmp_path / "default.toml").write_text("[sla]\napply = \"7d\"\n")
    (tmp_path / "rdma.toml").write_text(RDMA + "time_zone = \"Mars/Olympus\"\n[nag]\nnags = 3\n")
    assert main(["policy", "check", str(tmp_path)]) == 1
    assert capsys.readouterr().out.splitlines() == [
        f"{tmp_path / 'default.toml'}: OK",
        f"{tmp_path / 'rdma.toml'}:3: subsystem.time_zone: unknown time zone 'Mars/Olympus' "
        "(use an IANA name such as \"Europe/Berlin\")",
        f"{tmp_path / 'rdma.toml'}:5: unknown key 'nags' in [nag] (known: enabled, first_after, "
        "cadence, per_reviewer_series_week, per_reviewer_week, global_daily, opt_in)",
    ]


def test_a_single_file_can_be_checked(capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
    """PATH may be one file."""
    f = tmp_path / "rdma.toml"
    f.write_text(RDMA + "[sla]\nstale_after = \"forever\"\n")
    assert main(["policy", "check", str(f)]) == 1
    assert capsys.readouterr().out.startswith(f"{f}:4: sla.stale_after: bad duration 'forever'")


def test_missing_path_is_an_error(capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
    """A path that does not exist is reported, exit 1."""
    assert main(["policy", "check", str(tmp_path / "nope")]) == 1
    assert capsys.readouterr().out == f"{tmp_path / 'nope'}: no such file or directory\n"


class TestPolicyStore:
    def test_bad_policy_refuses_the_first_load(self, tmp_path: Path) -> None:
        """At start a bad policy raises, so the daemon refuses to start."""
        (tmp_path / "default.toml").write_text("[sla]\napply = 7\n")
        with pytest.raises(PolicyError) as exc:
            PolicyStore(tmp_path).load()
        assert [i.line for i in exc.value.issues] == [2]

    def test_bad_edit_keeps_the_last_good_set_and_says_why(self, tmp_path: Path) -> None:
        """A broken edit is refused with its reason; fixing it applies the new values."""
        f = tmp_path / "default.toml"
        f.write_text('[sla]\napply = "7d"\n')
        store = PolicyStore(tmp_path)
        store.load()
        assert store.reload_if_changed().changed is False

        f.write_text('[sla]\napply = "7 days"\n')
        result = store.reload_if_changed()
        assert (result.changed, result.applied) == (True, False)
        assert store.current.default.sla.apply == timedelta(days=7)
        assert result.message.startswith(
            f"policy edit refused, keeping the last good set: {f}:2: sla.apply: bad duration")
        assert store.last_error == result.issues
        assert store.reload_if_changed().changed is False  # reported once

        f.write_text('[sla]\napply = "3d"\n')
        result = store.reload_if_changed()
        assert (result.changed, result.applied, result.message) == (
            True, True, "policies reloaded")
        assert store.current.default.sla.apply == timedelta(days=3)
        assert store.last_error == ()

    def test_a_new_subsystem_file_is_picked_up(self, tmp_path: Path) -> None:
        """Adding a file is a change too."""
        (tmp_path / "default.toml").write_text("")
        store = PolicyStore(tmp_path)
        store.load()
        (tmp_path / "rdma.toml").write_text(RDMA)
        assert store.reload_if_changed().applied is True
        assert store.current.for_subsystem("INFINIBAND SUBSYSTEM").name == "rdma"


def test_settings_file_names_the_policy_directory(
    capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    """`[policy] dir` in the settings file (relative to it) is the default PATH."""
    (tmp_path / "pol").mkdir()
    (tmp_path / "pol" / "default.toml").write_text("")
    settings = tmp_path / "config.toml"
    settings.write_text('[policy]\ndir = "pol"\n')
    monkeypatch.delenv("REVIEWBOT_POLICIES", raising=False)
    assert main(["--config", str(settings), "policy", "check"]) == 0
    assert capsys.readouterr().out == f"{tmp_path / 'pol' / 'default.toml'}: OK\n"
    settings.write_text('[policy]\ndirectory = "pol"\n')
    assert main(["--config", str(settings), "policy", "check"]) == 1
    assert capsys.readouterr().err == (f"reviewbot: error: {settings}:2: [policy]: unknown "
                                       "key(s) directory (known: dir)\n")
