"""Addresses in settings and outgoing mail (cheap to import: the settings use them)."""

from __future__ import annotations

from email.utils import parseaddr

DEFAULT_LORE = "https://lore.kernel.org"


def address_of(entry: str) -> str:
    """`Name <a@x>` or `a@x` -> `a@x` (case kept: the local part is the server's business)."""
    return parseaddr(entry)[1]


def domain_of(entry: str) -> str:
    addr = address_of(entry)
    return addr.rpartition("@")[2] if "@" in addr else ""
