"""The `[mail] smtp` URL: where and how to send. Pure.

    smtp://host[:port]            plain SMTP (port 25); STARTTLS is not attempted
    smtp+starttls://host[:port]   STARTTLS required (port 587)
    smtps://host[:port]           TLS from the first byte (port 465)

A user goes in the URL (`smtp+starttls://bot%40example.org@mail.example.org`);
the password never does: it comes from $REVIEWBOT_SMTP_PASSWORD or a
password_file (config.MailSettings.password).
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum
from urllib.parse import unquote, urlsplit


class SmtpTls(StrEnum):
    NONE = "none"
    STARTTLS = "starttls"
    IMPLICIT = "implicit"


SCHEMES = {"smtp": (SmtpTls.NONE, 25), "smtp+starttls": (SmtpTls.STARTTLS, 587),
           "smtps": (SmtpTls.IMPLICIT, 465)}


@dataclass(frozen=True, slots=True)
class SmtpTarget:
    host: str
    port: int
    tls: SmtpTls
    user: str | None = None

    def __str__(self) -> str:  # for logs and errors: never a password
        scheme = next(s for s, (t, _) in SCHEMES.items() if t is self.tls)
        user = f"{self.user}@" if self.user else ""
        return f"{scheme}://{user}{self.host}:{self.port}"


def parse_smtp_url(url: str) -> SmtpTarget:
    """ValueError with the reason when `url` is not one of the three forms."""
    parts = urlsplit(url)
    if parts.scheme not in SCHEMES:
        raise ValueError(f"smtp URL {url!r}: scheme must be one of "
                         f"{', '.join(s + '://' for s in SCHEMES)}")
    if parts.password is not None:
        raise ValueError("smtp URL: no password in the URL (use $REVIEWBOT_SMTP_PASSWORD "
                         "or password_file)")
    if parts.path not in ("", "/") or parts.query or parts.fragment:
        raise ValueError(f"smtp URL {url!r}: only [user@]host[:port]")
    try:
        port = parts.port
    except ValueError as exc:
        raise ValueError(f"smtp URL {url!r}: {exc}") from None
    if not parts.hostname:
        raise ValueError(f"smtp URL {url!r}: no host")
    tls, default_port = SCHEMES[parts.scheme]
    user = unquote(parts.username) if parts.username else None
    return SmtpTarget(parts.hostname, port or default_port, tls, user)
