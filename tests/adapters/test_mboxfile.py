"""MboxSource: mbox files (mboxrd, mboxo) and maildirs, cut from the real corpus."""

from __future__ import annotations

import json
import logging
import os
import shutil
import subprocess
from pathlib import Path

import pytest

from reviewbot.adapters.sources.mboxfile import MboxError, MboxSource
from reviewbot.ports import RawMail
from tests.conftest import DATA

SAMPLES = DATA / "mbox"
# The corpus blobs the samples were cut from, in sample order (see README.md).
BLOBS = [
    "b263452cf834d85055fa6dc024f96fbded30db54",
    "7e73f03b9ed6df3d274d8c23fde6c1f95362a6de",
    "5cac849ea67c1dc74f3fff2ba5301062ff40fae5",
    "752bd2baf76eb808921a1f41e39a846088544e38",
]


@pytest.fixture(scope="module")
def originals(corpus_git: Path) -> list[bytes]:
    """The four original messages, read from the corpus itself."""
    return [
        subprocess.run(
            ["git", "--git-dir", str(corpus_git), "cat-file", "blob", oid],
            capture_output=True, check=True,
        ).stdout
        for oid in BLOBS
    ]


def _read(src: MboxSource, cursor: str | None = None) -> tuple[list[RawMail], str | None]:
    items: list[RawMail] = []
    last = cursor
    for batch in src.batches(cursor):
        items += [i for i in batch.items if isinstance(i, RawMail)]
        last = batch.cursor
    return items, last


@pytest.mark.corpus
class TestMbox:
    """mbox files give back the archive's bytes exactly."""

    def test_mboxrd_round_trips_byte_for_byte(self, originals: list[bytes]) -> None:
        """All four messages come back identical, including `>From` and `From ` body lines."""
        items, _ = _read(MboxSource(SAMPLES / "rdma-sample.mboxrd", "linux-rdma"))
        assert [i.raw for i in items] == originals
        assert b"\nFrom a39bea23c9472e87060680e2384960434ec86808 Mon Sep" in items[2].raw
        assert b"\n>From this point of view" in items[3].raw

    def test_mboxo_round_trips(self, originals: list[bytes]) -> None:
        """mboxo (only `From ` escaped) gives back the three messages it can represent."""
        src = MboxSource(SAMPLES / "rdma-sample.mboxo", "linux-rdma", flavour="mboxo")
        items, _ = _read(src)
        assert [i.raw for i in items] == originals[:3]

    def test_origin_and_key(self) -> None:
        """Origins number the messages; the key names list and path."""
        path = SAMPLES / "rdma-sample.mboxrd"
        src = MboxSource(path, "linux-rdma")
        items, _ = _read(src)
        assert [i.origin for i in items] == [f"mbox:{path}#{n}" for n in range(4)]
        assert src.key == f"mbox:linux-rdma:{path}"

    def test_resume_after_a_batch(self, tmp_path: Path) -> None:
        """A cursor taken after the first batch resumes with the rest, nothing doubled."""
        path = tmp_path / "a.mbox"
        shutil.copy(SAMPLES / "rdma-sample.mboxrd", path)
        src = MboxSource(path, "l", batch_size=3)
        first = next(iter(src.batches(None)))
        assert len(first.items) == 3 and json.loads(first.cursor or "")["n"] == 3
        rest, end = _read(src, first.cursor)
        assert [i.origin for i in rest] == [f"mbox:{path}#3"]
        assert _read(src, end)[0] == []

    def test_appended_mail_is_all_that_comes_next(self, tmp_path: Path) -> None:
        """Mail appended to the file after an import is read, and only that."""
        path = tmp_path / "a.mbox"
        sample = (SAMPLES / "rdma-sample.mboxrd").read_bytes()
        first_message_end = sample.index(b"\nFrom mboxrd@z", 1) + 1
        path.write_bytes(sample[:first_message_end])
        src = MboxSource(path, "l")
        items, cursor = _read(src)
        assert len(items) == 1
        with path.open("ab") as f:
            f.write(sample[first_message_end:])
        more, _ = _read(src, cursor)
        assert [i.origin for i in more] == [f"mbox:{path}#{n}" for n in (1, 2, 3)]

    def test_rewritten_file_is_read_again_with_a_warning(
        self, tmp_path: Path, caplog: pytest.LogCaptureFixture
    ) -> None:
        """A file changed other than by appending is re-read from the top, loudly."""
        path = tmp_path / "a.mbox"
        shutil.copy(SAMPLES / "rdma-sample.mboxrd", path)
        src = MboxSource(path, "l")
        _, cursor = _read(src)
        path.write_bytes((SAMPLES / "rdma-sample.mboxo").read_bytes())
        with caplog.at_level(logging.WARNING):
            items, _ = _read(src, cursor)
        assert len(items) == 3
        assert "not by appending" in caplog.text


