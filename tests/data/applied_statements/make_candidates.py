"""Write the candidate paragraphs of the "applied" labelled set.

Every unquoted paragraph (core.mail.applied.paragraphs: wrapped lines joined)
written by a maintainer in the 2025 linux-rdma corpus that mentions
apply/applied/applies/applying, took, taken, picked, queued, merged or
pulled. A maintainer is anyone listed as M: in any section of the kernel's
MAINTAINERS file, matched by address or by full name.

    .venv/bin/python -m tests.data.applied_statements.make_candidates \\
        ../shared/corpus/linux-rdma-2025.git ../shared/kernel/MAINTAINERS

rewrites applied_statements.tsv beside this file, keeping the label of
every (message-id, line) already labelled and leaving new rows with the
label "?" for a person to read and fill in (1: the writer says the patch
was applied/queued/taken into a tree; 0: anything else).
"""

from __future__ import annotations

import re
import sys
from pathlib import Path

from reviewbot.core.mail.applied import paragraphs
from reviewbot.core.mail.parse import message_text, parse_message
from reviewbot.core.maintainers.sections import parse_maintainers
from tests.corpus import read_corpus

HERE = Path(__file__).resolve().parent
TSV = HERE / "applied_statements.tsv"
COLUMNS = ("message_id", "from", "kind", "label", "line")
MENTION = re.compile(
    r"\b(?:appl(?:y|ied|ies|ying)|took|taken|picked|queued|merged|pulled)\b", re.IGNORECASE
)
_ADDR = re.compile(r"^(.*?)\s*<([^<>]+)>")


def maintainer_keys(maintainers_text: str) -> tuple[set[str], set[str]]:
    """(addresses, case-folded full names) of everyone listed as M: anywhere."""
    emails: set[str] = set()
    names: set[str] = set()
    for section in parse_maintainers(maintainers_text).sections:
        for value in section.maintainers:
            m = _ADDR.match(value)
            if m is None:
                continue
            emails.add(m.group(2).strip().lower())
            if len(m.group(1).split()) >= 2:
                names.add(" ".join(m.group(1).strip('"').casefold().split()))
    return emails, names


def read_labels(path: Path) -> dict[tuple[str, str], str]:
    if not path.exists():
        return {}
    return {(r["message_id"], r["line"]): r["label"] for r in read_rows(path)}


def read_rows(path: Path) -> list[dict[str, str]]:
    """The TSV's rows: tab-separated, no quoting (no field holds a tab or newline)."""
    lines = path.read_text(encoding="utf-8").split("\n")
    head = lines[0].split("\t")
    return [dict(zip(head, line.split("\t", len(head) - 1), strict=True))
            for line in lines[1:] if line]


def candidates(corpus: Path, maintainers: Path) -> list[dict[str, str]]:
    emails, names = maintainer_keys(maintainers.read_text(encoding="utf-8"))
    rows: list[dict[str, str]] = []
    seen: set[tuple[str, str]] = set()
    for mail in read_corpus(corpus):
        msg = parse_message(mail.raw, fallback_date=mail.received)
        name = " ".join(msg.from_name.casefold().split())
        if msg.from_email not in emails and name not in names:
            continue
        for para in paragraphs(message_text(mail.raw)):
            key = (str(msg.message_id), para.replace("\t", " "))
            if MENTION.search(para) and key not in seen:
                seen.add(key)
                rows.append({"message_id": key[0], "from": msg.from_email,
                             "kind": msg.kind.value, "label": "?", "line": key[1]})
    return rows


def main(argv: list[str]) -> int:
    if len(argv) != 2:
        print("usage: make_candidates CORPUS_GIT MAINTAINERS", file=sys.stderr)
        return 2
    labels = read_labels(TSV)
    rows = candidates(Path(argv[0]), Path(argv[1]))
    for r in rows:
        r["label"] = labels.get((r["message_id"], r["line"]), "?")
    TSV.write_text("".join("\t".join(r[c] for c in COLUMNS) + "\n"
                           for r in [dict(zip(COLUMNS, COLUMNS, strict=True)), *rows]),
                   encoding="utf-8")
    todo = sum(r["label"] == "?" for r in rows)
    print(f"{len(rows)} candidate lines, {todo} unlabelled -> {TSV}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
