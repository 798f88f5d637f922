"""Two weeks of the 2025 corpus through the daemon, on a simulated clock, against a real
SMTP server (aiosmtpd on 127.0.0.1, port 0), with a crash in the middle.

The clock starts 2025-06-01 00:00 UTC and moves in two-hour steps to 2025-06-15. Each
step does what the daemon does in a round: poll the list (only mail that had arrived
by then), plan (digests, reminders), read email commands from the commands maildir,
send from the outbox. On 2025-06-09, while the digest is being queued, the process
"dies" (an exception no handler catches) and everything is built again from the
database, as a restart would. The INFINIBAND policy sends digests on Monday and
Thursday at 09:00 America/Halifax, reminders to its M:/R: who opted in, and the
cycle report after each merge window; mainline tags (a local repository) say the
merge window of 6.16 is open until -rc1 on June 8. The "crash" is in-process (an
exception nothing catches, then every object built anew from the database); the
kill -9 of a real sending process is tests/test_outbox_kill.py.
"""

from __future__ import annotations

import argparse
import email
import itertools
import shutil
import subprocess
from collections import Counter
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from email.utils import format_datetime
from pathlib import Path

import pytest

from reviewbot import config
from reviewbot.adapters.sql.locks import FileLocks
from reviewbot.adapters.sql.mail.state import SqlMailState
from reviewbot.adapters.system.systemd import Notifier
from reviewbot.commands.mail.setup import build_mail_loops
from reviewbot.core.notify.etiquette import check_message
from reviewbot.core.notify.outbox import OutboxState
from reviewbot.daemon import Daemon, Poller
from reviewbot.ports import Batch, OutboxEntry, RawMail
from reviewbot.service.mail.outbox import flush
from reviewbot.service.mail.schedule import MailLoops
from reviewbot.wiring import App, build_app
from tests.smtp_server import SmtpServer

START = datetime(2025, 6, 1, tzinfo=UTC)
END = datetime(2025, 6, 15, tzinfo=UTC)
STEP = timedelta(hours=2)
CRASH_AT = datetime(2025, 6, 9, 12, tzinfo=UTC)  # 09:00 in Halifax: Monday's digest
STOP_AT = datetime(2025, 6, 10, 10, tzinfo=UTC)
RC1 = datetime(2025, 6, 8, 21, 0, tzinfo=UTC)
POLICIES = Path(__file__).resolve().parent.parent / "policies"
JGG, LEON = "jgg@nvidia.com", "leonro@nvidia.com"
# 6.15 was released on 2025-05-25 and 6.16-rc1 tagged on 2025-06-08 (Sundays, as Linus does).
TAGS = [("v6.13", "2025-01-19T21:00:00Z"), ("v6.14", "2025-03-24T00:00:00Z"),
        ("v6.15-rc1", "2025-04-06T21:00:00Z"),
        ("v6.15-rc7", "2025-05-18T21:00:00Z"), ("v6.15", "2025-05-25T21:00:00Z"),
        ("v6.16-rc1", "2025-06-08T21:00:00Z"), ("v6.16-rc2", "2025-06-15T21:00:00Z")]


class Crash(BaseException):
    """The process dies here: nothing below a daemon's top level catches it."""


class ClockSource:
    """The list as it was at the simulated time: mail that had arrived by then."""

    key = "test:linux-rdma"

    def __init__(self, mails: list[RawMail], clock: list[datetime]) -> None:
        self.mails, self.clock = mails, clock

    def batches(self, cursor: str | None) -> Iterator[Batch]:
        start = int(cursor or 0)
        end = start
        while end < len(self.mails) and (self.mails[end].received or START) <= self.clock[0]:
            end += 1
        for i in range(start, end, 500):
            part = self.mails[i:min(i + 500, end)]
            yield Batch(list(part), str(i + len(part)))


class CrashingOutbox:
    """The real outbox, but the process dies right after the `after`-th new row."""

    def __init__(self, inner: object, after: int) -> None:
        self.inner, self.after = inner, after

    def __getattr__(self, name: str) -> object:
        return getattr(self.inner, name)

    def enqueue(self, mail: object, now: datetime) -> tuple[OutboxEntry, bool]:
        entry, new = self.inner.enqueue(mail, now)  # type: ignore[attr-defined]
        if new:
            self.after -= 1
            if self.after == 0:
                raise Crash
        return entry, new


