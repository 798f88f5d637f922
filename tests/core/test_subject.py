"""Subject prefixes, as they really occur in the 2025 linux-rdma corpus.

Every subject in SUBJECTS is copied from the corpus (`git log --format=%s`,
which shows folded headers with their double spaces), except where a comment
says it was shortened.
"""

from __future__ import annotations

import pytest

from reviewbot.core.mail.subject import parse_subject

# subject, title, version, version_label, counter, total, tags, flags set
SUBJECTS = [
    (
        "[PATCH v2 net-next 7/7] socket: Clean up kdoc for sock_create() and sock_create_lite().",
        "socket: Clean up kdoc for sock_create() and sock_create_lite().",
        2, "2", 7, 7, ("patch", "net-next"), {"is_patch"},
    ),
    (
        "[PATCH net-next V2 2/2] net/mlx5e: Support XDP target xmit with dummy program",
        "net/mlx5e: Support XDP target xmit with dummy program",
        2, "2", 2, 2, ("patch", "net-next"), {"is_patch"},
    ),
    (
        "[PATCHv2 for-next 1/1] RDMA/rxe: Fix the failure of ibv_query_device() and "
        "ibv_query_device_ex() tests",
        "RDMA/rxe: Fix the failure of ibv_query_device() and ibv_query_device_ex() tests",
        2, "2", 1, 1, ("patch", "for-next"), {"is_patch"},
    ),
    (
        "[Patch rdma-next v2] RDMA/mana_ib: handle net event for pointing to the current netdev",
        "RDMA/mana_ib: handle net event for pointing to the current netdev",
        2, "2", None, None, ("patch", "rdma-next"), {"is_patch"},
    ),
    (
        "Re: [PATCH net-next v4.1] rds: Expose feature parameters via sysfs  (and ELF)",
        "rds: Expose feature parameters via sysfs (and ELF)",
        4, "4.1", None, None, ("patch", "net-next"), {"is_patch", "is_reply"},
    ),
    (
        "[PATCH 6.12/6.15] RDMA/hns: initialize db in update_srq_db()",
        "RDMA/hns: initialize db in update_srq_db()",
        1, "1", None, None, ("patch", "6.12/6.15"), {"is_patch"},
    ),
    (
        "[iwl-next,rdma v3 00/24] Add RDMA support for Intel IPU E2000 (GEN3)",
        "Add RDMA support for Intel IPU E2000 (GEN3)",
        3, "3", 0, 24, ("iwl-next", "rdma"), {"is_patch"},
    ),
    (
        "[RFC PATCH] RDMA/bnxt_re: Fix OOB write in bnxt_re_copy_err_stats()",
        "RDMA/bnxt_re: Fix OOB write in bnxt_re_copy_err_stats()",
        1, "1", None, None, ("rfc", "patch"), {"is_patch", "is_rfc"},
    ),
    (
        "[PATCH RFC] rxe: Fix iova-to-va conversion for MR page sizes != PAGE_SIZE",
        "rxe: Fix iova-to-va conversion for MR page sizes != PAGE_SIZE",
        1, "1", None, None, ("patch", "rfc"), {"is_patch", "is_rfc"},
    ),
    (
        "Re: [PATCH RESEND] RDMA/siw: Change maintainer email address",
        "RDMA/siw: Change maintainer email address",
        1, "1", None, None, ("patch", "resend"), {"is_patch", "is_resend", "is_reply"},
    ),
    (
        "[PATCH rdma-next v2 RESEND 0/4] RDMA/bnxt_re: Support for FW async event handling",
        "RDMA/bnxt_re: Support for FW async event handling",
        2, "2", 0, 4, ("patch", "rdma-next", "resend"), {"is_patch", "is_resend"},
    ),
    (
        "[PATCH AUTOSEL 6.12 82/93] RDMA/hns: initialize db in update_srq_db()",
        "RDMA/hns: initialize db in update_srq_db()",
        1, "1", 82, 93, ("patch", "autosel", "6.12"), {"is_patch", "is_autosel"},
    ),
    (
        "[GIT PULL] Please pull RDMA subsystem changes",
        "Please pull RDMA subsystem changes",
        1, "1", None, None, ("git", "pull"), {"is_pull"},
    ),
    (
        "[PULL 13/14] migration/rdma: Remove qemu_rdma_broken_ipv6_kernel",
        "migration/rdma: Remove qemu_rdma_broken_ipv6_kernel",
        1, "1", 13, 14, ("pull",), {"is_pull"},
    ),
    (
        "[pull-request] mlx5-next updates 2025-11-13",
        "mlx5-next updates 2025-11-13",
        1, "1", None, None, ("pull-request",), {"is_pull"},
    ),
    (
        "Re: [PATCH net-next v4 00/24][pull request] Queue configs and large  buffer providers",
        "Queue configs and large buffer providers",
        4, "4", 0, 24, ("patch", "net-next", "pull"), {"is_patch", "is_pull", "is_reply"},
    ),
    (
        "[syzbot] Monthly rdma report (Dec 2025)",
        "Monthly rdma report (Dec 2025)",
        1, "1", None, None, ("syzbot",), set(),
    ),
    (
        "Re: (subset) [PATCH rdma-next 0/4] Optimize DMABUF mkey page size  in mlx5",
        "Optimize DMABUF mkey page size in mlx5",
        1, "1", 0, 4, ("patch", "rdma-next"), {"is_patch", "is_reply"},
    ),
    (
        "RE: [EXTERNAL] Re: [PATCH net-next] net: mana: Fix use-after-free in  reset service "
        "rescan path",
        "net: mana: Fix use-after-free in reset service rescan path",
        1, "1", None, None, ("external", "patch", "net-next"), {"is_patch", "is_reply"},
    ),
    (
        "Re: [????] Re: [????] Re: [PATCH][v2] RDMA/core: Prevent soft lockup  during large "
        "user memory region cleanup",
        "RDMA/core: Prevent soft lockup during large user memory region cleanup",
        2, "2", None, None, ("????", "patch"), {"is_patch", "is_reply"},
    ),
    (
        "Re: [PATCH net v4?] net/mlx5: handle errors in  mlx5_chains_create_table()",
        "net/mlx5: handle errors in mlx5_chains_create_table()",
        4, "4", None, None, ("patch", "net"), {"is_patch", "is_reply"},
    ),
    (
        "[PATCH net-next,v2] net: mana: Support HW link state events",
        "net: mana: Support HW link state events",
        2, "2", None, None, ("patch", "net-next"), {"is_patch"},
    ),
    (
        "[RFC v4 18/18] page_pool: access ->pp_magic through struct netmem_desc in "
        "page_pool_page_is_pp()",
        "page_pool: access ->pp_magic through struct netmem_desc in page_pool_page_is_pp()",
        4, "4", 18, 18, ("rfc",), {"is_patch", "is_rfc"},
    ),
    (
        "Re:RE: [PATCH] RDMA/irdma: fix Kconfig dependency",
        "RDMA/irdma: fix Kconfig dependency",
        1, "1", None, None, ("patch",), {"is_patch", "is_reply"},
    ),
    (
        "[PATCH v6 09/14] RDMA/ionic: Create device queues to support admin operations",
        "RDMA/ionic: Create device queues to support admin operations",
        6, "6", 9, 14, ("patch",), {"is_patch"},
    ),
    (
        "[PATCH 6.6.y] net/mlx5e: Don't call cleanup on profile rollback failure",
        "net/mlx5e: Don't call cleanup on profile rollback failure",
        1, "1", None, None, ("patch", "6.6.y"), {"is_patch"},
    ),
    (
        "[PATCH][next] RDMA/rxe: Avoid -Wflex-array-member-not-at-end warnings",
        "RDMA/rxe: Avoid -Wflex-array-member-not-at-end warnings",
        1, "1", None, None, ("patch", "next"), {"is_patch"},
    ),
    (
        "[PATCH net-next v3 0/2] net/rds: RDS-TCP bug fix collection, subset 1: Work queue "
        "scalability",
        "net/rds: RDS-TCP bug fix collection, subset 1: Work queue scalability",
        3, "3", 0, 2, ("patch", "net-next"), {"is_patch"},
    ),
]

