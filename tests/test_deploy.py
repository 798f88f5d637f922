"""deploy/: the systemd unit verifies and stays hardened; the container file runs `run`."""

from __future__ import annotations

import re
import shutil
import subprocess
import sys
from pathlib import Path

from tests.conftest import REPO_ROOT
from tests.containerfile import command, healthcheck, image_env

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


def test_unit_leaves_the_database_to_the_settings_and_reloads_with_sighup() -> None:
    """No Environment= overrides `database =` of the settings (the default is
    $STATE_DIRECTORY/reviewbot.db); `systemctl reload` sends SIGHUP."""
    text = UNIT.read_text()
    assert "REVIEWBOT_DATABASE_URL" not in text
    assert re.search(r"^ExecReload=/bin/kill -HUP \$MAINPID$", text, re.M)
    assert "--config" not in text  # the lookup finds $CONFIGURATION_DIRECTORY/config.toml


CONTAINERFILE = REPO_ROOT / "deploy" / "Containerfile"


def test_container_file_runs_the_daemon_as_non_root() -> None:
    """The image runs `reviewbot run` as the reviewbot user under an init that forwards
    signals, and waits for settings instead of failing when none is mounted."""
    text = CONTAINERFILE.read_text()
    assert "USER reviewbot" in text
    assert 'CMD ["run", "--wait-for-config"]' in text
    assert "tini" in text
    assert "REVIEWBOT_CONFIG" not in text and "REVIEWBOT_DATABASE_URL" not in text
    for path in re.findall(r"^COPY (\S+)", text, re.M):
        assert (REPO_ROOT / path).exists(), f"Containerfile copies missing {path}"


def test_container_health_check_runs_reviewbot_health() -> None:
    """HEALTHCHECK runs `reviewbot health` (test_installed.py runs it as the image would),
    with a start period for the first polls; the image runs the daemon under tini."""
    options, cmd = healthcheck()
    assert cmd == ["reviewbot", "health"]
    assert any(o.startswith("--start-period=") for o in options)
    assert command() == ["/usr/bin/tini", "--", "reviewbot", "run", "--wait-for-config"]
    assert image_env()["XDG_STATE_HOME"] == "/var/lib"  # the database in the volume


def test_container_layers_put_dependencies_before_the_code() -> None:
    """Editing reviewbot's code must not rebuild the dependency layer: pyproject.toml is
    copied and installed before the sources are copied."""
    lines = CONTAINERFILE.read_text().splitlines()
    copies = [n for n, line in enumerate(lines) if line.startswith("COPY ")]
    deps = next(n for n, line in enumerate(lines) if "pip install --no-cache-dir ." in line)
    code = next(n for n in copies if lines[n].startswith("COPY reviewbot"))
    assert lines[copies[0]].startswith("COPY pyproject.toml") and copies[0] < deps < code
    assert any("--no-deps" in line for line in lines[code:])