def mainline_repo(path: Path, tags: list[tuple[str, str]] = TAGS) -> Path:
    """A repository with annotated mainline tags dated as given (`git for-each-ref`
    creatordate is the tagger date, as on Linus' tags)."""
    subprocess.run(["git", "init", "-q", str(path)], check=True)
    for name, when in tags:
        env = {"GIT_AUTHOR_DATE": when, "GIT_COMMITTER_DATE": when, "GIT_AUTHOR_NAME": "L",
               "GIT_AUTHOR_EMAIL": "l@x", "GIT_COMMITTER_NAME": "L", "GIT_COMMITTER_EMAIL": "l@x",
               "PATH": "/usr/bin:/bin"}
        subprocess.run(["git", "-C", str(path), "commit", "-q", "--allow-empty", "-m", name],
                       check=True, env=env)
        subprocess.run(["git", "-C", str(path), "tag", "-a", name, "-m", name], check=True,
                       env=env)
    return path


def settings(tmp: Path, db_url: str, port: int, maintainers: Path) -> Path:
    pol = tmp / "policies"
    pol.mkdir()
    shutil.copy(POLICIES / "default.toml", pol)
    text = (POLICIES / "infiniband.toml").read_text()
    (pol / "infiniband.toml").write_text(text + '\n[nag]\nenabled = true\n'
                                         'opt_in = ["maintainers", "reviewers"]\n'
                                         '\n[report]\nmail = true\n')
    maildir = tmp / "commands"
    for sub in ("new", "cur", "tmp"):
        (maildir / sub).mkdir(parents=True)
    path = tmp / "config.toml"
    path.write_text(f'database = "{db_url}"\nmaintainers = "{maintainers}"\n'
                    f'[policy]\ndir = "{pol}"\n[mail]\nfrom = "reviewbot <bot@example.org>"\n'
                    f'smtp = "smtp://127.0.0.1:{port}"\ncommands_maildir = "{maildir}"\n'
                    'trusted_relay = "mx.example.org"\n')
    return path


def stop_mail(at: datetime) -> bytes:
    """jgg stops his reminders; our relay vouches for nvidia.com's DKIM signature."""
    return (f"Authentication-Results: mx.example.org; dkim=pass header.d=nvidia.com\n"
            f"From: Jason Gunthorpe <{JGG}>\nTo: reviewbot <bot@example.org>\n"
            f"Subject: Re: [reviewbot] waiting on you\nDate: {format_datetime(at)}\n"
            f"Message-ID: <stop-1@nvidia.com>\n\nreviewbot: stop\n").encode()


class World:
    def __init__(self, conf_path: Path, db_url: str, mainline: Path, source: ClockSource,
                 clock: list[datetime]) -> None:
        self.conf_path, self.db_url, self.mainline = conf_path, db_url, mainline
        self.source, self.clock = source, clock
        self.start()

    def start(self, crash_after: int | None = None) -> None:
        """Build everything from the settings and the database, as a (re)start does."""
        conf = config.load(str(self.conf_path), {})
        self.app: App = build_app(conf, self.db_url, {})
        args = argparse.Namespace(tree=str(self.mainline), upstream=None,
                                  config=str(self.conf_path), db=None)
        loops = build_mail_loops(self.app, args, clock=lambda: self.clock[0])
        assert loops is not None
        if crash_after is not None:
            loops.outbox = CrashingOutbox(loops.outbox, crash_after)  # type: ignore[assignment]
        self.loops: MailLoops = loops
        self.daemon = Daemon(self.app.store, [Poller("linux-rdma", self.source, 60)],
                             FileLocks(self.conf_path.parent), Notifier({}),
                             refresher=self.app.refresh, background=[loops.run])

    def round(self) -> None:
        import asyncio

        assert asyncio.run(self.daemon.run(once=True)) == 0
        self.loops.plan_once()
        self.loops.commands_once()
        assert self.loops.mailer is not None
        report = asyncio.run(flush(self.loops.outbox, self.loops.mailer, self.loops.locks,
                                   self.loops.retry, self.clock[0], force=False))
        assert report.ok, report.summary()


