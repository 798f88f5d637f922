"""Digest, reminders, suggestions, the cycle report and email commands on the whole 2025
linux-rdma corpus with the real 6.12 MAINTAINERS (SQLite and PostgreSQL).

The corpus is ingested once per backend; tests that write (queue a digest, obey a
command) touch only what they check.
"""

from __future__ import annotations

import email
import json
import shutil
import uuid
from collections.abc import Iterator
from datetime import UTC, datetime
from email.utils import format_datetime
from pathlib import Path

import pytest
import sqlalchemy as sa
from sqlalchemy.engine import Engine

from reviewbot import config
from reviewbot.adapters.sql import migrate as sqlmigrate
from reviewbot.adapters.sql.mail.outbox import SqlOutbox
from reviewbot.adapters.sql.mail.state import SqlMailState
from reviewbot.adapters.sql.store import make_engine
from reviewbot.cli import main
from reviewbot.commands.mail.setup import command_env, identity
from reviewbot.core.notify.etiquette import check_message
from reviewbot.service.backlog.queries import series_view
from reviewbot.service.mail.mailcmd import CommandPolicy
from reviewbot.service.mail.mailexec import handle_command_mail
from reviewbot.wiring import build_app
from tests.smtp_server import SmtpServer
from tests.sqlfixtures import PG_URL
from tests.test_mail_daemon import mainline_repo

POLICIES = Path(__file__).resolve().parent.parent / "policies"
IB = "INFINIBAND SUBSYSTEM"
JGG, LEON = "jgg@nvidia.com", "leonro@nvidia.com"
# The 2025 mainline releases and -rc1s (Sunday tags; 6.14 came on a Monday).
TAGS_2025 = [("v6.13", "2025-01-19T21:00:00Z"), ("v6.14-rc1", "2025-02-02T21:00:00Z"),
             ("v6.14", "2025-03-24T21:00:00Z"), ("v6.15-rc1", "2025-04-06T21:00:00Z"),
             ("v6.15", "2025-05-25T21:00:00Z"), ("v6.16-rc1", "2025-06-08T21:00:00Z"),
             ("v6.16", "2025-07-27T21:00:00Z"), ("v6.17-rc1", "2025-08-10T21:00:00Z"),
             ("v6.17", "2025-09-28T21:00:00Z"), ("v6.18-rc1", "2025-10-12T21:00:00Z"),
             ("v6.18", "2025-11-30T21:00:00Z"), ("v6.19-rc1", "2025-12-14T21:00:00Z")]
# "[PATCH] RDMA/rxe: Fix kernel panic for fast registered MR" (2025-04-11, rxe files only)
RXE = "20250411071141.82619-1-honggangli@163.com"
# "[PATCH] RDMA/efa: Add CQ with external memory support" v2 (2025-05-18): reviewed, ready
EFA = "20250518160956.14711-1-mrgolin@amazon.com"
# "[PATCH] IB/cm: Remove redundant WARN_ON in cm_free_priv_msg" (2025-05-09), overdue
CM = "20250509081840.40628-1-lizhijian@fujitsu.com"


@pytest.fixture(scope="module", params=["sqlite", pytest.param("postgres",
                                                               marks=pytest.mark.postgres)])
def world(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory,
          corpus_git: Path, kernel_maintainers: Path) -> Iterator[Path]:
    """A settings file over a database holding the whole corpus (ingested once)."""
    tmp = tmp_path_factory.mktemp("mailcli")
    engine: Engine | None = None
    schema = None
    if request.param == "postgres":
        schema = f"rbmail_{uuid.uuid4().hex[:10]}"
        admin = sa.create_engine(PG_URL)
        with admin.begin() as conn:
            conn.exec_driver_sql(f"CREATE SCHEMA {schema}")
        url = sa.make_url(PG_URL).update_query_dict({"options": f"-csearch_path={schema}"})
        db_url = url.render_as_string(hide_password=False)
    else:
        db_url = f"sqlite:///{tmp}/rb.db"
    engine = make_engine(db_url)
    sqlmigrate.upgrade(engine)
    pol = tmp / "policies"
    pol.mkdir()
    shutil.copy(POLICIES / "default.toml", pol)
    (pol / "infiniband.toml").write_text(
        (POLICIES / "infiniband.toml").read_text()
        + '\n[nag]\nenabled = true\nopt_in = ["maintainers", "reviewers"]\n'
        + '\n[report]\ndomains = { "mellanox.com" = "nvidia.com" }\n')
    conf = tmp / "config.toml"
    conf.write_text(f'database = "{db_url}"\nmaintainers = "{kernel_maintainers}"\n'
                    f'[policy]\ndir = "{pol}"\n[mail]\nfrom = "reviewbot <bot@example.org>"\n'
                    'trusted_relay = "mx.example.org"\n')
    assert main(["--config", str(conf), "ingest", "--epoch", str(corpus_git),
                 "--list", "linux-rdma"]) == 0
    mainline_repo(tmp / "linux", TAGS_2025)
    try:
        yield conf
    finally:
        engine.dispose()
        if schema is not None:
            admin = sa.create_engine(PG_URL)
            with admin.begin() as conn:
                conn.exec_driver_sql(f"DROP SCHEMA {schema} CASCADE")
            admin.dispose()