def test_crlf_mbox_is_unescaped_too(tmp_path: Path) -> None:
    """CRLF mailboxes split on `From ` after a CRLF blank line and unescape `>>From`."""
    a = b"Subject: a\r\nMessage-ID: <a@x>\r\n\r\nbody\r\n>From here\r\n"
    b = b"Subject: b\r\nMessage-ID: <b@x>\r\n\r\nFrom me\r\n"
    path = tmp_path / "crlf.mbox"
    path.write_bytes(
        b"From x Thu Jan  1 00:00:00 1970\r\n" + a.replace(b">From", b">>From") + b"\r\n"
        + b"From y Thu Jan  1 00:00:00 1970\r\n" + b.replace(b"\nFrom", b"\n>From") + b"\r\n"
    )
    items, _ = _read(MboxSource(path, "l"))
    assert [i.raw for i in items] == [a, b]


@pytest.mark.corpus
class TestMaildir:
    """Maildirs: cur/ and new/, in delivery order."""

    def test_reads_cur_and_new_in_delivery_order(self, originals: list[bytes]) -> None:
        """All four files, ordered by their unique names, byte for byte."""
        items, cursor = _read(MboxSource(SAMPLES / "maildir", "linux-rdma"))
        assert [i.raw for i in items] == originals
        assert json.loads(cursor or "") == {"n": 4, "last": "1766883062.M4P100.reviewbot"}

    def test_new_delivery_after_cursor(self, tmp_path: Path, originals: list[bytes]) -> None:
        """A later delivery comes next; a flag change or a move to cur/ re-reads nothing."""
        md = tmp_path / "md"
        shutil.copytree(SAMPLES / "maildir", md)
        src = MboxSource(md, "l")
        _, cursor = _read(src)
        seen = "1758163945.M3P100.reviewbot"
        os.rename(md / "new" / seen, md / "cur" / f"{seen}:2,S")
        (md / "new/1800000000.M5P100.reviewbot").write_bytes(originals[0])
        items, _ = _read(src, cursor)
        assert [i.origin for i in items] == [f"mbox:{md}#4"]


class TestBadInput:
    """Bad input is refused with a clear error."""

    def test_missing_path(self, tmp_path: Path) -> None:
        """A path that does not exist is named in the error."""
        with pytest.raises(MboxError, match="no such mbox"):
            _read(MboxSource(tmp_path / "nope", "l"))

    def test_not_an_mbox(self, tmp_path: Path) -> None:
        """A file not starting with `From ` is not guessed at."""
        path = tmp_path / "x.eml"
        path.write_bytes(b"Subject: hi\n\nbody\n")
        with pytest.raises(MboxError, match="not an mbox"):
            _read(MboxSource(path, "l"))

    def test_directory_without_maildir_layout(self, tmp_path: Path) -> None:
        """A directory without cur/ or new/ is not a maildir."""
        with pytest.raises(MboxError, match="not a maildir"):
            _read(MboxSource(tmp_path, "l"))

    def test_unknown_flavour(self, tmp_path: Path) -> None:
        """Only mboxrd and mboxo are understood."""
        with pytest.raises(ValueError, match="flavour"):
            MboxSource(tmp_path, "l", flavour="mboxcl2")

    def test_empty_file_yields_nothing(self, tmp_path: Path) -> None:
        """An empty mbox is valid and empty."""
        path = tmp_path / "empty.mbox"
        path.write_bytes(b"")
        assert _read(MboxSource(path, "l"))[0] == []
