"""`b4 am` through b4's own code, from stored raw mail, with no network.

The mail of every revision of a series (postings and replies) goes into one
b4.LoreMailbox, as b4 fetches a thread; b4 then picks the revision, collects the
follow-up trailers, carries trailers from identical patches of older revisions, checks
attestation (offline: DKIM is not checked), and writes the am-ready mbox and the cover
letter under the names `b4 am` uses (`<slug>.mbx`, `<slug>.cover`).
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path

import b4

from reviewbot.adapters.b4.setup import DnsFunc, offline, parse


class AmError(RuntimeError):
    """b4 found nothing to write (no such revision, no patches)."""


@dataclass(frozen=True, slots=True)
class AmResult:
    mbox: Path
    cover: Path | None
    revision: int
    patches: int  # messages written
    complete: bool
    partial_reroll: bool
    # per written patch, in order: its trailers as b4 wrote them ("Reviewed-by: A <a@x>")
    trailers: tuple[tuple[str, ...], ...]
    mismatches: tuple[str, ...]  # trailers b4 left out (the From did not match the trailer)
    log: tuple[str, ...]  # what b4 said


def write_am(raws: Iterable[bytes], revision: int, outdir: Path,
             dnsfunc: DnsFunc | None = None) -> AmResult:
    """Write revision `revision` of the series in `raws` (all its revisions' mail) to
    `outdir`, as `b4 am -o outdir -v revision` would. Raises AmError, OSError."""
    with offline(dnsfunc) as log:
        box = b4.LoreMailbox()
        for raw in raws:
            box.add_message(parse(raw))
        series = box.get_series(revision=revision, sloppytrailers=False, reroll=True,
                                codereview_trailers=False)
        if series is None:
            raise AmError(f"b4 finds no v{revision} with patches in this mail")
        msgs = series.get_am_ready(noaddtrailers=False, addmysob=False, addlink=False,
                                   cherrypick=None, copyccs=False, allowbadchars=False,
                                   showchecks=False)
        if not msgs:
            raise AmError(f"b4 finds no patches of v{revision} to write")
        outdir.mkdir(parents=True, exist_ok=True)
        slug = series.get_slug(extended=True)
        mbox = outdir / f"{slug}.mbx"
        with mbox.open("wb") as fh:
            b4.save_git_am_mbox(msgs, fh)
        cover = None
        if series.has_cover and series.patches[0] is not None:
            cover = outdir / f"{slug}.cover"
            series.save_cover(str(cover))
        trailers = []
        for msg in msgs:
            body, _charset = b4.LoreMessage.get_payload(msg)
            _headers, _message, found, _basement, _sig = b4.LoreMessage.get_body_parts(body)
            trailers.append(tuple(t.as_string(omit_extinfo=True) for t in found))
        mismatches = tuple(f"{name}: {value} (sent by {fname} <{femail}>)"
                           for name, value, fname, femail in sorted(series.trailer_mismatches))
        return AmResult(mbox, cover, int(series.revision), len(msgs), bool(series.complete),
                        bool(series.partial_reroll), tuple(trailers), mismatches, tuple(log))