def test_two_weeks_of_digests_and_reminders_each_sent_once_across_a_crash(
        tmp_path: Path, db_url: str, corpus_mails: list[RawMail],
        kernel_maintainers: Path) -> None:
    clock = [START]
    with SmtpServer() as smtp:
        conf = settings(tmp_path, db_url, smtp.port, kernel_maintainers)
        world = World(conf, db_url, mainline_repo(tmp_path / "linux"),
                      ClockSource(corpus_mails, clock), clock)
        crashed = stopped = False
        while clock[0] < END:
            if clock[0] == CRASH_AT and not crashed:
                world.start(crash_after=1)
                with pytest.raises(Crash):
                    world.round()
                crashed = True
                world.start()  # the restart: new objects, the same database
            if clock[0] >= STOP_AT and not stopped:
                (tmp_path / "commands" / "new" / "1.stop").write_bytes(stop_mail(clock[0]))
                stopped = True
            world.round()
            clock[0] += STEP
        received = smtp.handler.received

    assert crashed and stopped
    keys = [r.header("X-Reviewbot-Key") or "" for r in received]
    assert len(keys) == len(set(keys)), Counter(keys).most_common(3)  # nothing twice
    rows = world.loops.outbox.entries()
    assert {e.key for e in rows} == set(keys)  # everything recorded was sent ...
    assert all(e.state is OutboxState.SENT for e in rows)  # ... and nothing is left over
    for r in received:
        assert check_message(r.content) == [], r.header("Subject")

    digests = sorted(k for k in keys if k.startswith("digest:"))
    assert digests == sorted(f"digest:INFINIBAND SUBSYSTEM:{who}:{day}"
                             for day in ("2025-06-02", "2025-06-05", "2025-06-09", "2025-06-12")
                             for who in (JGG, LEON))
    by_key = dict(zip(keys, received, strict=True))
    monday = email.message_from_bytes(by_key[f"digest:INFINIBAND SUBSYSTEM:{LEON}:2025-06-09"]
                                      .content).get_payload()
    assert "since the digest of 2025-06-05" in monday  # the counts the last digest showed
    assert "The merge window for 6.16 is open (week 2); -rc1 expected 2025-06-08." in \
        email.message_from_bytes(by_key[f"digest:INFINIBAND SUBSYSTEM:{LEON}:2025-06-05"]
                                 .content).get_payload()

    nags = [(k, r) for k, r in zip(keys, received, strict=True) if k.startswith("nag:")]
    assert nags, "two weeks of an overdue backlog remind somebody"
    for k, r in nags:
        sent = email.utils.parsedate_to_datetime(r.header("Date") or "")
        assert sent > RC1, f"{k}: a reminder during the merge window"
        if sent > STOP_AT:
            assert JGG not in r.rcpt_tos, f"{k}: a reminder to jgg after his stop"
    per_series: dict[tuple[str, str], list[str]] = {}
    for k, _ in nags:
        _, series, who, day = k.split(":")
        per_series.setdefault((series, who), []).append(day)
    for days in per_series.values():  # at most one per reviewer per series per week
        dates = sorted(datetime.fromisoformat(d) for d in days)
        assert all(b - a >= timedelta(days=7) for a, b in itertools.pairwise(dates))
    # -rc1 closed the window on June 8: the report of the 6.15 cycle went out, once each
    reports = sorted(k for k in keys if k.startswith("report:"))
    assert reports == [f"report:INFINIBAND SUBSYSTEM:{who}:v6.15" for who in (JGG, LEON)]
    sent = email.utils.parsedate_to_datetime(by_key[reports[0]].header("Date") or "")
    assert RC1 < sent <= RC1 + STEP
    acks = [r for k, r in zip(keys, received, strict=True) if k.startswith("ack:")]
    assert [a.rcpt_tos for a in acks] == [(JGG,)]
    assert "no more reminders to jgg@nvidia.com" in email.message_from_bytes(
        acks[0].content).get_payload()
    assert (JGG, None) in SqlMailState(world.app.engine).stopped()


