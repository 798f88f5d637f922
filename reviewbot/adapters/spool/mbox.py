"""A PullMailer that appends each message to an mbox file, for `git send-email`, mutt or
the maintainer's own MTA to send: reviewbot itself never talks SMTP here.

Until the outbox (the mail issue) is wired in, this is how `reviewbot pr send`
hands a pull request over. Sending is idempotent by key: a key already in the
file returns the stored Message-ID and writes nothing.
"""

from __future__ import annotations

import email
import email.policy
import mailbox
import uuid
from collections.abc import Callable
from datetime import datetime
from email.utils import parseaddr
from pathlib import Path

from reviewbot.core.pulls.summary import render_email
from reviewbot.ports import OutgoingMail

KEY_HEADER = "X-Reviewbot-Key"


class MboxSpool:
    def __init__(self, path: Path, *, x_mailer: str, now: Callable[[], datetime]) -> None:
        self.path = path
        self.x_mailer = x_mailer
        self.now = now

    def _sent(self, box: mailbox.mbox, key: str) -> str | None:
        for msg in box:
            if msg.get(KEY_HEADER) == key:
                return str(msg.get("Message-ID", "")).strip().strip("<>")
        return None

    def send(self, mail: OutgoingMail) -> str:
        self.path.parent.mkdir(parents=True, exist_ok=True)
        box = mailbox.mbox(self.path, create=True)
        box.lock()
        try:
            found = self._sent(box, mail.key)
            if found is not None:
                return found
            domain = parseaddr(mail.sender)[1].rpartition("@")[2] or "localhost"
            mid = f"{uuid.uuid4().hex}.reviewbot@{domain}"  # no "/": lore URLs stay simple
            text = render_email(mail.sender, mail.to, mail.cc, mail.subject, mail.body,
                                x_mailer=self.x_mailer, message_id=mid, date=self.now())
            msg = email.message_from_bytes(text.encode("utf-8"), policy=email.policy.default)
            msg[KEY_HEADER] = mail.key
            box.add(msg)
            box.flush()
            return mid
        finally:
            box.unlock()
            box.close()
