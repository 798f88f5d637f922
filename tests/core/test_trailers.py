"""Trailer parsing. Lines marked "corpus" are copied from the 2025 corpus."""

from __future__ import annotations

import pytest

from reviewbot.core.mail.trailers import parse_trailers
from reviewbot.core.model import MessageId, TrailerKind

K = TrailerKind

# line, kind, name, email, value, qualifier
LINES = [
    (  # corpus
        "Acked-by: Steven Rostedt (Google) <rostedt@goodmis.org> # for kernel/trace/",
        K.ACKED_BY, "Steven Rostedt (Google)", "rostedt@goodmis.org",
        "Steven Rostedt (Google) <rostedt@goodmis.org>", "for kernel/trace/",
    ),
    (  # the conventions.md example
        "Acked-by: A <a@x> # for the DT part",
        K.ACKED_BY, "A", "a@x", "A <a@x>", "for the DT part",
    ),
    (  # corpus: quoted name, two blanks before "#"
        'Reviewed-by: "Darrick J. Wong" <djwong@kernel.org> # xfs',
        K.REVIEWED_BY, "Darrick J. Wong", "djwong@kernel.org",
        '"Darrick J. Wong" <djwong@kernel.org>', "xfs",
    ),
    (  # corpus
        "Acked-by: Matthieu Baerts (NGI0) <matttbe@kernel.org>  # net/mptcp",
        K.ACKED_BY, "Matthieu Baerts (NGI0)", "matttbe@kernel.org",
        "Matthieu Baerts (NGI0) <matttbe@kernel.org>", "net/mptcp",
    ),
    (  # corpus
        "Cc: stable@vger.kernel.org # 5.10+",
        K.CC, "", "stable@vger.kernel.org", "stable@vger.kernel.org", "5.10+",
    ),
    (  # corpus
        "Nacked-by: Jakub Kicinski <kuba@kernel.org>",
        K.NACKED_BY, "Jakub Kicinski", "kuba@kernel.org", "Jakub Kicinski <kuba@kernel.org>", None,
    ),
    (
        "NAK: Jakub Kicinski <kuba@kernel.org>",
        K.NACKED_BY, "Jakub Kicinski", "kuba@kernel.org", "Jakub Kicinski <kuba@kernel.org>", None,
    ),
    (  # corpus spells it "Reviewed-By" once
        "Reviewed-By: Leon Romanovsky <LEON@Kernel.org>",
        K.REVIEWED_BY, "Leon Romanovsky", "leon@kernel.org",
        "Leon Romanovsky <LEON@Kernel.org>", None,
    ),
    (
        "tested-by: Ma Ke <make24@iscas.ac.cn>",
        K.TESTED_BY, "Ma Ke", "make24@iscas.ac.cn", "Ma Ke <make24@iscas.ac.cn>", None,
    ),
    (  # utility trailers keep their whole value, "#" included
        'Fixes: 220043b06fde ("RDMA/mlx5: Fix link status # down")',
        K.FIXES, "", "", '220043b06fde ("RDMA/mlx5: Fix link status # down")', None,
    ),
    (
        "Link: https://patch.msgid.link/20250101-x@kernel.org",
        K.LINK, "", "", "https://patch.msgid.link/20250101-x@kernel.org", None,
    ),
    (
        "Closes: https://lore.kernel.org/oe-kbuild-all/202510120715.P7oFOBOQ-lkp@intel.com/",
        K.CLOSES, "", "",
        "https://lore.kernel.org/oe-kbuild-all/202510120715.P7oFOBOQ-lkp@intel.com/", None,
    ),
    (
        "Signed-off-by: Leon Romanovsky <leonro@nvidia.com>",
        K.SIGNED_OFF_BY, "Leon Romanovsky", "leonro@nvidia.com",
        "Leon Romanovsky <leonro@nvidia.com>", None,
    ),
    (
        "Reviewed-by: Jason Gunthorpe",
        K.REVIEWED_BY, "Jason Gunthorpe", "", "Jason Gunthorpe", None,
    ),
]


@pytest.mark.parametrize(("line", "kind", "name", "email", "value", "qualifier"), LINES)
def test_trailer_lines(
    line: str, kind: TrailerKind, name: str, email: str, value: str, qualifier: str | None
) -> None:
    """Kind, normalised person, value and `# qualifier` of one trailer line."""
    (t,) = parse_trailers("Some text.\n\n" + line + "\n", MessageId("m@x"))
    assert (t.kind, t.name, t.email, t.value, t.qualifier) == (kind, name, email, value, qualifier)
    assert t.source == "m@x"


def test_quoted_indented_and_piped_lines_do_not_count() -> None:
    """`>` quotes, indented lines and the robot's `| Reported-by` are ignored."""
    body = (
        "> Signed-off-by: Al Viro <viro@zeniv.linux.org.uk>\n"
        ">> Reviewed-by: Someone <s@x>\n"
        "    Acked-by: Indented <i@x>\n"
        "| Reported-by: kernel test robot <lkp@intel.com>\n"
        "| Closes: https://lore.kernel.org/oe-kbuild-all/202510120715.P7oFOBOQ-lkp@intel.com/\n"
        "\n"
        "Reviewed-by: Christian Brauner <brauner@kernel.org>\n"
    )
    trailers = parse_trailers(body)
    assert [(t.kind, t.email) for t in trailers] == [(K.REVIEWED_BY, "brauner@kernel.org")]


def test_combined_tag_gives_each_kind_and_a_warning() -> None:
    """`Reported-and-tested-by` yields Reported-by and Tested-by, flagged for lint."""
    warnings: list[str] = []
    trailers = parse_trailers("Reported-and-tested-by: R <r@x>\n", None, warnings)
    assert [(t.kind, t.email) for t in trailers] == [(K.REPORTED_BY, "r@x"), (K.TESTED_BY, "r@x")]
    assert warnings == ["combined trailer Reported-and-tested-by:"]


def test_unknown_combined_part_is_dropped() -> None:
    """Only known kinds come out of a combined tag."""
    trailers = parse_trailers("Reviewed-and-blessed-by: R <r@x>\n", None, [])
    assert [t.kind for t in trailers] == [K.REVIEWED_BY]


def test_prose_with_colon_is_not_a_trailer() -> None:
    """An ordinary sentence with a colon yields nothing."""
    assert parse_trailers("Note: this fixes the leak.\nThanks: everyone\n") == ()
