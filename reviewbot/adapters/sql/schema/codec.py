"""Core types <-> the compact forms the database keeps.

Messages and series are compact JSON (field names kept, empty/default values
omitted), deflated with a preset dictionary of the words every such document
repeats: a typical 900-byte message shrinks to about 250 bytes (430 without the
dictionary), and inflating one takes ~15 us. The dictionary is part of the
format: changing it means a new CODEC_VERSION and a `reviewbot reparse`.
Decoding is strict about types it knows.
"""

from __future__ import annotations

import json
import zlib
from datetime import UTC, datetime
from typing import Any

from reviewbot.core.model import (
    AppliedNotice,
    Message,
    MessageId,
    MessageKind,
    PullRequest,
    Subject,
    Trailer,
    TrailerKind,
)

CODEC_VERSION = 2  # bump when the shape changes; `reviewbot reparse` rewrites every row

RAW_CODECS = ("identity", "zlib")


def pack_raw(raw: bytes, codec: str) -> bytes:
    """The stored form of raw mail. zlib (level 1) halves the size but costs ~0.8
    CPU-s per 100 MB and holds the GIL, so it is opt-in (see SqlStore)."""
    if codec == "identity":
        return raw
    if codec == "zlib":
        return zlib.compress(raw, 1)
    raise ValueError(f"unknown raw codec {codec!r} (known: {', '.join(RAW_CODECS)})")


def unpack_raw(stored: bytes, codec: str) -> bytes:
    if codec == "identity":
        return bytes(stored)
    if codec == "zlib":
        return zlib.decompress(stored)
    raise ValueError(f"unknown raw codec {codec!r} in the database "
                     f"(known: {', '.join(RAW_CODECS)})")


def _trailer_out(t: Trailer) -> list[Any]:
    return [t.kind.value, t.name, t.email, t.value, t.qualifier, t.source]


def _trailer_in(v: list[Any]) -> Trailer:
    kind, name, email, value, qualifier, source = v
    return Trailer(TrailerKind(kind), name, email, value, qualifier,
                   MessageId(source) if source is not None else None)


_SUBJECT_DEFAULTS = Subject(raw="", title="")
_SUBJECT_FIELDS = Subject.__slots__
_MESSAGE_DEFAULTS = {
    "in_reply_to": None, "references": (), "author_name": "", "author_email": "",
    "files": (), "patch_id": None, "trailers": (), "change_id": None,
    "base_commit": None, "linked_ids": (), "is_bot": False, "applied": None,
    "pull": None, "warnings": (), "ack_only": False,
}


# Generic, not taken from any one list: JSON keys, kernel paths and trailer words.
_ZDICT = (
    b'"kind":"patch""kind":"cover""kind":"other""kind":"pull""is_bot":true'
    b'"warnings":["Signed-off-by","Reviewed-by","Acked-by","Tested-by","Reported-by",'
    b'"Suggested-by","Co-developed-by","Fixes","Link","Closes","Cc",null,null]'
    b'"files":["drivers/net/ethernet/","drivers/infiniband/hw/","drivers/gpu/drm/",'
    b'"include/linux/","include/uapi/linux/","arch/x86/","arch/arm64/","fs/","mm/",'
    b'"kernel/","net/core/","tools/testing/selftests/","Documentation/devicetree/bindings/",'
    b'".c",".h",".yaml"]"patch_id":"'
    b'"author_name":"","author_email":"","linked_ids":["'
    b'"in_reply_to":"","references":["@kernel.org","@gmail.com","@intel.com",'
    b'"@redhat.com","@nvidia.com","@linux.dev","@oracle.com","@huawei.com",'
    b'"@google.com","@amd.com","@suse.com","@linaro.org"]'
    b'"date":"2025-01-01T00:00:00+00:00","from_name":"","from_email":"'
    b'"subject":{"raw":"Re: [PATCH net-next v2 1/2] ","title":"","tags":["patch","rfc"],'
    b'"version":2,"version_label":"2","counter":1,"total":2,"is_reply":true,'
    b'"is_patch":true,"is_rfc":true,"is_resend":true},"message_id":"'
)


def deflate(text: str) -> bytes:
    c = zlib.compressobj(6, zdict=_ZDICT)
    return c.compress(text.encode()) + c.flush()


def inflate(data: bytes) -> str:
    d = zlib.decompressobj(zdict=_ZDICT)
    return (d.decompress(bytes(data)) + d.flush()).decode()


def encode_message(m: Message) -> bytes:
    return deflate(message_json(m))


def decode_message(data: bytes) -> Message:
    return message_from_json(inflate(data))


def message_json(m: Message) -> str:
    subj: dict[str, Any] = {}
    for name in _SUBJECT_FIELDS:
        value = getattr(m.subject, name)
        if name in ("raw", "title") or value != getattr(_SUBJECT_DEFAULTS, name):
            subj[name] = list(value) if isinstance(value, tuple) else value
    d: dict[str, Any] = {
        "message_id": m.message_id,
        "subject": subj,
        "from_name": m.from_name,
        "from_email": m.from_email,
        "date": m.date.astimezone(UTC).isoformat(),
        "kind": m.kind.value,
    }
    for name, default in _MESSAGE_DEFAULTS.items():
        value = getattr(m, name)
        if value == default:
            continue
        if name == "trailers":
            d[name] = [_trailer_out(t) for t in value]
        elif name == "applied":
            d[name] = [value.branch, value.partial, list(value.commits), value.by_bot]
        elif name == "pull":
            d[name] = [value.url, value.ref, value.base_commit, value.tip_commit]
        elif isinstance(value, tuple):
            d[name] = list(value)
        else:
            d[name] = value
    return json.dumps(d, separators=(",", ":"), ensure_ascii=False)


_KINDS = {k.value: k for k in MessageKind}
_TRAILER_KINDS = {k.value: k for k in TrailerKind}
_TUPLES = frozenset(n for n, default in _MESSAGE_DEFAULTS.items() if default == ())


def message_from_json(text: str) -> Message:
    # The JSON keys are Message's field names: rebuild the nested values in place and
    # pass the dict on (decoding is most of a refresh's reading time).
    d = json.loads(text)
    s = d["subject"]
    if "tags" in s:
        s["tags"] = tuple(s["tags"])
    d["subject"] = Subject(**s)
    d["date"] = datetime.fromisoformat(d["date"])
    d["kind"] = _KINDS[d["kind"]]
    for name in _TUPLES.intersection(d):
        if name == "trailers":
            d[name] = tuple(Trailer(_TRAILER_KINDS[k], n, e, v, q, src)
                            for k, n, e, v, q, src in d[name])
        else:
            d[name] = tuple(d[name])
    if "applied" in d:
        v = d["applied"]
        d["applied"] = AppliedNotice(v[0], v[1], tuple(v[2]), v[3])
    if "pull" in d:
        d["pull"] = PullRequest(*d["pull"])
    return Message(**d)
