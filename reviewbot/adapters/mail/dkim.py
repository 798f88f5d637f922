"""The DkimVerifier port over dkimpy. Blocking (DNS): call it from a worker thread.

`dnsfunc(name: bytes, timeout: int) -> bytes` looks up the TXT record of
`<selector>._domainkey.<domain>.`; the default is dkimpy's (dnspython), tests
pass a function that answers with a test key.
"""

from __future__ import annotations

import hashlib
import logging
import re
from collections.abc import Callable

import dkim  # type: ignore[import-untyped]  # dkimpy ships no type hints

from reviewbot.ports import DkimCheck

log = logging.getLogger(__name__)

DnsFunc = Callable[..., bytes | None]
_SIG_HEADER = re.compile(rb"^dkim-signature:", re.IGNORECASE | re.MULTILINE)


class DkimpyVerifier:
    def __init__(self, dnsfunc: DnsFunc | None = None, *, minkey: int = 1024,
                 timeout: int = 5) -> None:
        self.dnsfunc: DnsFunc = dnsfunc or dkim.dnsplug.get_txt
        self.minkey = minkey
        self.timeout = timeout

    def verify(self, raw: bytes) -> DkimCheck:
        """Every DKIM-Signature of `raw`, each verified on its own."""
        count = len(_SIG_HEADER.findall(_header_block(raw)))
        passed: list[tuple[str, str]] = []
        errors: list[str] = []
        for idx in range(count):
            d = dkim.DKIM(raw, minkey=self.minkey, timeout=self.timeout)
            try:
                ok = d.verify(idx=idx, dnsfunc=self.dnsfunc)
            except dkim.DKIMException as exc:
                errors.append(f"signature {idx + 1}: {exc}")
                continue
            domain = (d.domain or b"").decode("ascii", "replace").lower()
            if ok:
                b = d.signature_fields.get(b"b", b"")
                passed.append((domain, hashlib.sha256(b"".join(b.split())).hexdigest()))
            else:
                errors.append(f"signature {idx + 1} (d={domain}): does not verify")
        return DkimCheck(count, tuple(passed), tuple(errors))


def _header_block(raw: bytes) -> bytes:
    end = raw.find(b"\n\n")
    crlf = raw.find(b"\r\n\r\n")
    cut = min(x for x in (end, crlf, len(raw)) if x != -1)
    return raw[:cut]
