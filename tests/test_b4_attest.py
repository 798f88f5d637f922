"""Attestation through b4's own code (issue 7), with REAL DKIM signatures: dkimpy signs
with RSA keys made for the test (openssl, as tests/test_mailcmd.py does); b4 verifies
them through a DNS lookup function that serves the test keys, so nothing leaves the
machine. Without that function b4 does not check DKIM at all: "none", honestly.

End to end: a signed series ingested from an mbox shows "none" in `series` (offline),
and the apply list flags the patch whose signature breaks when DNS is answered.
"""

from __future__ import annotations

import argparse
import json
from datetime import UTC, datetime
from pathlib import Path

import dkim
import pytest

from reviewbot.adapters.b4.attest import B4Attestor, signed, verdict
from reviewbot.adapters.b4.setup import offline
from reviewbot.cli import main
from reviewbot.commands.backlog.queue import attestation_failures
from reviewbot.commands.db import open_app
from reviewbot.core.model import MessageId
from reviewbot.service.backlog.queries import QueueFilter, queue
from tests.test_mailcmd import Dns, _keypair

DATE = "Mon, 03 Nov 2025 10:00:00 +0000"
NOW = datetime(2025, 11, 5, tzinfo=UTC)
DIFF = """---
 drivers/infiniband/core/x.c | 1 +
 1 file changed, 1 insertion(+)

diff --git a/drivers/infiniband/core/x.c b/drivers/infiniband/core/x.c
index 1111111..2222222 100644
--- a/drivers/infiniband/core/x.c
+++ b/drivers/infiniband/core/x.c
@@ -1,3 +1,4 @@
 int a;
+int b{n};
 int c;
 int d;
"""


def patch(n: int, total: int = 2) -> bytes:
    return (f"From: Dev One <dev@kernel.org>\nTo: linux-rdma@vger.kernel.org\n"
            f"Subject: [PATCH {n}/{total}] RDMA/core: add b{n}\nDate: {DATE}\n"
            f"Message-ID: <p{n}@kernel.org>\nIn-Reply-To: <p0@kernel.org>\n"
            f"References: <p0@kernel.org>\n\nAdd b{n}.\n\n"
            f"Signed-off-by: Dev One <dev@kernel.org>\n"
            + DIFF.replace("{n}", str(n))).encode()


COVER = (f"From: Dev One <dev@kernel.org>\nTo: linux-rdma@vger.kernel.org\n"
         f"Subject: [PATCH 0/2] RDMA/core: add b\nDate: {DATE}\nMessage-ID: <p0@kernel.org>\n"
         "\nTwo small additions.\n").encode()
REVIEW = (b"From: Rev Iewer <rev@example.org>\nTo: linux-rdma@vger.kernel.org\n"
          b"Subject: Re: [PATCH 0/2] RDMA/core: add b\nDate: Mon, 03 Nov 2025 12:00:00 +0000\n"
          b"Message-ID: <r1@example.org>\nIn-Reply-To: <p0@kernel.org>\n"
          b"References: <p0@kernel.org>\n\n> Two small additions.\n\n"
          b"Reviewed-by: Rev Iewer <rev@example.org>\n")


@pytest.fixture(scope="module")
def key(tmp_path_factory: pytest.TempPathFactory) -> tuple[bytes, bytes]:
    return _keypair(tmp_path_factory.mktemp("dkim"), "kernel")


@pytest.fixture
def dns(key: tuple[bytes, bytes]) -> Dns:
    d = Dns()
    d.records[b"k2025._domainkey.kernel.org."] = key[1]
    return d


def sign(raw: bytes, key: tuple[bytes, bytes]) -> bytes:
    return bytes(dkim.sign(raw, b"k2025", b"kernel.org", key[0],
                           include_headers=[b"from", b"to", b"subject", b"date",
                                            b"message-id"])) + raw


