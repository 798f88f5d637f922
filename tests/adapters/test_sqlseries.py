"""The refresh's storage (SqlSeriesStore, SqlActions) under the refresh service, on SQLite
and PostgreSQL: routing reused until MAINTAINERS really changes, actions that dirty their
series, one person behind several addresses."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta, timezone

import pytest
import sqlalchemy as sa
from sqlalchemy.engine import Engine

from reviewbot.adapters.sql import migrate as sqlmigrate
from reviewbot.adapters.sql.schema.seriescodec import decode_standing
from reviewbot.adapters.sql.series import reads
from reviewbot.adapters.sql.series.actions import SqlActions
from reviewbot.adapters.sql.series.store import SqlSeriesStore
from reviewbot.adapters.sql.store import SqlStore
from reviewbot.core.backlog.events import EventKind, OverrideAction, SeriesEvent
from reviewbot.core.maintainers.routing import RoutingIndex
from reviewbot.core.maintainers.sections import parse_maintainers
from reviewbot.core.model import Message, MessageId, MessageKind, Subject, Trailer
from reviewbot.core.policy.model import Policy, PolicySet
from reviewbot.ports import Parsed, RawMail
from reviewbot.service.backlog.context import BacklogContext
from reviewbot.service.backlog.refresh import refresh
from tests.sqlfixtures import BACKENDS

T0 = datetime(2025, 3, 1, 12, tzinfo=UTC)
MAINTAINERS = """\
INFINIBAND SUBSYSTEM
M:\tLeon Romanovsky <leonro@nvidia.com>
L:\tlinux-rdma@vger.kernel.org
F:\tdrivers/infiniband/

