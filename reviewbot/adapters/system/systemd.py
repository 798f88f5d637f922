"""sd_notify(3) over $NOTIFY_SOCKET, without libsystemd: READY, STOPPING, WATCHDOG."""

from __future__ import annotations

import logging
import os
import socket
from collections.abc import Mapping

log = logging.getLogger(__name__)


class Notifier:
    """Sends state strings to systemd; a no-op when not started by systemd."""

    def __init__(self, env: Mapping[str, str]) -> None:
        self._address = env.get("NOTIFY_SOCKET") or None
        usec = env.get("WATCHDOG_USEC", "")
        self.watchdog_interval = int(usec) / 2e6 if usec.isdigit() and int(usec) > 0 else None

    @property
    def enabled(self) -> bool:
        return self._address is not None

    def notify(self, state: str) -> None:
        if self._address is None:
            return
        # A leading "@" names a Linux abstract socket.
        addr = "\0" + self._address[1:] if self._address.startswith("@") else self._address
        try:
            with socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM) as sock:
                sock.connect(addr)
                sock.sendall(state.encode())
        except OSError as exc:
            log.warning("sd_notify %r to %s failed: %s", state, self._address, exc)


def from_environ() -> Notifier:
    return Notifier(os.environ)
