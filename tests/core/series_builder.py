"""Hand-made Messages for assembly tests (no parser involved)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from reviewbot.core.model import Message, MessageId, MessageKind, Subject, Trailer, TrailerKind

T0 = datetime(2025, 3, 1, 10, 0, tzinfo=UTC)


def tr(kind: str, name: str, email: str) -> Trailer:
    """A person trailer such as `Reviewed-by: Name <email>`."""
    return Trailer(TrailerKind(kind), name, email, f"{name} <{email}>")


def mid(s: str) -> MessageId:
    return MessageId(s)


def posting(
    msgid: str,
    title: str = "RDMA/foo: do a thing",
    *,
    n: int | None = None,
    of: int | None = None,
    v: str = "1",
    irt: str | None = None,
    refs: tuple[str, ...] | None = None,
    sender: str = "alice@example.org",
    name: str = "Alice Author",
    author: str | None = None,
    minutes: float = 0,
    trailers: tuple[Trailer, ...] = (),
    change_id: str | None = None,
    linked: tuple[str, ...] = (),
    resend: bool = False,
    autosel: bool = False,
    rfc: bool = False,
    tags: tuple[str, ...] = ("patch",),
) -> Message:
    """A patch (or cover letter when n == 0) as `git send-email` would post it."""
    counter = f" {n}/{of}" if n is not None else ""
    vtag = f" v{v}" if v != "1" else ""
    raw = f"[PATCH{' RESEND' if resend else ''}{vtag}{counter}] {title}"
    subj = Subject(
        raw=raw,
        title=title,
        tags=tags,
        version=int(v.split(".")[0]),
        version_label=v,
        counter=n,
        total=of,
        is_patch=True,
        is_resend=resend,
        is_autosel=autosel,
        is_rfc=rfc,
    )
    if refs is None:
        refs = (irt,) if irt else ()
    return Message(
        message_id=mid(msgid),
        subject=subj,
        from_name=name,
        from_email=sender,
        date=T0 + timedelta(minutes=minutes),
        kind=MessageKind.COVER if n == 0 else MessageKind.PATCH,
        in_reply_to=mid(irt) if irt else None,
        references=tuple(mid(r) for r in refs),
        author_name=name,
        author_email=author or sender,
        files=("drivers/infiniband/core/foo.c",) if n != 0 else (),
        patch_id=f"pid-{msgid}" if n != 0 else None,
        trailers=trailers,
        change_id=change_id,
        linked_ids=tuple(mid(x) for x in linked),
    )


def reply(
    msgid: str,
    to: Message,
    *,
    sender: str = "bob@example.org",
    name: str = "Bob Reviewer",
    minutes: float = 60,
    trailers: tuple[Trailer, ...] = (),
    is_bot: bool = False,
) -> Message:
    """A `Re:` answer to `to`, threaded with full References."""
    refs = (*to.references, to.message_id)
    return Message(
        message_id=mid(msgid),
        subject=Subject(raw="Re: " + to.subject.raw, title=to.subject.title, is_reply=True),
        from_name=name,
        from_email=sender,
        date=to.date + timedelta(minutes=minutes),
        kind=MessageKind.REPLY,
        in_reply_to=to.message_id,
        references=refs,
        author_name=name,
        author_email=sender,
        trailers=trailers,
        is_bot=is_bot,
    )


def series_of_three(v: str = "1", prefix: str = "a", minutes: float = 0) -> list[Message]:
    """Cover letter plus three patches, shallow-threaded below the cover."""
    cover = posting(f"{prefix}0@x", "RDMA/foo: a series", n=0, of=3, v=v, minutes=minutes)
    return [cover] + [
        posting(
            f"{prefix}{i}@x",
            f"RDMA/foo: part {i}",
            n=i,
            of=3,
            v=v,
            irt=cover.message_id,
            minutes=minutes + i,
        )
        for i in (1, 2, 3)
    ]
