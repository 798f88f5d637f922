"""A maintainer's own words that a patch was applied. Pure.

The unit is a paragraph of unquoted text, its wrapped lines joined again
(`paragraphs`), so "I reworded the log and\napplied it to for-next" reads as
one statement. Within it, a statement is a clause whose verb says the work
is done and in a tree (`applied`, `picked up`, `took`, `queued`, `merged`),
said by the writer about the patch, not about a test run, a condition, a
request or a plan.

The patterns were fitted to, and are measured on, a labelled set of every
such paragraph written by a maintainer in the 2025 linux-rdma corpus
(tests/data/applied_statements/).
"""

from __future__ import annotations

import re

# Lines that end the readable part, or are not prose at all.
_SIGNATURE = re.compile(r"^--[ \t]*$")
_QUOTED = re.compile(r"^[ \t]*(?:[A-Za-z]{0,4}>|\|)")
_DIFF_START = re.compile(r"^(?:diff --git |@@ |\+\+\+ |--- a/|Index: )")


def paragraphs(text: str) -> list[str]:
    """Unquoted paragraphs of `text`, each one line (wrapped lines joined by a space).

    Quoted lines (`>`, `| `, `XX>`), a diff and the signature are skipped;
    a quoted line or a blank line ends a paragraph.
    """
    out: list[str] = []
    cur: list[str] = []
    in_diff = False
    # Cheap first-character tests before any regex: this runs on every reply,
    # most of whose lines are quoted.
    for line in text.split("\n"):
        c = line[:1]
        if c == ">":
            if cur:
                out.append(" ".join(cur))
                cur = []
            continue
        if c == "-" and _SIGNATURE.match(line):
            break
        if in_diff:
            # Blank lines inside a diff are context lines a mailer trimmed.
            if not c or c in "+- @\\" or line.startswith(("diff ", "index ")) or not line.strip():
                continue
            in_diff = False
        if c in "d@+-I" and _DIFF_START.match(line):
            in_diff = True
        else:
            s = line.strip()
            head = s[:6]
            quoted = (">" in head or head[:1] == "|") and _QUOTED.match(line) is not None
            if s and not quoted:
                cur.append(s)
                continue
        if cur:
            out.append(" ".join(cur))
            cur = []
    if cur:
        out.append(" ".join(cur))
    return out


# -- statements ---------------------------------------------------------------

# Sentences end at . ! ? followed by a blank (not "6.15/scsi" or "v6.17-rc1").
_SENTENCE = re.compile(r"(?<=[.!?])\s+|(?<=[.!?])$")
# Clauses: a comma, semicolon, colon or dash between words; "but"/"so" after it
# are dropped as lead-ins below.
_CLAUSE = re.compile(r"\s*(?:[,;:]|\s-{1,2}|\s\u2013)\s+")
_LEAD = (
    r"(?:(?:and|so|then|now|but|hence|anyway|also|ok|okay|yes|yeas|sure|thanks|thank you"
    r"|great|good|nice|done|either way|finally)\b[!.]?\s+)*"
)
_WHO = r"(?:(?:i|we)(?:'ve|\s+have|'m|\s+am)?\s+)?"
_ADVERB = r"(?:(?:now|just|already|finally|also|then)\s+)*"
_COUNT = (
    r"(?:whole|entire|first|last|remaining|other|both|two|three|four|five|six|seven|eight|nine"
    r"|ten|\d+|rest\s+of\s+the)"
)
# What was applied: pronouns and noun phrases naming the patches themselves.
_NOUN = r"(?:patch(?:es|set)?|series|set|fix(?:es)?|changes?|one|version|pr|pull|tag|branch)"
_OBJECT = (
    r"(?:(?:it|this|that|them|these|those|both|all)(?:\s+(?:\w+\s+)?" + _NOUN + r")?"
    r"|(?:the|this|your|these|those)\s+(?:" + _COUNT + r"\s+){0,2}" + _NOUN
    + r"|(?:the\s+)?v\d+(?:\.\d+)?|patch(?:es)?\s+#?\d[\d\s,&-]*(?:and\s+\d+)?|all\s+\w+)"
)
# Words that may follow the verb (or its object) in a statement; anything else
# ("I pulled this pattern out", "I took a quick look") is another sense.
_AFTER = (
    r"(?=\s*(?:$|[,.;:!()\-]|(?:to|into|in|for|as|with|without|now|already|up|thanks|too|as"
    r"|through|via|on|and|but|since|because|so|after|just|directly|instead|anyway)\b))"
)
_VERB = (
    r"(?:applied(?:\s+" + _OBJECT + r")?" + _AFTER
    + r"|(?:picked|queued)(?:\s+" + _OBJECT + r")?\s+up\b"
    + r"|queued(?:\s+" + _OBJECT + r")?\s+(?:to|for|in)\b"
    + r"|took\s+" + _OBJECT + _AFTER
    + r"|(?:merged|pulled)(?:\s+" + _OBJECT + r")?" + _AFTER
    + r"|added\s+" + _OBJECT + r"\s+to\s+\S*(?:\.git|tree|branch|next|rc|queue)\b"
    + r"|(?<='m\s)applying\s+" + _OBJECT + r"(?:\s+now)?" + _AFTER + r")"
)
# "Both patches applied", "Series applied": the object first, then the verb.
_SUBJECT_FIRST = (
    r"(?:(?:the\s+)?(?:whole\s+|entire\s+)?(?:series|patch|patchset|patches)"
    r"|(?:both|all)(?:\s+\w+)?(?:\s+patches)?|these\s+(?:\w+\s+)?patches"
    r"|patch(?:es)?\s+#?\d[\d\s,&-]*)"
    r"\s+(?:applied|queued|merged)" + _AFTER
)
_STATEMENT = re.compile(
    r"^" + _LEAD + r"(?:" + _WHO + _ADVERB + _VERB + r"|" + _SUBJECT_FIRST + r")",
    re.IGNORECASE,
)
# "I fixed it up and applied", "Fixed compilation error and applied to ...",
# "I reworded the log and applied it": a past-tense fix-up, then the verb.
_FIXUP_FIRST = re.compile(
    r"^" + _LEAD + _WHO + _ADVERB + r"(?:\w+ed|rewritten|made|took|redid|wrote|dropped)\b"
    r"[^,;]{0,80}?\band\s+(?:then\s+)?" + _VERB,
    re.IGNORECASE,
)
# Leon's "I fixed it locally when applied the patch": past tense, then the object.
_FIXED_WHEN = re.compile(
    r"^" + _LEAD + r"i\s+\w+ed\b[^,;]{0,80}\bwhen\s+applied\s+(?:the|this|it|them)\b",
    re.IGNORECASE,
)
# Applied somewhere that is not a tree that takes the patch: on top of
# something, locally or internally, to test, build or reproduce. Searched in
# the whole sentence but for its "thanks for testing" clauses.
_TRIAL = re.compile(
    r"\bon\s+top\b|\bbased\s+on\b|\bhead\s+commit\b|\blocally\b|\binternal\b|\bmy\s+(?:local|test)"
    r"|\btest|\bbuil[dt]\b|\bboot|\breproduc|\bobserv|\bcrash|\bhangs?\b|\bsuccessfully\b"
    r"|\bcleanly\b|\bin\s+upstream|\bin\s+(?:kernel|linux)\s+v?\d|\bmerged\s+in\s+v?\d",
    re.IGNORECASE,
)
_THANKS = re.compile(r"(?:thanks|thank\s+you)\b", re.IGNORECASE)
# Cheap test before splitting a paragraph into sentences and clauses (substring
# tests on the lower-cased text are several times faster than a regex here).
_VERBS = ("appl", "picked", "queued", "took", "merged", "pulled", "added")


