"""A PullMailer that writes each message as a file into a spool directory, for
`git send-email DIR/FILE`, mutt or the maintainer's own MTA to send: reviewbot
itself never talks SMTP here.

Until the outbox (the mail issue) is wired in, this is how `reviewbot pr send`
hands a pull request over. One file per message, not an mbox: mbox quoting
(">From ") would change a body that must stay byte for byte what
`git request-pull` printed. Sending is idempotent by key: a key already spooled
returns the stored Message-ID and writes nothing.
"""

from __future__ import annotations

import email
import email.policy
import os
import re
import uuid
from collections.abc import Callable
from datetime import datetime
from email.utils import parseaddr
from pathlib import Path

from reviewbot.core.pulls.summary import render_email
from reviewbot.ports import PullMail


class SpoolDir:
    def __init__(self, directory: Path, *, x_mailer: str, now: Callable[[], datetime]) -> None:
        self.directory = directory
        self.x_mailer = x_mailer
        self.now = now

    def path_for(self, key: str) -> Path:
        return self.directory / (re.sub(r"[^\w.-]+", "-", key) + ".eml")

    def send(self, mail: PullMail) -> str:
        path = self.path_for(mail.key)
        if path.exists():
            old = email.message_from_bytes(path.read_bytes(), policy=email.policy.default)
            return str(old.get("Message-ID", "")).strip().strip("<>")
        domain = parseaddr(mail.sender)[1].rpartition("@")[2] or "localhost"
        mid = f"{uuid.uuid4().hex}.reviewbot@{domain}"  # no "/": lore URLs stay simple
        text = render_email(mail.sender, mail.to, mail.cc, mail.subject, mail.body,
                            x_mailer=self.x_mailer, message_id=mid, date=self.now())
        self.directory.mkdir(parents=True, exist_ok=True)
        tmp = path.with_suffix(".tmp")
        tmp.write_bytes(text.encode("utf-8"))
        os.replace(tmp, path)  # whole or not at all
        return mid