def cli(capsys: pytest.CaptureFixture[str], conf: Path, *argv: str) -> str:
    code = main(["--config", str(conf), *argv])
    out, err = capsys.readouterr()
    assert code == 0, err
    return out


def body_of(raw: str) -> str:
    return str(email.message_from_string(raw).get_payload())


def digest_counts(body: str) -> dict[str, int]:
    """The state lines under "Open series:" in a digest body."""
    lines = body.split("\n")
    start = next(i for i, line in enumerate(lines) if line.startswith("Open series:"))
    out = {}
    for line in lines[start + 1:]:
        if not line.startswith("  ") or line.strip().startswith("("):
            break
        state, n = line.split()[:2]
        out[state] = int(n)
    return out


class TestDigest:
    @pytest.mark.parametrize("as_of", ["2025-03-03T12:00:00", "2025-06-02T12:00:00",
                                       "2025-12-31"])
    def test_counts_equal_queue_json_at_the_same_instant(
            self, world: Path, capsys: pytest.CaptureFixture[str], as_of: str) -> None:
        queue = json.loads(cli(capsys, world, "queue", "--subsystem", IB, "--as-of", as_of,
                               "--json"))
        out = cli(capsys, world, "digest", "--subsystem", IB, "--as-of", as_of, "--dry-run",
                  "--tree", str(world.parent / "linux"))
        first = out.split("\nFrom: ")[0]
        counts = digest_counts(body_of(first))
        assert counts == queue["stats"]["open_by_state"]
        assert f"Open series: {queue['stats']['open_total']}" in body_of(first)

    def test_dry_run_prints_complete_messages_that_keep_the_etiquette(
            self, world: Path, capsys: pytest.CaptureFixture[str]) -> None:
        """One mail per maintainer (M: of INFINIBAND, mailmap applied), each a complete
        RFC 5322 message with rows, lore links and the footer."""
        out = cli(capsys, world, "digest", "--subsystem", IB, "--as-of", "2025-06-02T12:00:00",
                  "--dry-run", "--tree", str(world.parent / "linux"))
        mails = ["From: " + m if not m.startswith("From: ") else m
                 for m in out.split("\nFrom: ")]
        assert len(mails) == 2
        for text in mails:
            raw = text.replace("\n", "\r\n").encode()
            assert check_message(raw) == []
            msg = email.message_from_bytes(raw)
            assert msg["Subject"] == f"[reviewbot] {IB} review backlog (2025-06-02)"
            assert msg["X-Reviewbot-Key"].startswith(f"digest:{IB}:")
        to = sorted(email.message_from_string(m)["To"] for m in mails)
        assert to == ["Jason Gunthorpe <jgg@nvidia.com>", "Leon Romanovsky <leonro@nvidia.com>"]
        body = body_of(mails[0])
        sections = ["Ready to apply (", "Waiting on reviewers past their time (", "New since ",
                    "Waiting on their authors (", "Newly applied (", "Expiring soon (",
                    "Merge window"]
        where = [body.index(s) for s in sections]
        assert where == sorted(where)  # in the order
        assert f"https://lore.kernel.org/r/{EFA}" in body  # ready to apply on June 2
        assert "-rc1 expected 2025-06-08" in body  # the countdown from the tags
        assert "This is an automatic mail from reviewbot" in body
        assert all(len(line) <= 80 or "https://" in line for line in body.split("\n"))

    def test_queued_once_per_recipient_and_day_and_sent(
            self, world: Path, capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
        with SmtpServer() as smtp:
            conf = tmp_path / "send.toml"
            conf.write_text(world.read_text().replace(
                "[mail]\n", f'[mail]\nsmtp = "smtp://127.0.0.1:{smtp.port}"\n'))
            args = ("digest", "--subsystem", IB, "--as-of", "2025-06-05T12:00:00",
                    "--tree", str(world.parent / "linux"))
            first = cli(capsys, conf, *args)
            again = cli(capsys, conf, *args)
            got = list(smtp.handler.received)
        assert first.count("queued: digest:") == 2 and "2 sent" in first
        assert again.count("already recorded (sent)") == 2 and "0 sent" in again
        assert sorted(r.rcpt_tos for r in got) == [(JGG,), (LEON,)]
        later = cli(capsys, world, "digest", "--subsystem", IB, "--as-of",
                    "2025-06-09T12:00:00", "--dry-run", "--tree", str(world.parent / "linux"))
        assert "since the digest of 2025-06-05" in later  # the counts it showed are kept
        assert "New since 2025-06-05 09:00" in later


class TestReminders:
    def test_dry_run_decides_and_writes_private_reminders(
            self, world: Path, capsys: pytest.CaptureFixture[str]) -> None:
        out = cli(capsys, world, "nag", "--subsystem", IB, "--as-of", "2025-06-02T12:00:00",
                  "--dry-run", "--tree", str(world.parent / "linux"))
        # June 2 is in the 6.16 merge window: the policy keeps quiet
        assert "merge window open; quiet: merge window" in out
        out = cli(capsys, world, "nag", "--subsystem", IB, "--as-of", "2025-06-10T12:00:00",
                  "--dry-run", "--tree", str(world.parent / "linux"))
        assert f"nag        <{CM}> to {LEON} cc {JGG}" in out
        mails = ["From: " + m for m in out.split("\nFrom: ")[1:]]
        assert mails
        for text in mails:
            raw = text.strip("\n").replace("\n", "\r\n").encode()
            assert check_message(raw) == [], text[:300]
            msg = email.message_from_bytes(raw)
            body = str(msg.get_payload())
            assert body.count("https://lore.kernel.org/r/") == 1  # one link per series
            if msg["X-Reviewbot-Key"].startswith("nag:"):
                assert "Why you:" in body and "reviewbot: stop" in body
                assert msg["Cc"]  # To the one whose turn it is, Cc the maintainer


class TestSuggest:
    def test_rxe_series_ranks_its_maintainer_and_past_reviewers_with_reasons(
            self, world: Path, capsys: pytest.CaptureFixture[str]) -> None:
        got = json.loads(cli(capsys, world, "suggest", RXE, "--json", "--as-of", "2025-06-02"))
        first = got["suggestions"][0]
        assert first["address"] == "zyjzyj2000@gmail.com"
        assert "M: of SOFT-ROCE DRIVER (rxe)" in first["reasons"]
        assert any(r.startswith("reviewed ") and "on these files in the past year" in r
                   for r in first["reasons"])
        people = [s["address"] for s in got["suggestions"]]
        assert "honggangli@163.com" not in people  # never the author
        assert {JGG, LEON} <= set(people)  # M: of INFINIBAND SUBSYSTEM ...
        assert people.index(JGG) > people.index("zyjzyj2000@gmail.com")  # ... but loaded
        assert all(s["reasons"] for s in got["suggestions"])


class TestReport:
    def test_v6_16_figures_checked_by_hand(
            self, world: Path, capsys: pytest.CaptureFixture[str]) -> None:
        """Checked against the raw corpus (git log --author, the mails' In-Reply-To and
        bodies), for the 6.16 cycle (v6.15 on 2025-05-25 to v6.16 on 2025-07-27):

        - Bernard Metzler (bmt@zurich.ibm.com) replied 5 times in 3 threads of others:
          Pedro Falcato's "RDMA/siw: Fix the sendmsg byte count" (2 mails, 07-23), the
          "[PATCH 0/8] RDMA/siw: [re-]introduce module parameters" thread (07-04) and
          Arnd Bergmann's "RDMA/siw: work around clang stack size warning" (06-22, and
          06-24 with Acked-by). His 05-28 reply to a linux-next robot report is no series;
          his 07-28 reply is after the cycle.
        - Gal Pressman (gal.pressman@linux.dev) replied 4 times in 3 threads: "RDMA/efa:
          Extend admin timeout error print" v1 (07-03) and v2 (07-07), "IB: Extend
          UVERBS_METHOD_REG_MR to get DMAH" (07-08, twice). His gal@nvidia.com mail that
          cycle is on net/mlx5 patches, which INFINIBAND does not route.
        - zurich.ibm.com: given 1 + 1 + 2 (the ack) = 4, nothing posted or received.
        - suse.de: Hannes Reinecke's Reviewed-by on Christoph Hellwig's two srp/scsi
          patches (one thread, 06-24) = 2 given; Pedro Falcato posted 1 series (07-23)
          and received Bernard's replies (no tag) = 1.
        """
        rep = json.loads(cli(capsys, world, "report", "--subsystem", IB, "--cycle", "v6.16",
                             "--tree", str(world.parent / "linux"), "--json", "--top", "100"))
        assert (rep["label"], rep["previous"]) == ("v6.16", "v6.15")
        assert rep["since"] == "2025-05-25T21:00:00+00:00"

        def person(table: str, addr: str) -> int:
            return next(r["count"] for r in rep[table] if r["address"] == addr)

        def domain(name: str) -> tuple[int, int, int, int]:
            d = next(d for d in rep["domains"] if d["domain"] == name)
            return d["reviews_given"], d["series_posted"], d["reviews_received"], d["score"]

        assert person("top_reviewers_threads", "bmt@zurich.ibm.com") == 3
        assert person("top_reviewers_messages", "bmt@zurich.ibm.com") == 5
        assert person("top_reviewers_threads", "gal.pressman@linux.dev") == 3
        assert person("top_reviewers_messages", "gal.pressman@linux.dev") == 4
        assert domain("zurich.ibm.com") == (4, 0, 0, 4)
        assert domain("suse.de") == (2, 1, 1, 1)
        assert sum(rep["messages_per_day"].values()) == rep["messages"]
        assert rep["applied"]["reviewed"] <= rep["applied"]["series"]
        assert rep["applied"]["cross_domain"] <= rep["applied"]["reviewed"]


class TestEmailCommands:
    def test_commands_run_through_the_service_and_are_acknowledged(
            self, world: Path) -> None:
        """Leon (leon@kernel.org, his other address) claims one series, snoozes another,
        asks for a state that cannot be set by hand, and stops his reminders; a relay we
        trust vouches for the DKIM signature (DKIM itself: tests/test_mailcmd.py)."""
        conf = config.load(str(world), {})
        app = build_app(conf, conf.database(None, {}), {})
        state = SqlMailState(app.engine)
        outbox = SqlOutbox(app.engine)
        now = datetime(2025, 6, 3, 10, tzinfo=UTC)
        raw = (f"Authentication-Results: mx.example.org; dkim=pass header.d=kernel.org\n"
               f"From: Leon Romanovsky <leon@kernel.org>\nTo: reviewbot <bot@example.org>\n"
               f"Subject: Re: [reviewbot] {IB} review backlog (2025-06-02)\n"
               f"Date: {format_datetime(now)}\nMessage-ID: <cmd-{uuid.uuid4().hex}@kernel.org>\n"
               f"\nreviewbot: claim <{CM}>\nreviewbot: snooze https://lore.kernel.org/r/{RXE} 7d\n"
               f"reviewbot: state {CM} changes-requested\n> reviewbot: stop {EFA}\n"
               f"reviewbot: stop\n").encode()
        done = handle_command_mail(
            raw, now, verifier=None,  # type: ignore[arg-type]  # the relay's word is used
            seen=outbox, policy=CommandPolicy(frozenset({"bot@example.org"}), "mx.example.org"),
            env=command_env(app, state, outbox), identity=identity(conf.mail))
        assert done.received.accepted
        assert [o.done for o in done.outcomes] == [True, True, False, True]
        assert "cannot be set by hand" in done.outcomes[2].text
        claimed = series_view(app.reader, app.ctx, CM, now)
        assert LEON in claimed.status.assignees
        snoozed = series_view(app.reader, app.ctx, RXE, now)
        assert snoozed.status.state.value == "snoozed"
        assert (LEON, None) in state.stopped()  # under the address reminders go to
        journal = [r for r in state.commands() if r.at == now]
        assert [(r.verb, r.done) for r in journal] == [
            ("claim", True), ("snooze", True), ("state", False), ("stop", True)]
        assert done.ack is not None
        ack = outbox.find(done.ack.key, with_raw=True)
        assert ack is not None and check_message(ack.raw) == []
        text = email.message_from_bytes(ack.raw)
        assert text["In-Reply-To"] and text["To"] == "Leon Romanovsky <leon@kernel.org>"
        body = str(text.get_payload())
        assert f"> reviewbot: claim <{CM}>" in body and "Not done:" in body

