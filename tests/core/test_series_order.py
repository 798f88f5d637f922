"""Assembly is a function of the set of messages: arrival order never matters."""

from __future__ import annotations

from hypothesis import given, settings
from hypothesis import strategies as st

from reviewbot.core.model import Message
from reviewbot.core.series.assemble import assemble
from tests.core.series_builder import posting, reply, series_of_three, tr


def mixed_mailbox() -> list[Message]:
    """A small list's worth of awkward mail: every grouping rule is exercised."""
    v1 = series_of_three("1", "a")
    v2 = series_of_three("2", "b", minutes=600)
    v2[0] = posting("b0@x", "RDMA/foo: a series", n=0, of=3, v="2", irt="a0@x", minutes=600)
    reroll = posting(
        "c2@x",
        "RDMA/foo: part 2",
        n=2,
        of=3,
        v="3",
        irt="b2@x",
        refs=("b0@x", "b2@x"),
        minutes=900,
    )
    unthreaded = [
        posting(f"u{i}@x", f"bar {i}", n=i, of=2, sender="eve@example.org", minutes=50 + i)
        for i in (1, 2)
    ]
    partial = [posting("p3@x", "baz", n=3, of=4, irt="absent@x", sender="dan@example.org")]
    single = posting("s@x", "RDMA/qux: fix", sender="dan@example.org", minutes=5)
    resend = posting("s2@x", "RDMA/qux: fix", sender="dan@example.org", resend=True, minutes=3000)
    rb = tr("Reviewed-by", "Bob Reviewer", "bob@example.org")
    replies = [
        reply("r1@x", v1[0], trailers=(tr("Acked-by", "Bob Reviewer", "bob@example.org"),)),
        reply("r2@x", v2[2], trailers=(rb,)),
        reply("r3@x", single, trailers=(rb,)),
        reply(
            "r4@x",
            reroll,
            sender="carol@example.org",
            name="Carol",
            trailers=(tr("Tested-by", "Carol", "carol@example.org"),),
        ),
    ]
    replies.append(reply("r5@x", replies[1], sender="alice@example.org", name="Alice Author"))
    dup = reply("r2@x", v2[2], trailers=(rb,))  # the same Message-ID delivered twice
    return [*v1, *v2, reroll, *unthreaded, *partial, single, resend, *replies, dup]


MAILBOX = mixed_mailbox()
EXPECTED = assemble(MAILBOX)


def test_mixed_mailbox_is_what_the_rules_say() -> None:
    """The reference assembly itself is right, so the permutation test means something."""
    ids = {s.series_id for s in EXPECTED.series}
    assert ids == {"a0@x", "b0@x", "c2@x", "u1@x", "p3@x", "s@x", "s2@x"}
    by_id = {s.series_id: s for s in EXPECTED.series}
    assert by_id["a0@x"].revisions == ("a0@x", "b0@x", "c2@x")
    assert [p.message_id for p in by_id["c2@x"].patches] == ["b1@x", "c2@x", "b3@x"]
    assert by_id["s@x"].superseded_by == "s2@x"
    assert EXPECTED.series_of["r5@x"] == "b0@x"


@settings(max_examples=200, deadline=None)
@given(st.permutations(MAILBOX))
def test_any_arrival_order_gives_the_same_assembly(order: list[Message]) -> None:
    """Every permutation of the mailbox assembles to an equal result."""
    assert assemble(order) == EXPECTED


def test_reversed_and_twice_delivered_gives_the_same_assembly() -> None:
    """Reversed arrival, with every message delivered twice, changes nothing."""
    assert assemble(list(reversed(MAILBOX)) + MAILBOX) == EXPECTED
