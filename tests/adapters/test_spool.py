"""The spool-directory PullMailer: what `pr send` hands over until the outbox is wired in."""

from __future__ import annotations

import email
import email.policy
from dataclasses import replace
from datetime import UTC, datetime
from email.message import EmailMessage
from pathlib import Path

from reviewbot.adapters.spool.files import SpoolDir
from reviewbot.ports import PullMail

NOW = datetime(2025, 7, 24, 12, tzinfo=UTC)
BODY = "Hi Linus,\n\nFrom the start of a line, and \u00fcml\u00e4uts.\n" + "x" * 300 + "\n"
MAIL = PullMail("pull:1", "Leon Romanovsky <leon@kernel.org>",
                    ("Linus Torvalds <torvalds@linux-foundation.org>",),
                    ("linux-rdma@vger.kernel.org",), "[GIT PULL] RDMA changes for v6.17", BODY)


def test_one_file_per_key_with_the_body_byte_for_byte(tmp_path: Path) -> None:
    spool = SpoolDir(tmp_path / "outbox", x_mailer="reviewbot/t", now=lambda: NOW)
    mid = spool.send(MAIL)
    assert "/" not in mid and mid.endswith("@kernel.org")
    assert spool.send(MAIL) == mid  # a retry after a crash sends nothing new
    assert spool.send(replace(MAIL, key="pull:2")) != mid
    assert sorted(p.name for p in (tmp_path / "outbox").iterdir()) == ["pull-1.eml",
                                                                      "pull-2.eml"]
    msg = email.message_from_bytes((tmp_path / "outbox" / "pull-1.eml").read_bytes(),
                                   policy=email.policy.default)
    assert isinstance(msg, EmailMessage)
    assert msg.get_content() == BODY  # no ">From " quoting, no re-wrapping
    assert msg["Message-ID"] == f"<{mid}>"
    assert msg["Date"] == "Thu, 24 Jul 2025 12:00:00 +0000"
    assert msg["To"] == "Linus Torvalds <torvalds@linux-foundation.org>"
    assert msg["Content-Transfer-Encoding"] == "8bit"