def test_the_running_daemon_plans_and_sends_beside_its_pollers(
        tmp_path: Path, db_url: str, corpus_mails: list[RawMail],
        kernel_maintainers: Path) -> None:
    """`reviewbot run` as it serves (not --once): the mail loops run as the daemon's
    background tasks, plan Monday's digest and send it, and stop with the daemon."""
    import asyncio

    clock = [datetime(2025, 1, 6, 14, tzinfo=UTC)]  # Monday, 10:00 in Halifax (AST)
    with SmtpServer() as smtp:
        conf = settings(tmp_path, db_url, smtp.port, kernel_maintainers)
        world = World(conf, db_url, mainline_repo(tmp_path / "linux"),
                      ClockSource(corpus_mails, clock), clock)
        world.loops.interval = 0.2

        async def serve() -> int:
            task = asyncio.create_task(world.daemon.run())
            for _ in range(300):
                if len(smtp.handler.received) >= 2:
                    break
                await asyncio.sleep(0.1)
            world.daemon.stop()
            return await asyncio.wait_for(task, 30)

        assert asyncio.run(serve()) == 0
        keys = sorted(r.header("X-Reviewbot-Key") or "" for r in smtp.handler.received)
    assert keys == [f"digest:INFINIBAND SUBSYSTEM:{who}:2025-01-06" for who in (JGG, LEON)]


def test_commands_arrive_with_the_list_mail_and_answer_the_reminders_series(
        tmp_path: Path, db_url: str, corpus_mails: list[RawMail],
        kernel_maintainers: Path) -> None:
    """A command mail that came in through the ingested list (not the maildir) is obeyed
    once; "reviewbot: claim" without a series claims the series of the reminder it
    answers (In-Reply-To: the reminder's Message-ID in the outbox)."""
    from reviewbot.core.backlog.nag import NAG, Reminder
    from reviewbot.core.notify.message import build_message
    from reviewbot.core.notify.reminder import ReminderView, reminder_draft
    from reviewbot.service.backlog.queries import series_view

    bnxt = "20250104061519.2540178-1-kalesh-anakkur.purayil@broadcom.com"
    clock = [datetime(2025, 1, 10, 12, tzinfo=UTC)]
    mails = [m for m in corpus_mails if (m.received or START) <= clock[0]]
    with SmtpServer() as smtp:
        conf = settings(tmp_path, db_url, smtp.port, kernel_maintainers)
        world = World(conf, db_url, mainline_repo(tmp_path / "linux"),
                      ClockSource(mails, clock), clock)
        world.round()
        view = ReminderView(Reminder(bnxt, NAG, (LEON,), (JGG,), "test"), "INFINIBAND SUBSYSTEM",
                            "RDMA/bnxt_re: Fix", 1, 1, 1, 0, "maintainer", clock[0], None,
                            "ready", "you maintain it", (LEON,), clock[0].date(),
                            "https://lore.kernel.org", "bot@example.org")
        nag = build_message(reminder_draft(view), sender="reviewbot <bot@example.org>",
                            now=clock[0], version="0")
        world.loops.outbox.enqueue(nag, clock[0])
        command = (f"Authentication-Results: mx.example.org; dkim=pass header.d=kernel.org\n"
                   f"From: Leon Romanovsky <leon@kernel.org>\nTo: bot@example.org\n"
                   f"Cc: linux-rdma@vger.kernel.org\nSubject: Re: {nag.subject}\n"
                   f"Date: {format_datetime(clock[0])}\nMessage-ID: <claim-1@kernel.org>\n"
                   f"In-Reply-To: <{nag.message_id}>\n\nreviewbot: claim\n").encode()
        world.source.mails = [*mails, RawMail(command, "test:claim", clock[0])]
        world.round()
        world.round()  # read again: nothing new, nothing twice
        acks = [r for r in smtp.handler.received
                if (r.header("X-Reviewbot-Key") or "").startswith("ack:")]
    assert [a.rcpt_tos for a in acks] == [("leon@kernel.org",)]
    status = series_view(world.app.reader, world.app.ctx, bnxt, clock[0]).status
    assert LEON in status.assignees  # leon@kernel.org is Leon's other address
    (record,) = SqlMailState(world.app.engine).commands()
    assert (record.verb, record.series_id, record.done) == ("claim", bnxt, True)