def test_b4_passes_a_good_signature_and_fails_a_broken_one(
        key: tuple[bytes, bytes], dns: Dns) -> None:
    good = sign(patch(1), key)
    broken = sign(patch(2), key).replace(b"+int b2;", b"+int evil;")
    got = B4Attestor(dns).attest({MessageId("good"): good, MessageId("bad"): broken,
                                  MessageId("plain"): patch(1)})
    assert (got[MessageId("good")].result, got[MessageId("good")].identity) == (
        "pass", "DKIM/kernel.org")
    assert (got[MessageId("bad")].result, got[MessageId("bad")].detail) == (
        "fail", "bad signature")
    assert got[MessageId("plain")].result == "none"
    assert dns.asked and set(dns.asked) == {b"k2025._domainkey.kernel.org."}


def test_unsigned_mail_is_none_as_b4_says_without_asking_it() -> None:
    """No DKIM-Signature or X-Developer-Signature header: the same verdict b4 gives."""
    plain = patch(1)
    assert not signed(plain)
    assert signed(b"X-Developer-Signature: v=1; a=ed25519-sha256\n" + plain)
    assert not signed(plain + b"\nDKIM-Signature: in the body, not a header\n")
    got = B4Attestor().attest({MessageId("plain"): plain})[MessageId("plain")]
    assert (got.result, got.detail) == ("none", "not signed")
    with offline(None):
        assert verdict(plain).result == "none"


def test_offline_b4_does_not_check_dkim(key: tuple[bytes, bytes], dns: Dns) -> None:
    """No network: b4 skips DKIM, so a signed mail is "none" (we could not tell)."""
    got = B4Attestor().attest({MessageId("good"): sign(patch(1), key)})
    assert got[MessageId("good")].result == "none"
    with offline(None):
        assert verdict(sign(patch(1), key)) == got[MessageId("good")]
    assert dns.asked == []


def test_series_and_the_apply_list_show_attestation(
        key: tuple[bytes, bytes], dns: Dns, tmp_path: Path, db_url: str,
        capsys: pytest.CaptureFixture[str]) -> None:
    """Ingested from an mbox (bytes kept as they came), the signed series shows "none"
    per patch offline; with DNS answered, the apply list flags patch 2, whose body was
    changed after signing. `am` writes it all the same (b4 softfails)."""
    broken = sign(patch(2), key).replace(b"+int b2;", b"+int evil;")
    box = tmp_path / "thread.mbox"
    box.write_bytes(b"".join(b"From mboxrd@z Thu Jan  1 00:00:00 1970\n" + m + b"\n"
                             for m in (sign(COVER, key), sign(patch(1), key), broken,
                                       REVIEW)))
    conf = tmp_path / "config.toml"
    conf.write_text(f'database = "{db_url}"\n', encoding="utf-8")
    assert main(["--config", str(conf), "ingest", "--list", "linux-rdma", "--mbox",
                 str(box)]) == 0
    capsys.readouterr()
    assert main(["--config", str(conf), "series", "p0@kernel.org", "--json", "--as-of",
                 "2025-11-05"]) == 0
    shown = json.loads(capsys.readouterr().out)
    assert [p["attestation"]["result"] for p in shown["patches"]] == ["none", "none"]
    assert shown["state"] == "reviewed"
    app = open_app(argparse.Namespace(config=str(conf), db=None))
    ready = queue(app.reader, app.ctx, NOW, None, QueueFilter(ready=True))
    assert [e.summary.series_id for e in ready.entries] == ["p0@kernel.org"]
    assert attestation_failures(app, ready) == {"p0@kernel.org": ()}
    assert attestation_failures(app, ready, B4Attestor(dns)) == {"p0@kernel.org": (2,)}
    assert main(["--config", str(conf), "am", "p1@kernel.org", "-o",
                 str(tmp_path / "am")]) == 0
    out = capsys.readouterr().out
    assert "b4 shazam -v 1 p0@kernel.org" in out
    [cover] = (tmp_path / "am").glob("*.cover")
    assert "Two small additions." in cover.read_text()
    [mbx] = (tmp_path / "am").glob("*.mbx")
    assert mbx.read_text().count("Reviewed-by: Rev Iewer <rev@example.org>") == 2
