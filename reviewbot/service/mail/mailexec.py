"""Executing email commands: the same service calls as the CLI, then a short reply.

A mail that service.mail.mailcmd.receive_command_mail accepted (authentic, fresh,
not replayed) has its commands run here, each only if its sender is entitled
(core.notify.authz): snooze/claim/release/assign/state through
service.backlog.manual (stored as actions with actor and time, the series refreshed),
`stop` into the opt-out table the reminder planner reads. Every command is
journaled with its outcome, and the sender gets one acknowledgement in the
thread (core.notify.ack), queued in the outbox under its own key.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime

from reviewbot.core.backlog.nag import ESCALATION, NAG
from reviewbot.core.notify.ack import CommandOutcome, ack_draft, syntax_outcomes
from reviewbot.core.notify.commands import CommandMail, EmailCommand
from reviewbot.core.notify.message import EtiquetteError, build_message
from reviewbot.ports import (
    ActionStore,
    BacklogReader,
    CommandJournal,
    CommandLog,
    CommandRecord,
    DkimVerifier,
    OptOuts,
    OutboxEntry,
    OutboxStore,
)
from reviewbot.service.backlog import act, manual
from reviewbot.service.backlog.context import BacklogContext
from reviewbot.service.backlog.queries import UnknownSeries
from reviewbot.service.mail.digest import MailIdentity
from reviewbot.service.mail.mailcmd import CommandPolicy, Received, receive_command_mail

log = logging.getLogger(__name__)


@dataclass
class CommandEnv:
    """What executing commands needs: the backlog, the stores, and a refresh."""

    reader: BacklogReader
    actions: ActionStore
    ctx: Callable[[], BacklogContext]  # the current one: a reload (SIGHUP) replaces it
    outbox: OutboxStore
    optouts: OptOuts
    journal: CommandJournal
    refresh: Callable[[], object] | None = None


@dataclass(frozen=True, slots=True)
class Handled:
    received: Received
    outcomes: tuple[CommandOutcome, ...] = ()
    ack: OutboxEntry | None = None


def resolve_series(cmd: EmailCommand, mail: CommandMail, env: CommandEnv) -> str | None:
    """The series a command names, or the one of the reminder (or patch) it answers."""
    if cmd.series_ref is not None:
        return env.reader.find_series(cmd.series_ref) or cmd.series_ref
    if mail.in_reply_to:
        ours = env.outbox.find(mail.in_reply_to)
        if ours is not None and ours.kind in (NAG, ESCALATION):
            return ours.scope
        return env.reader.find_series(mail.in_reply_to)
    return None


def run_command(cmd: EmailCommand, mail: CommandMail, env: CommandEnv,
                now: datetime) -> tuple[CommandOutcome, str | None]:
    """One command: (outcome, the series it acted on)."""
    sid = resolve_series(cmd, mail, env)
    if cmd.verb == "stop":
        # Stored under the address reminders go to (the person's canonical one).
        aliases = {k.lower(): v.lower() for k, v in env.reader.aliases().items()}
        who = aliases.get(cmd.actor, cmd.actor)
        new = env.optouts.stop(who, sid, cmd.actor, now, mail.message_id)
        what = f"no more reminders to {who}" + (f" about <{sid}>" if sid else "")
        return CommandOutcome(cmd.line, True, what + ("" if new else " (already so)")), sid
    if sid is None:
        return CommandOutcome(cmd.line, False, "which series? Name it (a Message-ID or lore "
                              "link), or reply to a reminder about it"), None
    try:
        done = act.perform(env.reader, env.actions, env.ctx(), _request(cmd, sid), now)
    except act.NotAllowed as exc:
        return CommandOutcome(cmd.line, False, str(exc)), sid
    except (manual.ActionRefused, UnknownSeries) as exc:
        return CommandOutcome(cmd.line, False, _why(exc)), sid
    return CommandOutcome(cmd.line, True, done.summary()), done.series_id


def _request(cmd: EmailCommand, sid: str) -> act.Request:
    """The email command as the one authorised action path (service.backlog.act) takes it."""
    if cmd.verb == "snooze":
        return act.Request("snooze", sid, cmd.actor, duration=cmd.duration,
                           reason=f"by mail: snooze {cmd.args[0]}", line=cmd.line)
    if cmd.verb == "assign":
        return act.Request("assign", sid, cmd.actor, person=cmd.args[0], line=cmd.line)
    if cmd.verb == "release":
        return act.Request("release", sid, cmd.actor, reason="by mail", line=cmd.line)
    if cmd.verb == "claim":
        return act.Request("claim", sid, cmd.actor, line=cmd.line)
    state = cmd.args[0]
    if state == "changes-requested":
        raise manual.ActionRefused("changes-requested cannot be set by hand: reply to the "
                                   "series on the list and its state follows")
    return act.Request("state", sid, cmd.actor, state=state, reason="by mail", line=cmd.line)


def _why(exc: Exception) -> str:
    if isinstance(exc, UnknownSeries):
        return f"no series holds <{exc.args[0]}>"
    return str(exc)


def execute(mail: CommandMail, env: CommandEnv, now: datetime) -> list[CommandOutcome]:
    """Run an accepted mail's commands in order; syntax errors are answered too."""
    outcomes: list[CommandOutcome] = []
    acted = False
    for cmd in mail.commands:
        try:
            outcome, sid = run_command(cmd, mail, env, now)
        except Exception as exc:  # one bad command never stops the others (or the daemon)
            log.exception("email command %r from %s failed", cmd.line, cmd.actor)
            outcome, sid = CommandOutcome(cmd.line, False, f"internal error: {exc}"), None
        acted |= outcome.done and cmd.verb != "stop"
        outcomes.append(outcome)
        env.journal.record_command(CommandRecord(mail.message_id, cmd.actor, now, cmd.verb, sid,
                                                 cmd.line, outcome.done, outcome.text))
    for outcome in syntax_outcomes(mail):
        outcomes.append(outcome)
        env.journal.record_command(CommandRecord(mail.message_id, mail.sender, now, "invalid",
                                                 None, outcome.line, False, outcome.text))
    if acted and env.refresh is not None:
        env.refresh()  # the stored standings show the actions at once
    return outcomes


def acknowledge(mail: CommandMail, outcomes: list[CommandOutcome], outbox: OutboxStore,
                identity: MailIdentity, now: datetime) -> OutboxEntry | None:
    try:
        built = build_message(ack_draft(mail, outcomes), sender=identity.sender, now=now,
                              version=identity.version)
    except EtiquetteError as exc:
        log.error("acknowledgement to %s not sent: %s", mail.sender, exc)
        return None
    entry, _ = outbox.enqueue(built, now)
    return entry


def handle_command_mail(raw: bytes, now: datetime, *, verifier: DkimVerifier, seen: CommandLog,
                        policy: CommandPolicy, env: CommandEnv,
                        identity: MailIdentity) -> Handled:
    """Receive, execute and acknowledge one mail that may carry commands."""
    received = receive_command_mail(raw, now, verifier, seen, policy)
    if not received.accepted or received.mail is None:
        return Handled(received)
    outcomes = execute(received.mail, env, now)
    ack = acknowledge(received.mail, outcomes, env.outbox, identity, now)
    return Handled(received, tuple(outcomes), ack)
