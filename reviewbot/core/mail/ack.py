"""A reply that only says thanks: an acknowledgement, not a request for changes. Pure.

After a review, "Thanks!", "Got it, thanks", "Makes sense and LGTM, thank you
Leon!" or "Thanks, much appreciated." ask nothing of the author. The backlog
reads a reply without review tags as "changes requested"; one whose every
unquoted clause is thanks, approval, a greeting or the writer's name is not.
Anything else (a question, a request, a remark, a plan) keeps it a response.

The parser stores the verdict as Message.ack_only; the backlog's replay skips
the objection for such a reply (SeriesEvent.ack, set from it in events.py).
"""

from __future__ import annotations

import re

from reviewbot.core.mail.applied import paragraphs

# Longer than this is a discussion, whatever its words.
_MAX_CHARS = 240
_ATTRIBUTION = re.compile(r"(?:wrote|writes|said|写道)\s*[:：]\s*$", re.IGNORECASE)
_SNIP = re.compile(r"^(?:<\.\.\.>|\[\.\.\.\]|\.\.\.|…|\[snip\]|<snip>)$", re.IGNORECASE)
_EMOJI = re.compile(r"[:;]-?[)D(]|\(\^\^\)|\^\^")
_SPLIT = re.compile(r"\s*(?:[,.;!:/]+|\s-\s|\s+(?:and|but)\s+)\s*", re.IGNORECASE)
# A person's name: capitalised words, matched case-sensitively inside the
# case-insensitive patterns ("Zhu Yanjun", "D. Wythe", "- Easwar (he/him)").
_NAME_WORD = r"(?:[A-Z][\w'’.-]*|[A-Z]\.)"
_NAME = (r"(?-i:-*\s*" + _NAME_WORD + r"(?:\s+" + _NAME_WORD + r"){0,3}"
         r"(?:\s*\([a-z]+/[a-z]+\))?)")
_PRAISE = (
    r"(?:ok(?:ay)?|great|nice|cool|perfect|awesome|excellent|good|sure|yes|yep|yeah|right"
    r"|indeed|agreed?|ack|got\s+it|got\s+(?:them|it)\s+all|got\s+all\s+the\s+changes"
    r"|understood|noted|i\s+see(?:\s+now)?|makes?\s+sense|sounds?\s+(?:good|great|fine)|sgtm|lgtm"
    r"|looks?\s+(?:good|great|fine)(?:\s+to\s+me)?|fine\s+(?:for|with|by)\s+me"
    r"|works\s+for\s+me|(?:much\s+)?appreciated|no\s+problem|np"
    r"|(?:nice|good|great)\s+(?:work|catch|job|find)|well\s+done)"
)
_THANKS = (
    r"(?:thanks?|thank\s+you|thx|ty|many\s+thanks|cheers)"
    r"(?:\s+(?:a\s+lot|so\s+much|very\s+much|again|all|everyone|both|guys|too))*"
    r"(?:\s+for\s+[^?]{1,60})?"
)
_POLITE = re.compile(
    r"^(?:(?:" + _PRAISE + r"|" + _THANKS + r")(?:\s+" + _NAME + r")?"
    r"|(?:hi|hello|hey|dear)(?:\s+" + _NAME + r")?|(?:best\s+|kind\s+)?(?:regards|wishes)|br"
    r"|guys|all|everyone|folks)$",
    re.IGNORECASE,
)
_SIGNATURE_NAME = re.compile(r"^" + _NAME + r"$")
# Capitalised words that are a verdict or a status, never a signature.
_NOT_NAMES = frozenset({
    "ack", "acked", "agreed", "applied", "correct", "done", "dropped", "fixed", "later",
    "merged", "nack", "nak", "nacked", "no", "noted", "ok", "okay", "pushed", "queued",
    "reviewed", "right", "sure", "tested", "true", "false", "yes", "wrong", "nope",
})
_GRATITUDE = re.compile(r"\b(?:thanks?|thank\s+you|thx|appreciated|cheers)\b|\bty\b",
                        re.IGNORECASE)
_APPROVAL = re.compile(r"^" + _PRAISE + r"$", re.IGNORECASE)


def is_acknowledgement(text: str, paras: list[str] | None = None) -> bool:
    """Whether the unquoted text of a reply only thanks or approves, asking nothing.

    `text` is the decoded body; quotes, the signature and a diff are ignored.
    `paras`: `core.mail.applied.paragraphs(text)` when the caller has it already.
    """
    if paras is None:
        paras = paragraphs(text)
    if sum(map(len, paras)) > 2 * _MAX_CHARS:
        return False  # a discussion: no need to look closer
    paras = [p for p in paras if not _ATTRIBUTION.search(p) and not _SNIP.match(p)]
    body = " / ".join(paras)
    if not body or len(body) > _MAX_CHARS or "?" in body:
        return False
    clauses = [c.strip() for c in _SPLIT.split(_EMOJI.sub(" ", body)) if c.strip()]
    for i, clause in enumerate(clauses):
        if _POLITE.match(clause):
            continue
        # A bare name only signs off: last, or after thanks/regards ("Thanks, Jason").
        signs_off = i == len(clauses) - 1 or (i > 0 and _POLITE.match(clauses[i - 1]))
        if not (signs_off and _SIGNATURE_NAME.match(clause)) or clause.lower() in _NOT_NAMES:
            return False
    # A name or a greeting alone says nothing: some thanks or approval must be there.
    return bool(_GRATITUDE.search(body)) or any(_APPROVAL.match(c) for c in clauses)