def clauses(sentence: str) -> list[str]:
    return [c for c in _CLAUSE.split(sentence) if c]


def applied_statement(paragraph: str) -> str | None:
    """The clause of `paragraph` in which the writer says the patch was applied, or None.

    Counts: "Applied", "Thanks, applied to mlx5-next", "…a real bug, applied
    to rc", "Both patches applied to for-rc", "I fixed it up and applied",
    "picked it up", "took it", "queued for -rc", "I've pulled this".
    Does not: "doesn't apply", "once applied", "please apply", "should be
    applied", "which tree should this be applied to?", "I will apply it",
    "applied on top of X for testing", "after applying".
    """
    for sentence in _SENTENCE.split(paragraph):
        sentence = sentence.strip()
        if not sentence or sentence.endswith("?"):
            continue
        parts = clauses(sentence)
        for clause in parts:
            if _FIXED_WHEN.match(clause):
                return clause
        if _TRIAL.search(" ".join(c for c in parts if not _THANKS.match(c))):
            continue
        for clause in parts:
            m = _STATEMENT.match(clause) or _FIXUP_FIRST.match(clause)
            if m is not None:
                return clause
    return None


def find_applied(text: str, paras: list[str] | None = None) -> str | None:
    """The first "applied" statement in the unquoted paragraphs of `text`, or None.

    `paras`: `paragraphs(text)` when the caller has it already.
    """
    for para in paragraphs(text) if paras is None else paras:
        low = para.lower()
        if any(verb in low for verb in _VERBS):
            found = applied_statement(para)
            if found is not None:
                return found
    return None


_BRANCH = re.compile(
    r"\b(?:applied|queued|merged|pulled|took|added|applying|picked)\b(?:\s+" + _OBJECT + r")?"
    r"(?:\s+up)?\s+(?:(?:to|into)\s+(?:the\s+)?([\w./#:+-]+(?:\s*\([^)\n]*\))?)"
    # "for" names a branch only when it looks like one ("for -rc", not "for now")
    r"|for\s+(?:the\s+)?([\w.#:+]*[-/.#\d][\w./#:+-]*))",
    re.IGNORECASE,
)
_PART = re.compile(
    r"\bpatch(?:es)?\s+#?\d|\b(?:just|only)\s+(?:this|th(?:e|ose)\s+first)\b"
    r"|\bthe\s+first\s+\w+|\bsubset\b",
    re.IGNORECASE,
)


def applied_branch(statement: str) -> str | None:
    """The branch a statement names: "for-next" in "Applied to the for-next branch"."""
    m = _BRANCH.search(statement)
    if m is None:
        return None
    branch = (m.group(1) or m.group(2)).rstrip(".,!")
    return branch if branch.lower() not in ("it", "this", "them", "") else None


def names_a_part(statement: str) -> bool:
    """The statement takes only some patches of the series: "applied patch 2",
    "Applied just this patch" (in answer to one patch of several)."""
    return _PART.search(statement) is not None
