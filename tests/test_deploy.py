"""deploy/: the systemd unit verifies and stays hardened; the container file runs `run`."""

from __future__ import annotations

import re
import shutil
import subprocess
import sys
from pathlib import Path

from tests.conftest import REPO_ROOT

UNIT = REPO_ROOT / "deploy" / "reviewbot.service"


def _unit_for_this_venv(tmp_path: Path) -> Path:
    # systemd-analyze verify checks that ExecStart's binary exists: point it at ours.
    exe = Path(sys.executable).with_name("reviewbot")
    text = UNIT.read_text().replace("/opt/reviewbot/venv/bin/reviewbot", str(exe))
    unit = tmp_path / "reviewbot.service"
    unit.write_text(text)
    return unit


def test_systemd_unit_verifies(tmp_path: Path) -> None:
    """`systemd-analyze verify` accepts the unit (no unknown keys, executables exist)."""
    analyze = shutil.which("systemd-analyze")
    assert analyze, "systemd-analyze is part of Debian's systemd package"
    out = subprocess.run([analyze, "verify", str(_unit_for_this_venv(tmp_path))],
                         capture_output=True, text=True)
    assert out.returncode == 0, out.stderr
    assert "reviewbot.service" not in out.stderr, out.stderr


def test_systemd_unit_exposure_is_at_most_3(tmp_path: Path) -> None:
    """`systemd-analyze security` rates the unit's exposure 3.0 or less (conventions §8)."""
    out = subprocess.run(["systemd-analyze", "security", "--offline=yes",
                          str(_unit_for_this_venv(tmp_path))], capture_output=True, text=True)
    level = re.search(r"Overall exposure level for \S+: ([\d.]+)", out.stdout)
    assert level, out.stdout + out.stderr
    assert float(level.group(1)) <= 3.0


def test_unit_is_notify_type_with_watchdog_and_state_directories() -> None:
    """Readiness and watchdog go through sd_notify; state lives in systemd's directories."""
    text = UNIT.read_text()
    for line in ("Type=notify", "WatchdogSec=60", "Restart=on-failure", "TimeoutStopSec=60",
                 "StateDirectory=reviewbot", "CacheDirectory=reviewbot",
                 "ConfigurationDirectory=reviewbot", "NoNewPrivileges=yes",
                 "ProtectSystem=strict", "CapabilityBoundingSet=", "UMask=0077"):
        assert re.search(rf"^{re.escape(line)}$", text, re.M), line


def test_container_file_runs_the_daemon_as_non_root() -> None:
    """The image runs `reviewbot run` as the reviewbot user under an init that forwards signals."""
    text = (REPO_ROOT / "deploy" / "Containerfile").read_text()
    assert "USER reviewbot" in text
    assert 'CMD ["run"]' in text
    assert "tini" in text
    for path in re.findall(r"^COPY (\S+)", text, re.M):
        assert (REPO_ROOT / path).exists(), f"Containerfile copies missing {path}"
