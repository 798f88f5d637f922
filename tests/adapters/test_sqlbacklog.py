"""SqlBacklog (routing rows, manual actions, aliases) and the routing service over it,
on SQLite and PostgreSQL."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta, timezone

import pytest
import sqlalchemy as sa
from sqlalchemy.engine import Engine

from reviewbot.adapters.sql import migrate as sqlmigrate
from reviewbot.adapters.sql.backlog import SqlBacklog
from reviewbot.adapters.sql.store import SqlStore
from reviewbot.core.backlog.events import EventKind, OverrideAction, SeriesEvent
from reviewbot.core.maintainers.routing import RoutingIndex
from reviewbot.core.maintainers.sections import parse_maintainers
from reviewbot.core.maintainers.subsystems import SeriesRouting, SubsystemRoute
from reviewbot.core.model import MessageId, Series, SeriesId, SeriesPatch
from reviewbot.core.policy.model import Policy, PolicySet
from reviewbot.core.series.assemble import Assembly
from reviewbot.service.backlog import Context, ensure_routed
from tests.sqlfixtures import BACKENDS

T0 = datetime(2025, 3, 1, 12, tzinfo=UTC)
MAINTAINERS = """\
INFINIBAND SUBSYSTEM
M:\tLeon Romanovsky <leonro@nvidia.com>
L:\tlinux-rdma@vger.kernel.org
T:\tgit git://git.kernel.org/pub/scm/linux/kernel/git/rdma/rdma.git
F:\tdrivers/infiniband/

THE REST
F:\t*
F:\t*/
"""


def one_series(store: SqlStore, *files: str) -> SeriesId:
    sid = SeriesId("p1@x")
    patch = SeriesPatch(1, MessageId("p1@x"), "[PATCH] x", tuple(files), None, ())
    s = Series(sid, "x", 1, 1, "Leon Romanovsky", "leon@kernel.org", T0, None, (patch,), (),
               members=(MessageId("p1@x"),))
    store.save_assembly(Assembly(series=(s,), series_of={MessageId("p1@x"): sid}),
                        {sid: "new"})
    return sid


def test_routing_round_trip(store: SqlStore) -> None:
    """Routes (taker, lists, M:, R:) and unowned files come back as saved; a save replaces."""
    b = SqlBacklog(store.engine)
    r = SeriesRouting((SubsystemRoute("A", True, ("a@l",), ("M <m@x>",), ("R <r@x>",)),
                       SubsystemRoute("B", False, (), (), ())), ("README",))
    b.save_routing({SeriesId("s1"): r}, {"old@x": "new@x"}, "stamp1")
    assert b.routing() == {SeriesId("s1"): r}
    assert b.routing(["s1", "nope"]) == {SeriesId("s1"): r}
    assert (b.aliases(), b.routing_stamp()) == ({"old@x": "new@x"}, "stamp1")
    b.save_routing({}, {}, "stamp2")
    assert (b.routing(), b.aliases(), b.routing_stamp()) == ({}, {}, "stamp2")


def test_actions_keep_actor_time_and_details(store: SqlStore) -> None:
    """A snooze with its end and reason, and a claim, read back as the events recorded
    (times in UTC, whatever zone they were given in)."""
    b = SqlBacklog(store.engine)
    at = datetime(2025, 3, 2, 9, tzinfo=timezone(timedelta(hours=-4)))
    snooze = SeriesEvent(at=at, kind=EventKind.OVERRIDE, actor="leon@kernel.org",
                         action=OverrideAction.SNOOZE, until=at + timedelta(days=7),
                         note="merge window")
    claim = SeriesEvent(at=at + timedelta(hours=1), kind=EventKind.CLAIM, actor="r@x")
    b.add_action("s1", snooze)
    b.add_action("s1", claim)
    b.add_action("s2", claim)
    got = b.actions(["s1"])[SeriesId("s1")]
    assert [(e.kind, e.actor, e.at, e.action, e.until, e.note) for e in got] == [
        (EventKind.OVERRIDE, "leon@kernel.org", datetime(2025, 3, 2, 13, tzinfo=UTC),
         OverrideAction.SNOOZE, datetime(2025, 3, 9, 13, tzinfo=UTC), "merge window"),
        (EventKind.CLAIM, "r@x", datetime(2025, 3, 2, 14, tzinfo=UTC), None, None, "")]
    assert set(b.actions()) == {"s1", "s2"}


def test_routing_runs_again_only_when_something_changed(store: SqlStore) -> None:
    """Routing is stored with a stamp; the same MAINTAINERS and series route nothing anew,
    a new MAINTAINERS version does. Leon's two addresses become one person."""
    sid = one_series(store, "drivers/infiniband/core/cma.c", "Documentation/x.rst")
    b = SqlBacklog(store.engine)
    ctx = Context(PolicySet(Policy()), RoutingIndex(parse_maintainers(MAINTAINERS)), "v1")
    assert ensure_routed(b, ctx) is True
    assert ensure_routed(b, ctx) is False
    got = b.routing()[sid]
    assert [(r.section, r.is_taker) for r in got.routes] == [("INFINIBAND SUBSYSTEM", True)]
    assert got.unowned == ("Documentation/x.rst",)
    assert b.aliases() == {"leon@kernel.org": "leonro@nvidia.com"}
    assert ensure_routed(b, Context(ctx.policies, ctx.index, "v2")) is True


BACKLOG_TABLES = {"series_route", "series_unowned", "series_action", "person_alias"}


@pytest.mark.parametrize("empty_engine", BACKENDS, indirect=True)
def test_migration_0003_adds_and_removes_the_backlog_tables(empty_engine: Engine) -> None:
    """0002 -> 0003 creates the four backlog tables; going back to 0002 drops them again,
    leaving the 0002 tables alone."""
    sqlmigrate.upgrade(empty_engine, "0002")
    before = set(sa.inspect(empty_engine).get_table_names())
    sqlmigrate.upgrade(empty_engine, "0003")
    assert set(sa.inspect(empty_engine).get_table_names()) == before | BACKLOG_TABLES
    sqlmigrate.downgrade(empty_engine, "0002")
    assert set(sa.inspect(empty_engine).get_table_names()) == before
