"""Trailer attribution within a series (domain.md §3), on hand-made messages."""

from __future__ import annotations

from reviewbot.core.model import Series, TrailerKind
from reviewbot.core.series.assemble import assemble
from tests.core.series_builder import posting, reply, series_of_three, tr

BOB_RB = tr("Reviewed-by", "Bob Reviewer", "bob@example.org")


def kinds(series: Series, index: int) -> set[tuple[str, str]]:
    patch = next(p for p in series.patches if p.index == index)
    return {(t.kind.value, t.email) for t in patch.trailers}


class TestTrailers:
    def test_reply_to_a_patch_counts_for_that_patch_only(self) -> None:
        """Bob's Reviewed-by on 2/3 lands on patch 2, not on 1 or 3."""
        msgs = series_of_three()
        s = assemble([*msgs, reply("r@x", msgs[2], trailers=(BOB_RB,))]).series[0]
        assert kinds(s, 2) == {("Reviewed-by", "bob@example.org")}
        assert kinds(s, 1) == set()
        assert kinds(s, 3) == set()
        assert s.patches[1].trailers[0].source == "r@x"

    def test_reply_deep_below_a_patch_counts_for_that_patch(self) -> None:
        """A trailer given three replies below patch 3 still belongs to patch 3."""
        msgs = series_of_three()
        r1 = reply("r1@x", msgs[3], sender="alice@example.org", name="Alice Author")
        r2 = reply("r2@x", r1, sender="carol@example.org", name="Carol")
        r3 = reply("r3@x", r2, trailers=(BOB_RB,))
        s = assemble([*msgs, r1, r2, r3]).series[0]
        assert kinds(s, 3) == {("Reviewed-by", "bob@example.org")}

    def test_cover_letter_trailers_apply_to_every_patch(self) -> None:
        """An Acked-by given on the cover letter is on every patch and in cover_trailers."""
        msgs = series_of_three()
        ack = tr("Acked-by", "Mia Maintainer", "mia@example.org")
        r = reply("r@x", msgs[0], sender="mia@example.org", name="Mia Maintainer", trailers=(ack,))
        s = assemble([*msgs, r]).series[0]
        for i in (1, 2, 3):
            assert kinds(s, i) == {("Acked-by", "mia@example.org")}
        assert [t.email for t in s.cover_trailers] == ["mia@example.org"]

    def test_patch_keeps_its_own_trailers_including_signed_off_by(self) -> None:
        """The patch's own Signed-off-by and carried Reviewed-by stay, in body order."""
        own = (
            tr("Reviewed-by", "Carol", "carol@example.org"),
            tr("Signed-off-by", "Alice Author", "alice@example.org"),
        )
        s = assemble([posting("p@x", trailers=own)]).series[0]
        assert [(t.kind.value, t.email) for t in s.patches[0].trailers] == [
            ("Reviewed-by", "carol@example.org"),
            ("Signed-off-by", "alice@example.org"),
        ]

    def test_author_self_ack_is_not_kept(self) -> None:
        """The author's own Acked-by, in the patch or a reply, is dropped."""
        self_ack = tr("Acked-by", "Alice Author", "alice@example.org")
        p = posting("p@x", trailers=(self_ack,))
        r = reply("r@x", p, sender="alice@example.org", name="Alice Author", trailers=(self_ack,))
        s = assemble([p, r]).series[0]
        assert s.patches[0].trailers == ()

    def test_sender_ack_on_someone_elses_patch_is_not_a_review(self) -> None:
        """A maintainer posting Dan's patch does not review it by adding their own ack."""
        self_ack = tr("Reviewed-by", "Alice Author", "alice+lists@example.org")
        p = posting("p@x", author="dan@example.org", trailers=(self_ack,))
        assert assemble([p]).series[0].patches[0].trailers == ()

    def test_bot_replies_contribute_nothing(self) -> None:
        """The kernel test robot's reply adds no trailer, even one naming itself."""
        p = posting("p@x")
        bot = tr("Tested-by", "kernel test robot", "lkp@intel.com")
        r = reply(
            "r@x", p, sender="lkp@intel.com", name="kernel test robot", trailers=(bot,), is_bot=True
        )
        assert assemble([p, r]).series[0].patches[0].trailers == ()

    def test_trailer_naming_someone_else_is_hearsay(self) -> None:
        """Carol's reply saying `Reviewed-by: Bob` is not Bob's review (b4 agrees)."""
        p = posting("p@x")
        r = reply("r@x", p, sender="carol@example.org", name="Carol", trailers=(BOB_RB,))
        assert assemble([p, r]).series[0].patches[0].trailers == ()

    def test_trailer_matching_by_name_from_another_address_counts(self) -> None:
        """Bob replying from his home address with his work trailer is still Bob."""
        p = posting("p@x")
        r = reply("r@x", p, sender="bob@home.example", name="Bob Reviewer", trailers=(BOB_RB,))
        assert kinds(assemble([p, r]).series[0], 1) == {("Reviewed-by", "bob@example.org")}

    def test_reply_signed_off_by_is_not_given_to_the_patch(self) -> None:
        """A reviewer's Signed-off-by (on a suggested diff) is not the patch's."""
        p = posting("p@x")
        sob = tr("Signed-off-by", "Bob Reviewer", "bob@example.org")
        r = reply("r@x", p, trailers=(sob, tr("Tested-by", "Bob Reviewer", "bob@example.org")))
        assert kinds(assemble([p, r]).series[0], 1) == {("Tested-by", "bob@example.org")}

    def test_duplicates_are_merged(self) -> None:
        """The same Reviewed-by given twice (and via the cover) appears once."""
        msgs = series_of_three()
        r1 = reply("r1@x", msgs[1], trailers=(BOB_RB,))
        r2 = reply("r2@x", msgs[1], trailers=(BOB_RB,), minutes=90)
        r3 = reply("r3@x", msgs[0], trailers=(BOB_RB,), minutes=95)
        s = assemble([*msgs, r1, r2, r3]).series[0]
        patch1 = s.patches[0]
        assert [t.source for t in patch1.trailers] == ["r1@x"]
        assert kinds(s, 2) == {("Reviewed-by", "bob@example.org")}

    def test_review_kinds_are_distinguished(self) -> None:
        """Tested-by is kept apart from review: only Reviewed-by/Acked-by are is_review."""
        p = posting("p@x")
        tb = tr("Tested-by", "Bob Reviewer", "bob@example.org")
        s = assemble([p, reply("r@x", p, trailers=(tb, BOB_RB))]).series[0]
        review = [t.kind for t in s.patches[0].trailers if t.kind.is_review]
        assert review == [TrailerKind.REVIEWED_BY]

    def test_replies_to_a_new_series_in_an_old_thread_stay_with_the_new_one(self) -> None:
        """A review of v2 posted below v1's thread is v2's, not v1's."""
        v1 = posting("v1@x", "RDMA/foo: fix")
        v2 = posting("v2@x", "RDMA/foo: fix", v="2", irt="v1@x", minutes=500)
        a = assemble([v1, v2, reply("r@x", v2, trailers=(BOB_RB,))])
        by_id = {s.series_id: s for s in a.series}
        assert by_id["v1@x"].patches[0].trailers == ()
        assert kinds(by_id["v2@x"], 1) == {("Reviewed-by", "bob@example.org")}