FLAGS = ("is_reply", "is_forward", "is_patch", "is_rfc", "is_resend", "is_pull", "is_autosel")


@pytest.mark.parametrize(
    ("raw", "title", "version", "label", "counter", "total", "tags", "flags"), SUBJECTS
)
def test_real_subject_shapes(
    raw: str,
    title: str,
    version: int,
    label: str,
    counter: int | None,
    total: int | None,
    tags: tuple[str, ...],
    flags: set[str],
) -> None:
    """Each real prefix shape yields its title, version, counter, tags and flags."""
    s = parse_subject(raw)
    assert s.title == title
    assert (s.version, s.version_label) == (version, label)
    assert (s.counter, s.total) == (counter, total)
    assert s.tags == tags
    assert {f for f in FLAGS if getattr(s, f)} == flags


def test_folded_subject_collapses_blanks() -> None:
    """A header folded across lines keeps one space where the fold was."""
    s = parse_subject("Re: [PATCH rdma-next] RDMA/mlx5: Fix link status down event for\n MPV")
    assert s.raw == "Re: [PATCH rdma-next] RDMA/mlx5: Fix link status down event for MPV"
    assert s.title == "RDMA/mlx5: Fix link status down event for MPV"


def test_forward_and_foreign_reply_markers() -> None:
    """AW:/SV: count as replies and Fwd: as a forward, in any order."""
    s = parse_subject("AW: Fwd: [PATCH v3 1/2] x: y")
    assert (s.is_reply, s.is_forward, s.counter, s.version) == (True, True, 1, 3)
    assert parse_subject("SV: [PATCH] x").is_reply


def test_prose_colon_is_not_a_reply_marker() -> None:
    """A summary such as "net: fix" is not mistaken for "Re:"."""
    s = parse_subject("net: mana: fix a leak")
    assert not s.is_reply
    assert s.title == "net: mana: fix a leak"


def test_no_brackets_is_not_a_patch() -> None:
    """A plain subject carries no patch flags and keeps the defaults."""
    s = parse_subject("librdmacm infinite loop in rpoll when timeout > 0")
    assert not s.is_patch
    assert (s.version, s.counter, s.tags) == (1, None, ())


def test_x_of_n_and_glued_counters() -> None:
    """"[PATCH 2 of 5]" and "[PATCH1/8]" (patchwork#126) are counters too."""
    a = parse_subject("[PATCH 2 of 5] x: y")
    b = parse_subject("[PATCH1/8] x: y")
    assert (a.counter, a.total, a.is_patch) == (2, 5, True)
    assert (b.counter, b.total, b.is_patch) == (1, 8, True)
