"""core.subsystems: a series routed by all its files, in every section's queue, taker marked."""

from __future__ import annotations

from reviewbot.core.maintainers.routing import RoutingIndex
from reviewbot.core.maintainers.sections import parse_maintainers
from reviewbot.core.maintainers.subsystems import matches_subsystem, route_files

MAINTAINERS = """\
INFINIBAND SUBSYSTEM
M:\tJason Gunthorpe <jgg@nvidia.com>
M:\tLeon Romanovsky <leonro@nvidia.com>
L:\tlinux-rdma@vger.kernel.org
S:\tSupported
T:\tgit git://git.kernel.org/pub/scm/linux/kernel/git/rdma/rdma.git
F:\tdrivers/infiniband/

MELLANOX MLX5 core VPI driver
M:\tSaeed Mahameed <saeedm@nvidia.com>
R:\tTariq Toukan <tariqt@nvidia.com>
L:\tnetdev@vger.kernel.org
L:\tlinux-rdma@vger.kernel.org (moderated for non-subscribers)
S:\tMaintained
F:\tdrivers/net/ethernet/mellanox/mlx5/core/

THE REST
M:\tLinus Torvalds <torvalds@linux-foundation.org>
L:\tlinux-kernel@vger.kernel.org
S:\tBuried alive in reporters
F:\t*
F:\t*/
"""
INDEX = RoutingIndex(parse_maintainers(MAINTAINERS))


def test_a_series_touching_two_subsystems_is_in_both_with_the_taker_first() -> None:
    """Two mlx5 core files and one IB file: both sections; IB takes it (it has a tree)."""
    r = route_files(INDEX, ["drivers/net/ethernet/mellanox/mlx5/core/fw.c",
                            "drivers/net/ethernet/mellanox/mlx5/core/fs_core.c",
                            "drivers/infiniband/hw/mlx5/fs.c"])
    assert [(x.section, x.is_taker) for x in r.routes] == [
        ("INFINIBAND SUBSYSTEM", True), ("MELLANOX MLX5 core VPI driver", False)]
    assert r.taker is not None and r.taker.maintainers == (
        "Jason Gunthorpe <jgg@nvidia.com>", "Leon Romanovsky <leonro@nvidia.com>")
    mlx5 = r.routes[1]
    assert mlx5.lists == ("netdev@vger.kernel.org", "linux-rdma@vger.kernel.org")
    assert mlx5.reviewers == ("Tariq Toukan <tariqt@nvidia.com>",)
    assert r.unowned == ()


def test_files_only_the_rest_claims_are_flagged_unowned() -> None:
    """THE REST is not a subsystem: a file only it matches is unowned, and nobody takes it."""
    r = route_files(INDEX, ["Documentation/foo.rst"])
    assert (r.routes, r.unowned, r.taker) == ((), ("Documentation/foo.rst",), None)


def test_subsystem_name_matches_section_any_case_or_list_address() -> None:
    """`queue --subsystem` accepts 'infiniband subsystem' and linux-rdma@vger.kernel.org."""
    ib = route_files(INDEX, ["drivers/infiniband/core/cma.c"]).routes[0]
    assert matches_subsystem(ib, "infiniband subsystem")
    assert matches_subsystem(ib, "Linux-RDMA@vger.kernel.org")
    assert not matches_subsystem(ib, "INFINIBAND")
