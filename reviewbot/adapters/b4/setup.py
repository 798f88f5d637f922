"""b4 as a library: its configuration, its logger and its network switch, set up once
and held for the length of one call."""

from __future__ import annotations

import argparse
import email.parser
import logging
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from email.message import EmailMessage
from functools import partial
from types import SimpleNamespace

import b4
import dkim  # type: ignore[import-untyped]

# dkimpy's TXT lookup: (name, timeout) -> record or None. Tests serve their keys with one.
DnsFunc = Callable[..., bytes | None]

_configured = False


def configured() -> None:
    """b4 reads its settings (and the user's) from git config, as the b4 command does."""
    global _configured
    if not _configured:
        b4.setup_config(argparse.Namespace(config=None))
        _configured = True


def parse(raw: bytes) -> EmailMessage:
    """One stored mail as b4 parses mail (its policy, its message class)."""
    msg = email.parser.BytesParser(policy=b4.emlpolicy, _class=EmailMessage).parsebytes(raw)
    assert isinstance(msg, EmailMessage)
    return msg


class _Lines(logging.Handler):
    def __init__(self) -> None:
        super().__init__(logging.INFO)
        self.lines: list[str] = []

    def emit(self, record: logging.LogRecord) -> None:
        self.lines.append(record.getMessage())


@contextmanager
def offline(dnsfunc: DnsFunc | None = None) -> Iterator[list[str]]:
    """b4 with no network: no lore lookups, no DNS. DKIM signatures are then not checked
    (b4 skips them without network: "none"), unless `dnsfunc` answers the key lookups
    locally, which b4's own DKIM check then uses. Yields b4's log lines (what `b4 am`
    would print), kept from our stderr."""
    configured()
    # b4 calls `dkim.verify` through its module global: the one seam for a local DNS.
    names = vars(b4)
    saved = (b4.can_network, names["dkim"], b4.logger.propagate, b4.logger.level)
    lines = _Lines()
    b4.can_network = dnsfunc is not None
    if dnsfunc is not None:
        names["dkim"] = SimpleNamespace(verify=partial(dkim.verify, dnsfunc=dnsfunc))
    b4.logger.addHandler(lines)
    b4.logger.propagate = False
    b4.logger.setLevel(logging.INFO)
    try:
        yield lines.lines
    finally:
        b4.logger.removeHandler(lines)
        b4.can_network, b4.logger.propagate = saved[0], saved[2]
        names["dkim"] = saved[1]
        b4.logger.setLevel(saved[3])
