"""`reviewbot am <message-id> [-o DIR]`: write a series for `git am`, as `b4 am` does.

Any Message-ID of any revision names the series; the latest complete revision is
written (the latest one, with a warning, when none is complete), with its cover letter
and the trailers collected from replies and carried from identical patches of older
revisions, by b4's own code (adapters/b4) from the stored raw mail: no network. Prints
where the files went, the `git am` line and the matching `b4 shazam` line.
"""

from __future__ import annotations

import argparse
from pathlib import Path

from reviewbot.commands.db import CommandError, open_app, run_guarded, unknown_series
from reviewbot.core.model import Series, SeriesId
from reviewbot.ports import SeriesHistory
from reviewbot.wiring import App


def pick_revision(chain: list[Series]) -> tuple[Series, bool]:
    """The latest complete revision (True), else the latest one (False)."""
    ordered = sorted(chain, key=lambda s: (s.version, s.date))
    complete = [s for s in ordered if s.complete]
    return (complete[-1], True) if complete else (ordered[-1], False)


def _chain(app: App, mid: str) -> dict[SeriesId, SeriesHistory]:
    reader = app.reader
    sid = reader.find_series(mid)
    if sid is None:
        raise CommandError(unknown_series(mid, reader.has_message(mid)))
    first = reader.histories([sid])[sid]
    ids = sorted({*first.series.revisions, sid})
    return dict(reader.histories(ids))


def _run(args: argparse.Namespace) -> int:
    from reviewbot.adapters.b4.am import AmError, write_am
    from reviewbot.adapters.sql.series.lookup import SqlSeriesLookup

    app = open_app(args)
    mid = args.message_id.strip().removeprefix("<").removesuffix(">")
    chain = _chain(app, mid)
    chosen, complete = pick_revision([h.series for h in chain.values()])
    # The chosen revision and the older ones it carries trailers from; not a repost of
    # the same version nor a later incomplete one, which b4 would fold into its v<N>.
    given = [h.series for h in chain.values()
             if h.series.version < chosen.version or h.series.series_id == chosen.series_id]
    wanted = sorted({m for s in given for m in s.members}
                    | {p.message_id for s in given for p in s.patches})
    raws = SqlSeriesLookup(app.engine, app.raw_reader()).raw_messages(wanted)
    if not raws:
        raise CommandError(f"<{mid}>: none of its mail can be read back (an epoch kept by "
                           "reference is gone: re-run its ingest to record where it lives)")
    outdir = Path(args.outdir)
    try:
        result = write_am([raws[m] for m in sorted(raws)], chosen.version, outdir)
    except AmError as exc:
        raise CommandError(f"<{chosen.series_id}>: {exc}") from exc
    except OSError as exc:
        raise CommandError(f"cannot write into {outdir}: {exc}") from exc
    if not complete:
        print(f"warning: no revision is complete; v{chosen.version} misses patch "
              + ", ".join(map(str, chosen.missing)))
    if len(raws) < len(wanted):
        print(f"warning: {len(wanted) - len(raws)} of {len(wanted)} mails could not be read "
              "back; their trailers are missing")
    print(f"v{result.revision}: {chosen.title} ({result.patches} patches"
          + (", partial reroll from older revisions" if result.partial_reroll else "") + ")")
    for mismatch in result.mismatches:
        print(f"  left out by b4 (From does not match): {mismatch}")
    if result.cover is not None:
        print(f"cover: {result.cover}")
    print(f"mbox:  {result.mbox}")
    print(f"git am {result.mbox}")
    print(f"b4 shazam -v {result.revision} {chosen.cover_message_id or chosen.series_id}")
    return 0


def register(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    p = sub.add_parser("am", help="write a series ready for `git am`, as `b4 am` does "
                       "(from stored mail, no network)")
    p.add_argument("message_id", metavar="MESSAGE-ID", help="any message of any revision, "
                   "with or without <>")
    p.add_argument("-o", "--outdir", metavar="DIR", default=".",
                   help="where to write <slug>.mbx and <slug>.cover (default: here)")
    p.set_defaults(func=run_guarded(_run))
