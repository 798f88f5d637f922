"""Raw RFC 5322 bytes -> core.model.Message. Pure: no I/O, no clock.

Only a message that cannot be read at all raises MalformedMessage; every
other oddity (bad charset, odd Date offset, missing Message-ID) is repaired
and recorded in Message.warnings, so ingestion never loses a mail.
"""

from __future__ import annotations

import hashlib
import re
from datetime import UTC, datetime
from typing import cast
from urllib.parse import unquote

from reviewbot.core.mail import classify
from reviewbot.core.mail.ack import is_acknowledgement
from reviewbot.core.mail.applied import paragraphs
from reviewbot.core.mail.body import Part, body_parts
from reviewbot.core.mail.diff import DiffInfo, find_diff
from reviewbot.core.mail.headers import (
    decode_header_block,
    decode_text,
    decode_words,
    parse_address,
    parse_date,
    parse_header_block,
    parse_msgid,
    parse_msgids,
    received_date,
    split_headers,
)
from reviewbot.core.mail.subject import parse_subject
from reviewbot.core.mail.trailers import parse_trailers
from reviewbot.core.model import Message, MessageId, MessageKind, PullRequest, Subject


class MalformedMessage(ValueError):
    """The bytes cannot become a Message; `reason` says why (kept in quarantine)."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


_IN_BODY_FROM = re.compile(r"\A\s*From:[ \t]*([^\n]+)\n")
# Patterns start with "\n" (searched in "\n" + text) instead of a ^ anchor:
# sre then skips to newlines at C speed; ^ in MULTILINE mode is far slower.
_SEPARATOR = re.compile(r"\n---[ \t]*(?:\n|\Z)")
_SIGNOFF = re.compile(r"\nsigned-off-by:", re.IGNORECASE)
_CHANGE_ID = re.compile(r"\nchange-id:[ \t]*(\S+)")
_BASE_COMMIT = re.compile(r"\nbase-commit:[ \t]*([0-9a-f]{7,40})\b")
_LORE_LINK = re.compile(
    r"https?://(?:lore\.kernel\.org|lkml\.kernel\.org|patch\.msgid\.link|msgid\.link)/"
    r"(?:[\w.+-]+/)?([^\s/<>\"'()\[\]]+(?:@|%40)[^\s/<>\"'()\[\]#?]+)"
)


def parse_message(raw: bytes, *, fallback_date: datetime | None = None) -> Message:
    """Parse one mail. A missing, empty or unreadable Date header is replaced by
    the first Received: header's date, else by `fallback_date` (aware: the
    archive's time for the mail, the mbox From_ line or the epoch commit)."""
    if not raw or raw.isspace():  # not raw.strip(): that copies the whole mail
        raise MalformedMessage("empty message")
    warnings: list[str] = []
    head, body = split_headers(raw)
    header_text = decode_header_block(head, warnings)
    h = parse_header_block(header_text)
    if not ({"from", "subject", "date", "message-id"} & h.keys()):
        raise MalformedMessage("not a mail: none of From, Subject, Date, Message-ID")

    message_id = _message_id(raw, h, warnings)
    date = _date(h, header_text, fallback_date, warnings)
    from_name, from_email = _from(h, warnings)
    subject = parse_subject(decode_words(h.get("subject", ""), warnings))
    if "subject" not in h:
        warnings.append("no Subject header")
    references = [r for r in parse_msgids(h.get("references", "")) if r != message_id]
    in_reply_to = _in_reply_to(h.get("in-reply-to", ""), references, message_id)

    parts = body_parts(
        raw, body, h.get("content-type", ""), h.get("content-transfer-encoding", ""), warnings
    )
    diff, text, pre_diff = _read_parts(parts, warnings)
    kind, pull = _kind(subject, diff is not None, in_reply_to is not None, text, pre_diff)

    author_name, author_email = from_name, from_email
    if kind is MessageKind.PATCH:
        m = _IN_BODY_FROM.match(pre_diff)
        if m is not None:
            author_name, author_email = parse_address(m.group(1), warnings)
        sep = _SEPARATOR.search("\n" + pre_diff) if "\n---" in pre_diff else None
        trailer_text = pre_diff[: sep.start()] if sep is not None else pre_diff
    else:
        sig = text.find("\n-- \n")
        trailer_text = text[:sig] if sig != -1 else text
    if kind is MessageKind.PATCH and not subject.is_patch and not subject.is_pull:
        warnings.append("diff without a PATCH subject tag")
    elif kind is MessageKind.OTHER and subject.is_patch:
        warnings.append("PATCH subject without a diff")

    # The unquoted prose of an answer, read for "applied" and acknowledgements.
    paras = paragraphs(text) if subject.is_reply or kind is MessageKind.REPLY else []
    mid = MessageId(message_id)
    change = base = None
    linked: tuple[MessageId, ...] = ()
    if kind is not MessageKind.REPLY:
        # Revision evidence (b4 change-id, base-commit, links to earlier
        # versions) belongs to postings; links in replies point anywhere.
        if "change-id:" in pre_diff:
            change = _CHANGE_ID.search("\n" + pre_diff)
        if "base-commit:" in text:
            base = _BASE_COMMIT.search("\n" + text)
        linked = _linked_ids(pre_diff, message_id)
    return Message(
        message_id=mid,
        subject=subject,
        from_name=from_name,
        from_email=from_email,
        date=date,
        kind=kind,
        in_reply_to=MessageId(in_reply_to) if in_reply_to else None,
        references=cast(tuple[MessageId, ...], tuple(references)),
        author_name=author_name,
        author_email=author_email,
        files=diff.files if diff is not None else (),
        patch_id=diff.patch_id if diff is not None else None,
        trailers=parse_trailers(trailer_text, mid, warnings),
        change_id=change.group(1) if change is not None else None,
        base_commit=base.group(1) if base is not None else None,
        linked_ids=linked,
        is_bot=classify.is_bot(from_name, from_email, h),
        applied=classify.applied_notice(text, subject, from_email, paras),
        pull=pull,
        warnings=tuple(warnings),
        ack_only=kind is MessageKind.REPLY and is_acknowledgement(text, paras),
    )


