"""core.people: which addresses are one person (mailmap first, then the names people sign with)."""

from __future__ import annotations

from reviewbot.core.maintainers.people import mailmap_aliases, name_aliases


def test_one_full_name_is_one_person_and_maintainers_address_wins() -> None:
    """Leon signs from two addresses; MAINTAINERS lists leonro@nvidia.com, so that is canonical
    even though leon@kernel.org is used more."""
    people = [("Leon Romanovsky", "leon@kernel.org")] * 5 + [
        ("Leon Romanovsky", "leonro@nvidia.com"), ("Jason Gunthorpe", "jgg@nvidia.com")]
    assert name_aliases(people, preferred={"leonro@nvidia.com", "jgg@nvidia.com"}) == {
        "leon@kernel.org": "leonro@nvidia.com"}


def test_without_a_listed_address_the_most_used_wins() -> None:
    """Nobody listed: the address used most is canonical; ties go alphabetically."""
    people = [("Zhu Yanjun", "yanjun.zhu@linux.dev")] * 3 + [
        ("zhu  yanjun", "zyjzyj2000@gmail.com")]
    assert name_aliases(people) == {"zyjzyj2000@gmail.com": "yanjun.zhu@linux.dev"}
    assert name_aliases([("Ann Bee", "b@x"), ("Ann Bee", "a@x")]) == {"b@x": "a@x"}


def test_one_word_names_never_merge_and_initials_count() -> None:
    """"root" and bot names say nothing about who sent the mail; "Gustavo A. R. Silva" and
    "Gustavo Silva" are two people."""
    assert name_aliases([("root", "a@x"), ("root", "b@y"), ("", "c@z"), ("", "d@z")]) == {}
    assert name_aliases([("Gustavo A. R. Silva", "gustavo@embeddedor.com"),
                         ("Gustavo Silva", "gustavograzs@gmail.com")]) == {}


def test_mailmap_applies_first_and_is_kept() -> None:
    """A .mailmap line maps an address even when no name links them, and its target
    is what name grouping then sees."""
    base = mailmap_aliases({"old@corp.com": "new@kernel.org",
                            "Some One <older@corp.com>": "new@kernel.org"})
    assert base == {"old@corp.com": "new@kernel.org", "older@corp.com": "new@kernel.org"}
    people = [("Some One", "old@corp.com"), ("Some One", "third@x.org"),
              ("Some One", "third@x.org")]
    # Chains are resolved: one lookup gives the final address.
    assert name_aliases(people, base=base) == {
        "old@corp.com": "third@x.org", "older@corp.com": "third@x.org",
        "new@kernel.org": "third@x.org"}
