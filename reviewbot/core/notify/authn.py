"""Is a command mail really from its From: address? The pure half: DKIM alignment,
and reading a trusted relay's Authentication-Results (RFC 8601).

The DKIM signatures themselves are verified by adapters/mail/dkim.py (dkimpy);
this module decides what a passing signature proves: that the From domain
signed it (the same domain, or From is a subdomain of the signer).
"""

from __future__ import annotations

import re
from collections.abc import Iterable

from reviewbot.core.notify.commands import CommandMail

_COMMENT = re.compile(r"\([^()]*\)")


def aligned(from_domain: str, signing_domain: str) -> bool:
    """DMARC-style relaxed alignment without a public-suffix list: From's domain is
    the signer's or one of its subdomains (never the other way round)."""
    f, d = from_domain.lower().rstrip("."), signing_domain.lower().rstrip(".")
    return bool(d) and (f == d or f.endswith("." + d))


def from_domain(mail: CommandMail) -> str:
    return mail.sender.rpartition("@")[2] if "@" in mail.sender else ""


def relay_dkim_domains(results: Iterable[str], authserv_id: str) -> tuple[str, ...] | None:
    """The domains with dkim=pass in the topmost Authentication-Results header that
    `authserv_id` (our own relay) added; None if there is no such header.

    Only the topmost one counts: a relay strips or sits above forged copies of its
    own header (RFC 8601 §5), anything below it came from outside.
    """
    for value in results:
        clauses = [c.strip() for c in _COMMENT.sub("", value).split(";")]
        if not clauses or clauses[0].split()[:1] != [authserv_id]:
            continue
        domains = []
        for clause in clauses[1:]:
            words = clause.split()
            if not words or words[0].lower() != "dkim=pass":
                continue
            props = dict(w.split("=", 1) for w in words[1:] if "=" in w)
            d = props.get("header.d") or props.get("header.i", "").rpartition("@")[2]
            if d:
                domains.append(d.lower())
        return tuple(domains)
    return None
