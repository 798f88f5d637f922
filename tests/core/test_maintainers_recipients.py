"""get_maintainer.pl's address list: order, deduplication, lists, .mailmap."""

from __future__ import annotations

from reviewbot.core.maintainers.recipients import (
    addresses,
    escape_name,
    file_emails,
    get_maintainer_lines,
    parse_email,
    parse_mailmap,
)
from reviewbot.core.maintainers.routing import RoutingIndex, route
from reviewbot.core.maintainers.sections import parse_maintainers

MAINT = """\
DEEP DRIVER
R:\tRita Reviewer <rita@example.org>
M:\tDana Deep <dana@example.org>
L:\tdeep@lists.example.org
L:\tsecret@lists.example.org (subscribers-only)
L:\tmod@lists.example.org (moderated for non-subscribers)
S:\tSupported
F:\tdrivers/deep/core/

SUBSYSTEM
M:\t"Sam J. Sub" <sam@example.org>
M:\tDana Deep <dana@other.example.org>
M:\tOld Address <old@example.org>
L:\tDEEP@lists.example.org
S:\tMaintained
F:\tdrivers/deep/

THE REST
M:\tLinus Torvalds <torvalds@linux-foundation.org>
L:\tlinux-kernel@vger.kernel.org
S:\tBuried alive in reporters
F:\t*
F:\t*/
"""

MAILMAP = """\
# comment
New Name <new@example.org> <old@example.org>
"""


def lines_for(files: list[str], mailmap: str | None = None) -> list[str]:
    index = RoutingIndex(parse_maintainers(MAINT))
    return get_maintainer_lines(route(index, files),
                                parse_mailmap(mailmap) if mailmap is not None else None)


def test_people_in_section_order_then_lists_then_linus_dropped() -> None:
    """M:/R: in the order written, most specific section first; lists after all people."""
    assert lines_for(["drivers/deep/core/x.c"]) == [
        "Rita Reviewer <rita@example.org>",
        "Dana Deep <dana@example.org>",
        '"Sam J. Sub" <sam@example.org>',
        "Old Address <old@example.org>",
        "deep@lists.example.org",
        "mod@lists.example.org",
        "linux-kernel@vger.kernel.org",
    ]


def test_a_name_already_listed_keeps_its_first_address() -> None:
    """Dana's second address is dropped: get_maintainer.pl dedups by name too."""
    assert "dana@other.example.org" not in addresses(lines_for(["drivers/deep/core/x.c"]))


def test_a_list_is_deduplicated_case_insensitively() -> None:
    """DEEP@lists... is the same list as deep@lists...: only the first spelling stays."""
    lines = lines_for(["drivers/deep/core/x.c"])
    assert [line.lower() for line in lines].count("deep@lists.example.org") == 1


def test_subscribers_only_lists_are_left_out_and_moderated_kept() -> None:
    """Default options: --moderated on, --s off."""
    got = addresses(lines_for(["drivers/deep/core/x.c"]))
    assert "secret@lists.example.org" not in got
    assert "mod@lists.example.org" in got


def test_mailmap_rewrites_names_and_addresses() -> None:
    """`Name <new> <old>` turns the old address into the new name and address."""
    lines = lines_for(["drivers/deep/x.c"], MAILMAP)
    assert "New Name <new@example.org>" in lines
    assert "old@example.org" not in addresses(lines)


def test_names_with_punctuation_are_quoted() -> None:
    """escape_name quotes names with characters outside ASCII word, space and '-'."""
    assert escape_name("Sam J. Sub") == '"Sam J. Sub"'
    assert escape_name("Jean-Luc Picard") == "Jean-Luc Picard"
    assert escape_name("Uwe Kleine-König") == '"Uwe Kleine-König"'


def test_parse_email_splits_name_and_address() -> None:
    """Trailing comments are dropped; bare addresses have no name."""
    assert parse_email("Tom T <tom@example.org> (RDMA, smbdirect)") == ("Tom T",
                                                                        "tom@example.org")
    assert parse_email("list@example.org") == ("", "list@example.org")


YAML = """\
maintainers:
  - Rob Herring <robh@kernel.org>
  - Dr. A. B. Smith <abs@example.org>
  - "Jane Q. Public" <jane@example.org>
description: |
  Contact foo@example.org for details.
"""


def test_addresses_in_a_touched_yaml_file_are_read_like_get_maintainer() -> None:
    """Checked against get_maintainer.pl on this file: the last two or three name words
    are kept (three with an initial), and prose before an address becomes its name."""
    assert file_emails(YAML) == [
        "Rob Herring <robh@kernel.org>",
        '"A. B. Smith" <abs@example.org>',
        '"Jane Q. Public" <jane@example.org>',
        "Contact <foo@example.org>",
    ]


def test_in_file_addresses_follow_the_people_and_skip_known_ones() -> None:
    """They come after M:/R: and before the lists; a name already listed is not repeated."""
    index = RoutingIndex(parse_maintainers(MAINT))
    lines = get_maintainer_lines(route(index, ["drivers/deep/core/x.yaml"]), None,
                                 ["Dana Deep <dana@elsewhere.org>", "Yan Y <yan@example.org>"])
    assert lines.index("Yan Y <yan@example.org>") == lines.index("deep@lists.example.org") - 1
    assert "dana@elsewhere.org" not in addresses(lines)