THE REST
F:\t*
F:\t*/
"""


class FakeMaintainers:
    """The MaintainersView port over a MAINTAINERS text; counts how often it is parsed."""

    def __init__(self, text: str) -> None:
        self.text, self.loads = text, 0
        self._index: RoutingIndex | None = None

    @property
    def stamp(self) -> str:
        return str(hash(self.text))

    def index(self) -> RoutingIndex:
        if self._index is None:
            self.loads += 1
            self._index = RoutingIndex(parse_maintainers(self.text))
        return self._index

    def aliases(self) -> dict[str, str]:
        return {}


def mail(mid: str, *, sender: str = "Leon Romanovsky <leon@kernel.org>",
         files: tuple[str, ...] = ("drivers/infiniband/core/cma.c",), reply_to: str | None = None,
         trailers: tuple[Trailer, ...] = (), hours: int = 0) -> Parsed:
    name, addr = sender.split(" <")
    subject = Subject(raw="Re: [PATCH] x" if reply_to else "[PATCH] x", title="x",
                      is_reply=bool(reply_to), is_patch=not reply_to)
    m = Message(MessageId(mid), subject, name, addr.rstrip(">"), T0 + timedelta(hours=hours),
                MessageKind.REPLY if reply_to else MessageKind.PATCH,
                in_reply_to=MessageId(reply_to) if reply_to else None,
                files=() if reply_to else files, trailers=trailers)
    raw = f"Message-ID: <{mid}>\n\n".encode()
    return Parsed(RawMail(raw, f"t#{mid}", T0), m, mid.ljust(64, "0")[:64])


def put(store: SqlStore, *items: Parsed) -> None:
    store.store_batch(list_name="l", source_key="k", cursor="c", parsed=list(items),
                      rejected=[], removals=[])


def state_of(store: SqlStore, sid: str) -> tuple[str, str]:
    with store.engine.connect() as conn:
        row = conn.execute(sa.text("SELECT state, turn FROM series WHERE series_id = :s"),
                           {"s": sid}).one()
    return str(row[0]), str(row[1])


def test_routing_is_reused_until_maintainers_really_changes(store: SqlStore) -> None:
    """A series whose files did not change keeps its stored routing; new MAINTAINERS
    content reroutes everything (and only then is MAINTAINERS parsed again)."""
    view = FakeMaintainers(MAINTAINERS)
    ctx = BacklogContext(PolicySet(Policy()), view)
    series = SqlSeriesStore(store.engine)
    put(store, mail("p@x"))
    refresh(series, ctx)
    assert series.routing(["p@x"])["p@x"].taker is not None
    assert view.loads == 1
    put(store, mail("r@x", sender="Jason Gunthorpe <jgg@ziepe.ca>", reply_to="p@x", hours=1))
    report = refresh(series, BacklogContext(ctx.policies, view))  # a new process, same files
    assert report.series == 1 and view.loads == 1 and not report.context_changed
    moved = FakeMaintainers(MAINTAINERS.replace("drivers/infiniband/", "drivers/net/"))
    report = refresh(series, BacklogContext(ctx.policies, moved))
    assert report.context_changed and report.series == 1
    assert series.routing(["p@x"])["p@x"].taker is None


def test_an_action_dirties_its_series_and_refresh_applies_it(store: SqlStore) -> None:
    """A snooze recorded with its time zone reads back in UTC, and the stored state is
    snoozed right after the refresh that follows."""
    series = SqlSeriesStore(store.engine)
    ctx = BacklogContext(PolicySet(Policy()))
    put(store, mail("p@x"))
    refresh(series, ctx)
    at = datetime(2025, 3, 2, 9, tzinfo=timezone(timedelta(hours=-4)))
    snooze = SeriesEvent(at=at, kind=EventKind.OVERRIDE, actor="leon@kernel.org",
                         action=OverrideAction.SNOOZE, until=at + timedelta(days=7),
                         note="merge window")
    SqlActions(store.engine).add_action("p@x", snooze)
    assert [d.comp for d in series.dirty_components(10)] != []
    with store.engine.connect() as conn:
        [got] = reads.actions(conn, ["p@x"])["p@x"]
    assert (got.at, got.until, got.note) == (datetime(2025, 3, 2, 13, tzinfo=UTC),
                                            datetime(2025, 3, 9, 13, tzinfo=UTC),
                                            "merge window")
    refresh(series, ctx)
    assert state_of(store, "p@x") == ("snoozed", "nobody")


def spoke(store: SqlStore, sid: str) -> tuple[str, ...]:
    with store.engine.connect() as conn:
        text = conn.execute(sa.text("SELECT standing FROM series WHERE series_id = :s"),
                            {"s": sid}).scalar_one()
    return decode_standing(text).spoke


def test_one_person_behind_two_addresses(store: SqlStore) -> None:
    """Leon posts from kernel.org and is listed from nvidia.com: one person, the listed
    address canonical."""
    series = SqlSeriesStore(store.engine)
    ctx = BacklogContext(PolicySet(Policy()), FakeMaintainers(MAINTAINERS))
    put(store, mail("p@x"))
    report = refresh(series, ctx)
    assert series.aliases()[1] == {"leon@kernel.org": "leonro@nvidia.com"}
    assert report.aliases_changed == 1


def test_a_series_is_recomputed_when_its_people_change(store: SqlStore) -> None:
    """Dave reviews from a.org; later he posts more from b.org, which becomes his main
    address: the old series (in another thread) is recomputed with the new canonical."""
    series = SqlSeriesStore(store.engine)
    ctx = BacklogContext(PolicySet(Policy()))
    put(store, mail("p@x", sender="Jason Gunthorpe <jgg@ziepe.ca>"),
        mail("r@x", sender="Dave Smith <dave@a.org>", reply_to="p@x", hours=1))
    refresh(series, ctx)
    assert spoke(store, "p@x") == ("dave@a.org",)
    put(store, *(mail(f"d{n}@x", sender="Dave Smith <dave@b.org>", hours=10 + n,
                      files=(f"fs/f{n}.c",)) for n in range(2)))
    report = refresh(series, ctx)
    assert series.aliases()[1] == {"dave@a.org": "dave@b.org"}
    assert spoke(store, "p@x") == ("dave@b.org",)
    assert report.components >= 2  # Dave's new thread, and p@x through its actor


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