def message_text(raw: bytes) -> str:
    """The decoded text of every readable part, as parse_message reads it
    (for tools that look at the prose, e.g. the labelled-set generators)."""
    warnings: list[str] = []
    head, body = split_headers(raw)
    h = parse_header_block(decode_header_block(head, warnings))
    parts = body_parts(
        raw, body, h.get("content-type", ""), h.get("content-transfer-encoding", ""), warnings
    )
    return _read_parts(parts, warnings)[1]


def _message_id(raw: bytes, h: dict[str, str], warnings: list[str]) -> str:
    mid = parse_msgid(h.get("message-id", ""))
    if mid is None:
        # Stable across re-ingests: the same bytes always get the same id.
        mid = hashlib.sha1(raw).hexdigest() + "@reviewbot.invalid"
        warnings.append(f"no Message-ID; synthesized <{mid}>")
    return mid


def _date(
    h: dict[str, str], header_text: str, fallback: datetime | None, warnings: list[str]
) -> datetime:
    """Date:, else what public-inbox uses: the first Received: header's date, then the
    archive's own time for the mail (`fallback`: the mbox From_ line's date, or the
    epoch commit's time). Which one was used is recorded in `warnings`."""
    value = h.get("date")
    date = parse_date(value, warnings) if value else None
    if date is not None:
        return date
    why = "no Date header" if value is None else (
        "empty Date header" if not value.strip() else f"unreadable Date {value!r}")
    received = received_date(header_text)
    if received is not None:
        warnings.append(f"{why}; dated by the first Received: header")
        return received
    if fallback is None or fallback.tzinfo is None:
        raise MalformedMessage(
            f"{why}, no dated Received: header and no archive time (mbox From_ line"
            " or epoch commit)")
    warnings.append(f"{why}; dated by the archive (mbox From_ line or epoch commit time)")
    return fallback.astimezone(UTC)


def _from(h: dict[str, str], warnings: list[str]) -> tuple[str, str]:
    if "from" not in h:
        warnings.append("no From header")
        return "", ""
    name, email = parse_address(h["from"], warnings)
    if not email:
        warnings.append(f"From without an address: {h['from']!r}")
    return name, email


def _in_reply_to(value: str, references: list[str], own: str) -> str | None:
    ids = [i for i in parse_msgids(value) if i != own]
    if len(ids) > 1 and references and references[-1] in ids:
        return references[-1]
    if ids:
        return ids[0]
    # Some clients send only References; its last entry is the parent.
    return references[-1] if references else None


def _read_parts(parts: list[Part], warnings: list[str]) -> tuple[DiffInfo | None, str, str]:
    """(first diff, whole text, text before the diff)."""
    diff: DiffInfo | None = None
    texts: list[str] = []
    pre_diff: str | None = None
    for part in parts:
        if diff is None and (found := find_diff(part.data)) is not None:
            diff = found
            # Decode both halves apart: the diff starts a line, so the split
            # never cuts a character, and the text before it is needed alone.
            pre = decode_text(part.data[: found.start], part.charset, warnings)
            pre_diff = "\n".join([*texts, pre])
            texts.append(pre + decode_text(part.data[found.start :], part.charset, warnings))
        else:
            texts.append(decode_text(part.data, part.charset, warnings))
    whole = "\n".join(texts)
    return diff, whole, whole if pre_diff is None else pre_diff


def _kind(
    subject: Subject, has_diff: bool, has_parent: bool, text: str, pre_diff: str
) -> tuple[MessageKind, PullRequest | None]:
    """Decided by diff plus subject, never by "Re:" alone: a new version sent
    In-Reply-To the old thread is a PATCH. A "Re:" mail with a diff is a
    PATCH only when it reads like a submission (its own Signed-off-by, no
    quoted text before the diff); in the 2025 corpus the other ~80 are
    reviewers' inline suggestions."""
    if subject.is_reply:
        if has_diff and _SIGNOFF.search("\n" + pre_diff) and "\n>" not in "\n" + pre_diff:
            return MessageKind.PATCH, None
        return MessageKind.REPLY, None
    pull = classify.pull_request(text, subject.is_pull)
    if subject.counter == 0:
        # 0/N is never one of the N patches, even when it shows a diff (the
        # "Split netmem from struct page" covers carry an illustrative one).
        return MessageKind.COVER, pull
    if has_diff:
        return MessageKind.PATCH, pull
    # A "[GIT PULL]" subject on an answer that dropped "Re:" and carries no
    # request-pull text is a reply, not a second pull request.
    if pull is not None or (subject.is_pull and not has_parent):
        return MessageKind.PULL_REQUEST, pull
    if has_parent:
        return MessageKind.REPLY, pull
    return MessageKind.OTHER, pull


def _linked_ids(text: str, own: str) -> tuple[MessageId, ...]:
    """Message-IDs of lore / patch.msgid.link URLs on unquoted lines."""
    out: list[MessageId] = []
    if "lore.kernel.org" not in text and "msgid.link" not in text:
        return ()
    for m in _LORE_LINK.finditer(text):
        line_start = text.rfind("\n", 0, m.start()) + 1
        if text.startswith(">", line_start):
            continue
        mid = unquote(m.group(1)).rstrip(".,;:")
        if mid != own and mid not in out:
            out.append(MessageId(mid))
    return tuple(out)
