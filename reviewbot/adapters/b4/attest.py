"""Per-message attestation as b4 reports it: DKIM or patatt, "pass", "fail" or "none".

b4 decides (LoreMessage.get_attestation_status with its `attestation-policy`, softfail
by default): a passing signature is "pass"; a bad one (or a DKIM check that failed) is
"fail"; no signature, or a patatt signature whose key we do not have, is "none".
Offline, b4 does not check DKIM at all, so a DKIM-signed mail is "none": we could not
tell, and say so.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

import b4

from reviewbot.adapters.b4.setup import DnsFunc, offline, parse
from reviewbot.core.model import MessageId


@dataclass(frozen=True, slots=True)
class Attestation:
    result: str  # "pass", "fail" or "none"
    identity: str = ""  # "DKIM/kernel.org", "ed25519/leon@kernel.org"
    detail: str = ""  # why "none" or "fail" when b4 says more ("no key", a From mismatch)

    def __str__(self) -> str:
        who = f" ({self.identity})" if self.identity else ""
        why = f": {self.detail}" if self.detail else ""
        return f"{self.result}{who}{why}"


NONE = Attestation("none", detail="not signed, or not checked offline")


def verdict(raw: bytes) -> Attestation:
    """b4's verdict on one mail (inside `offline`)."""
    lmsg = b4.LoreMessage(parse(raw))
    atts, _passing, _critical = lmsg.get_attestation_status("softfail")
    if not atts:
        return NONE
    good = [a for a in atts if a["passing"]]
    if good:
        a = good[0]
        mismatch = f"signer is not From: {a['mismatch']}" if "mismatch" in a else ""
        return Attestation("pass", a["identity"], mismatch)
    bad = [a for a in atts if a["status"] == "badsig"]
    if bad:
        return Attestation("fail", bad[0]["identity"], "bad signature")
    return Attestation("none", atts[0]["identity"], "signed, but we have no key for it")


class B4Attestor:
    """Attestation of stored mail through b4. `dnsfunc` answers DKIM key lookups locally
    (tests); without it nothing leaves the machine and DKIM is not checked."""

    def __init__(self, dnsfunc: DnsFunc | None = None) -> None:
        self.dnsfunc = dnsfunc

    def attest(self, raws: Mapping[MessageId, bytes]) -> dict[MessageId, Attestation]:
        with offline(self.dnsfunc):
            return {mid: verdict(raw) for mid, raw in raws.items()}
