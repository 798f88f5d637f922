"""Outgoing mail etiquette (conventions.md §3), the outbox vocabulary and email commands."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from email import message_from_bytes, policy

import pytest

from reviewbot.core.notify.ack import CommandOutcome, ack_draft, syntax_outcomes
from reviewbot.core.notify.authn import aligned, relay_dkim_domains
from reviewbot.core.notify.authz import Entitled, authorize
from reviewbot.core.notify.commands import (
    CommandSyntaxError,
    EmailCommand,
    command_lines,
    parse_command,
    read_command_mail,
    series_ref,
)
from reviewbot.core.notify.etiquette import check_message, looks_like_trailer
from reviewbot.core.notify.message import (
    Draft,
    EtiquetteError,
    ThreadRef,
    build_message,
    defuse_trailers,
    lore_link,
    message_id_for,
    reply_subject,
)
from reviewbot.core.notify.outbox import OutboxKey, RetryPolicy
from reviewbot.core.notify.smtpurl import SmtpTls, parse_smtp_url

NOW = datetime(2025, 6, 2, 8, 30, tzinfo=UTC)
SENDER = "reviewbot <bot@example.org>"
KEY = OutboxKey("nag", "20250104061519.2540178-1-kalesh@broadcom.com", "leon@kernel.org",
                "2025-W23")
MID = "20250104061519.2540178-1-kalesh-anakkur.purayil@broadcom.com"


def build(body: str = "Hello.\n", **kw: object) -> bytes:
    draft = Draft(key=kw.pop("key", KEY), to=("Leon Romanovsky <leon@kernel.org>",),  # type: ignore[arg-type]
                  subject=str(kw.pop("subject", "[reviewbot] reminder")), body=body, **kw)  # type: ignore[arg-type]
    return build_message(draft, sender=SENDER, now=NOW, version="0.1.0").raw


def headers(raw: bytes) -> dict[str, str]:
    msg = message_from_bytes(raw, policy=policy.default)
    return {k: str(v) for k, v in msg.items()}


class TestBuilder:
    def test_a_plain_mail_has_every_required_header_and_one_utf8_text_part(self) -> None:
        raw = build()
        h = headers(raw)
        assert h["Auto-Submitted"] == "auto-generated"
        assert h["X-Mailer"] == "reviewbot/0.1.0"
        assert h["X-Reviewbot-Key"] == str(KEY)
        assert h["Content-Type"] == 'text/plain; charset="utf-8"'
        assert h["MIME-Version"] == "1.0"
        assert h["Date"] == "Mon, 02 Jun 2025 08:30:00 +0000"
        assert h["Message-ID"].startswith("<reviewbot.nag.") and "/" not in h["Message-ID"]
        assert not any(k.lower().startswith("list-") or k.lower() == "precedence" for k in h)
        assert "In-Reply-To" not in h and "References" not in h
        assert check_message(raw) == []

    def test_the_same_key_always_gets_the_same_message_id(self) -> None:
        assert message_id_for(KEY, "example.org") == message_id_for(KEY, "example.org")
        other = OutboxKey("nag", KEY.scope, KEY.recipient, "2025-W24")
        assert message_id_for(other, "example.org") != message_id_for(KEY, "example.org")

    def test_a_reply_threads_and_never_stacks_re(self) -> None:
        thread = ThreadRef(MID, "Re: RE: Re[2]: [PATCH v2 1/2] RDMA/bnxt_re: fix", ("root@x",))
        h = headers(build(subject=thread.subject, reply_to=thread))
        assert h["Subject"] == "Re: [PATCH v2 1/2] RDMA/bnxt_re: fix"
        assert h["In-Reply-To"] == f"<{MID}>"
        assert h["References"].split() == ["<root@x>", f"<{MID}>"]

    @pytest.mark.parametrize("original,expected", [
        ("foo", "Re: foo"), ("Re: foo", "Re: foo"), ("RE: re: Re:foo", "Re: foo"),
        ("Re[3]: foo", "Re: foo"), ("  re :  foo", "Re: foo")])
    def test_reply_subject(self, original: str, expected: str) -> None:
        assert reply_subject(original) == expected

    def test_lines_that_look_like_trailers_get_a_pipe(self) -> None:
        body = ("Suggested tags:\nReviewed-by: Leon <leon@kernel.org>\nAcked-by: x\n"
                "Fixes: 0123456789ab (\"x\")\nCo-authored-by: y\n  Reviewed-by: indented\n"
                "Please review.")
        raw = build(body)
        text = message_from_bytes(raw, policy=policy.default).get_content()  # type: ignore[attr-defined]
        assert "| Reviewed-by: Leon <leon@kernel.org>" in text
        assert "| Acked-by: x" in text and "| Fixes: 0123456789ab" in text
        assert "| Co-authored-by: y" in text
        assert "\n  Reviewed-by: indented" in text  # not at column 0: no trailer
        assert check_message(raw) == []

    def test_a_too_wide_line_is_refused_but_urls_are_exempt(self) -> None:
        link = lore_link("https://lore.kernel.org", MID + "x" * 40)
        assert len(link) > 80
        build(f"See\n  {link}\n")  # fine
        with pytest.raises(EtiquetteError, match="body line 2: 85 columns"):
            build("ok\n" + "x" * 85 + "\n")

    def test_non_ascii_bodies_are_encoded_and_still_checked(self) -> None:
        raw = build("Grüße von Jürgen Groß.\n")
        assert raw.isascii()
        assert "quoted-printable" in headers(raw)["Content-Transfer-Encoding"]
        assert check_message(raw) == []

    def test_a_long_key_stays_greppable(self) -> None:
        key = OutboxKey("ack", "mail", "leon@kernel.org", MID + ".with.a.long.tail")
        raw = build(key=key)
        assert f"X-Reviewbot-Key: {key}\r\n".encode() in raw

    def test_envelope_recipients_are_to_and_cc_each_once(self) -> None:
        draft = Draft(KEY, to=("A <a@x.org>", "b@x.org"), cc=("A <A@x.org>", "c@x.org"),
                      subject="s", body="b")
        mail = build_message(draft, sender=SENDER, now=NOW, version="1")
        assert mail.recipients == ("a@x.org", "b@x.org", "c@x.org")
        assert mail.sender == "bot@example.org"

    def test_lore_links_quote_slashes(self) -> None:
        assert lore_link("https://lore.kernel.org/", "<a/b@c>") == \
            "https://lore.kernel.org/r/a%2Fb@c"


class TestChecker:
    """check_message catches what a hand-made or broken template would do."""

    def raw(self, extra: str = "", body: str = "hi\n", ctype: str = "text/plain; charset=utf-8",
            mid: str = "<reviewbot.x.1@example.org>") -> bytes:
        return (f"From: {SENDER}\r\nTo: a@x\r\nDate: Mon, 02 Jun 2025 08:30:00 +0000\r\n"
                f"Subject: s\r\nMessage-ID: {mid}\r\nMIME-Version: 1.0\r\n"
                f"Content-Type: {ctype}\r\nAuto-Submitted: auto-generated\r\n"
                f"X-Mailer: reviewbot/1\r\nX-Reviewbot-Key: k\r\n{extra}\r\n{body}").encode()

    def test_a_correct_mail_passes(self) -> None:
        assert check_message(self.raw()) == []

    @pytest.mark.parametrize("extra,problem", [
        ("List-Id: <x>\r\n", "List-Id header"), ("Precedence: bulk\r\n", "Precedence header"),
        ("In-Reply-To: <a@b>\r\n", "References must end"),
        ("References: <a@b>\r\n", "References without In-Reply-To")])
    def test_forbidden_and_broken_headers(self, extra: str, problem: str) -> None:
        assert any(problem in p for p in check_message(self.raw(extra)))

    def test_html_wrong_charset_and_foreign_message_ids(self) -> None:
        html = self.raw(ctype="text/html; charset=utf-8")
        latin = self.raw(ctype="text/plain; charset=latin-1")
        assert any("text/html" in p for p in check_message(html))
        assert any("charset" in p for p in check_message(latin))
        assert any("not ours" in p for p in check_message(self.raw(mid="<a/b@example.org>")))
        assert any("not ours" in p for p in check_message(self.raw(mid="<x@example.org>")))

    def test_re_re_and_trailers_and_width(self) -> None:
        raw = self.raw().replace(b"Subject: s", b"Subject: Re: Re: s")
        assert any("stacks Re:" in p for p in check_message(raw))
        assert any("looks like a trailer" in p
                   for p in check_message(self.raw(body="Signed-off-by: me <m@x>\n")))
        assert any("columns" in p for p in check_message(self.raw(body="y" * 81 + "\n")))

    def test_multipart_is_refused(self) -> None:
        raw = self.raw(ctype='multipart/alternative; boundary="b"',
                       body="--b\r\nContent-Type: text/plain\r\n\r\nx\r\n--b--\r\n")
        assert any("multipart" in p for p in check_message(raw))

    def test_missing_headers(self) -> None:
        raw = self.raw().replace(b"Auto-Submitted: auto-generated\r\n", b"")
        assert check_message(raw) == ["no Auto-Submitted header"]

    def test_trailer_lookalikes(self) -> None:
        assert looks_like_trailer("Tested-by: x")
        assert looks_like_trailer("Link: https://x")
        assert not looks_like_trailer("> Reviewed-by: quoted")
        assert not looks_like_trailer("| Reviewed-by: piped")
        assert defuse_trailers("a\nReported-by: r\nb") == "a\n| Reported-by: r\nb"


class TestRetryPolicy:
    def test_backoff_doubles_to_the_cap_then_gives_up(self) -> None:
        p = RetryPolicy(max_attempts=10)
        delays = [p.delay(n) for n in range(1, 10)]
        assert delays[:7] == [timedelta(minutes=m) for m in (1, 2, 4, 8, 16, 32, 60)]
        assert delays[8] == timedelta(hours=1)
        assert p.after_failure(3, NOW) == NOW + timedelta(minutes=4)
        assert p.after_failure(10, NOW) is None

    def test_keys_escape_their_separator(self) -> None:
        assert str(OutboxKey("digest", "A: B", "X@Y.org", "2025-06-02")) == \
            "digest:A%3A B:x@y.org:2025-06-02"


class TestSmtpUrl:
    @pytest.mark.parametrize("url,host,port,tls,user", [
        ("smtp://mail.example.org", "mail.example.org", 25, SmtpTls.NONE, None),
        ("smtp+starttls://bot%40example.org@mail.example.org", "mail.example.org", 587,
         SmtpTls.STARTTLS, "bot@example.org"),
        ("smtps://u@127.0.0.1:2465", "127.0.0.1", 2465, SmtpTls.IMPLICIT, "u")])
    def test_forms(self, url: str, host: str, port: int, tls: SmtpTls, user: str | None) -> None:
        t = parse_smtp_url(url)
        assert (t.host, t.port, t.tls, t.user) == (host, port, tls, user)

    @pytest.mark.parametrize("url,why", [
        ("http://x", "scheme"), ("smtp://u:secret@x", "no password"), ("smtp://x/path", "only"),
        ("smtp://", "no host"), ("smtp://x:99999", "out of range")])
    def test_refused(self, url: str, why: str) -> None:
        with pytest.raises(ValueError, match=why):
            parse_smtp_url(url)

    def test_str_never_shows_a_password(self) -> None:
        assert str(parse_smtp_url("smtps://bot@x")) == "smtps://bot@x:465"


class TestCommands:
    def test_only_unquoted_lines_before_the_signature(self) -> None:
        text = ("Hi,\n> reviewbot: claim quoted@x\n  > reviewbot: stop\n| reviewbot: stop\n"
                "reviewbot: claim a@b\nReviewBot: release a@b\n-- \nreviewbot: stop\n")
        assert command_lines(text) == ["reviewbot: claim a@b", "ReviewBot: release a@b"]

    @pytest.mark.parametrize("line,verb,ref,args", [
        ("reviewbot: snooze <a@b> 7d", "snooze", "a@b", ("7d",)),
        ("reviewbot: snooze 2w", "snooze", None, ("2w",)),
        ("reviewbot: claim https://lore.kernel.org/linux-rdma/a%2Fb@c/", "claim", "a/b@c", ()),
        ("reviewbot: claim https://lore.kernel.org/r/x@y", "claim", "x@y", ()),
        ("reviewbot: release", "release", None, ()),
        ("reviewbot: assign a@b Leon Romanovsky <Leon@Kernel.org>", "assign", "a@b",
         ("leon@kernel.org",)),
        ("reviewbot: assign leon@kernel.org", "assign", None, ("leon@kernel.org",)),
        ("reviewbot: state a@b changes-requested", "state", "a@b", ("changes-requested",)),
        ("reviewbot: stop", "stop", None, ()), ("reviewbot: stop all", "stop", None, ()),
        ("reviewbot: no-reminders a@b", "stop", "a@b", ())])
    def test_valid(self, line: str, verb: str, ref: str | None, args: tuple[str, ...]) -> None:
        cmd = parse_command(line, "Leon@Kernel.org", "m@x")
        assert isinstance(cmd, EmailCommand), cmd
        assert (cmd.verb, cmd.series_ref, cmd.args, cmd.actor, cmd.message_id) == \
            (verb, ref, args, "leon@kernel.org", "m@x")

    def test_snooze_duration(self) -> None:
        cmd = parse_command("reviewbot: snooze a@b 36h", "x@y", "m")
        assert isinstance(cmd, EmailCommand) and cmd.duration == timedelta(hours=36)

    @pytest.mark.parametrize("line,why", [
        ("reviewbot:", "no command"), ("reviewbot: frobnicate a@b", "unknown command"),
        ("reviewbot: snooze a@b", "duration"), ("reviewbot: snooze a@b 7x", "duration"),
        ("reviewbot: snooze a@b 200d", "at most 90"), ("reviewbot: assign", "address"),
        ("reviewbot: assign <a@b> Leon", "address"),
        ("reviewbot: state a@b merged", "state needs"),
        ("reviewbot: claim a@b please", "unexpected"),
        ("reviewbot: claim https://example.org/nothing", "not a Message-ID"),
        ("reviewbot: unsnooze a@b", "not supported")])
    def test_invalid(self, line: str, why: str) -> None:
        err = parse_command(line, "x@y", "m")
        assert isinstance(err, CommandSyntaxError) and why in err.reason, err

    def test_series_ref(self) -> None:
        assert series_ref("<a@b>") == "a@b"
        assert series_ref("https://patch.msgid.link/a@b") == "a@b"
        assert series_ref("7d") is None and series_ref("@b") is None

    def test_read_command_mail(self) -> None:
        raw = (b"From: Leon Romanovsky <Leon@kernel.org>\nTo: bot@example.org\n"
               b"Subject: Re: [reviewbot] reminder\nDate: Mon, 02 Jun 2025 09:00:00 +0000\n"
               b"Message-ID: <cmd1@kernel.org>\nIn-Reply-To: <reviewbot.nag.1@example.org>\n"
               b"References: <reviewbot.nag.1@example.org>\n\n"
               b"> reviewbot: stop\nreviewbot: claim\nreviewbot: snooze a@b 7\n")
        mail = read_command_mail(raw)
        assert mail.sender == "leon@kernel.org" and not mail.automatic
        assert mail.in_reply_to == "reviewbot.nag.1@example.org"
        assert [c.verb for c in mail.commands] == ["claim"]
        assert [e.line for e in mail.errors] == ["reviewbot: snooze a@b 7"]
        auto = read_command_mail(raw.replace(b"To:", b"Auto-Submitted: auto-replied\nTo:"))
        assert auto.automatic


class TestAuthorization:
    E = Entitled.of(["Leon@kernel.org"], ["kalesh@broadcom.com"])

    def cmd(self, verb: str, actor: str) -> EmailCommand:
        return EmailCommand(verb, "a@b", (), actor, "m", f"reviewbot: {verb}")

    @pytest.mark.parametrize("verb,actor,allowed", [
        ("snooze", "leon@kernel.org", True), ("snooze", "kalesh@broadcom.com", False),
        ("claim", "kalesh@broadcom.com", True), ("claim", "someone@else.org", False),
        ("state", "leon@kernel.org", True), ("assign", "kalesh@broadcom.com", False),
        ("stop", "someone@else.org", True)])
    def test_verbs_by_role(self, verb: str, actor: str, allowed: bool) -> None:
        assert authorize(self.cmd(verb, actor), self.E).allowed is allowed

    def test_aliases_and_unknown_series(self) -> None:
        alias = {"leon@nvidia.com": "leon@kernel.org"}
        assert authorize(self.cmd("snooze", "leon@nvidia.com"), self.E, alias).allowed
        assert not authorize(self.cmd("claim", "leon@kernel.org"), None).allowed
        assert authorize(self.cmd("stop", "leon@kernel.org"), None).allowed


class TestAuthentication:
    def test_alignment(self) -> None:
        assert aligned("kernel.org", "kernel.org")
        assert aligned("mail.kernel.org", "kernel.org")
        assert not aligned("kernel.org", "mail.kernel.org")
        assert not aligned("evilkernel.org", "kernel.org")

    def test_only_the_topmost_header_of_our_relay_counts(self) -> None:
        results = ["mx.example.org; dkim=pass (2048-bit key) header.d=kernel.org "
                   "header.s=k20201202; spf=pass smtp.mailfrom=kernel.org",
                   "mx.example.org; dkim=pass header.d=evil.org"]
        assert relay_dkim_domains(results, "mx.example.org") == ("kernel.org",)
        assert relay_dkim_domains(["other.host; dkim=pass header.d=x.org"],
                                  "mx.example.org") is None
        assert relay_dkim_domains(["mx.example.org 1; dkim=fail header.d=kernel.org"],
                                  "mx.example.org") == ()
        assert relay_dkim_domains(["mx.example.org; dkim=pass header.i=@nvidia.com"],
                                  "mx.example.org") == ("nvidia.com",)


def test_the_acknowledgement_template_passes_the_checker() -> None:
    """Run the ack template over hostile input: long lines, trailer-like text, Re: stacks."""
    raw = (b"From: =?utf-8?q?J=C3=BCrgen?= <j@kernel.org>\nTo: bot@example.org\n"
           b"Subject: Re: Re: [reviewbot] INFINIBAND SUBSYSTEM review backlog (2025-06-02)\n"
           b"Date: Mon, 02 Jun 2025 09:00:00 +0000\nMessage-ID: <cmd2@kernel.org>\n"
           b"References: <a@b> <reviewbot.digest.1@example.org>\n"
           b"In-Reply-To: <reviewbot.digest.1@example.org>\n\n"
           b"reviewbot: assign " + MID.encode() + b" Leon Romanovsky <leon@kernel.org>\n"
           b"reviewbot: snooze " + b"x" * 120 + b"@y 7d\nreviewbot: state a@b bogus\n")
    mail = read_command_mail(raw)
    outcomes = [CommandOutcome(mail.commands[0].line, True,
                               "assigned; Reviewed-by: Leon would now be welcome " * 3),
                CommandOutcome(mail.commands[1].line, False, "no such series"),
                *syntax_outcomes(mail)]
    draft = ack_draft(mail, outcomes)
    out = build_message(draft, sender=SENDER, now=NOW, version="0.1.0")
    assert check_message(out.raw) == []
    h = headers(out.raw)
    assert h["Subject"] == "Re: [reviewbot] INFINIBAND SUBSYSTEM review backlog (2025-06-02)"
    assert h["In-Reply-To"] == "<cmd2@kernel.org>"
    assert h["References"].split()[-1] == "<cmd2@kernel.org>"
    assert h["To"] == "Jürgen <j@kernel.org>"
    text = message_from_bytes(out.raw, policy=policy.default).get_content()  # type: ignore[attr-defined]
    assert "> reviewbot: assign" in text and "Not done: state needs one of" in text
    assert "\nreviewbot:" not in text  # every echoed command is quoted
    assert out.key.kind == "ack" and out.key.period == "cmd2@kernel.org"
