"""`GET /api/v1/openapi.json`: the OpenAPI 3.1 description of everything served.

The schemas are JSON Schema 2020-12 (as OpenAPI 3.1 has it); objects allow more
properties than listed, because keys are only ever added (as the CLI's JSON).
tests/test_web_api.py validates every response of the test run against them.
"""

from __future__ import annotations

from typing import Any

from reviewbot.core.backlog.turn import State, Turn


def _obj(required: dict[str, Any], optional: dict[str, Any] | None = None) -> dict[str, Any]:
    return {"type": "object", "required": sorted(required),
            "properties": {**required, **(optional or {})}}


def _ref(name: str) -> dict[str, Any]:
    return {"$ref": f"#/components/schemas/{name}"}


STR = {"type": "string"}
INT = {"type": "integer"}
TIME = {"type": "string", "format": "date-time"}
OPT_TIME = {"type": ["string", "null"], "format": "date-time"}
OPT_STR = {"type": ["string", "null"]}
STRS = {"type": "array", "items": STR}
COUNTS = {"type": "object", "additionalProperties": INT}
STATE = {"type": "string", "enum": [s.value for s in State]}
TURN = {"type": "string", "enum": [t.value for t in Turn]}
PAGING = {"total": INT, "limit": INT, "offset": INT, "next_offset": {"type": ["integer", "null"]}}

SCHEMAS: dict[str, Any] = {
    "Error": _obj({"error": STR, "message": STR}),
    "Author": _obj({"name": STR, "email": STR}),
    "QueueEntry": _obj({
        "series_id": STR, "title": STR, "version": INT, "patches": INT, "total": INT,
        "state": STATE, "author": _ref("Author"), "date": TIME, "age_seconds": INT,
        "turn": TURN, "waiting_on": STRS, "reason": STR, "since": TIME, "due": OPT_TIME,
        "assignees": STRS, "subsystems": STRS, "taker": OPT_STR,
        "overdue": {"type": "boolean"}, "last_activity": TIME, "naks": STRS},
        {"am": STR, "attestation_failed": {"type": "array", "items": INT}}),
    "Percentiles": _obj({"count": INT, "p50_days": {"type": ["number", "null"]},
                         "p90_days": {"type": ["number", "null"]}}),
    "QueueStats": _obj({
        "open_total": INT, "open_by_state": COUNTS, "age_buckets": COUNTS,
        "oldest_waiting": {"type": "array", "items": _obj({
            "series_id": STR, "since": TIME, "state": STATE, "turn": TURN, "reason": STR})},
        "time_to_first_review": _ref("Percentiles"), "time_to_applied": _ref("Percentiles"),
        "reviewer_load": COUNTS, "expired": INT}),
    "Queue": _obj({"subsystem": STR, "as_of": TIME,
                   "series": {"type": "array", "items": _ref("QueueEntry")},
                   "ignored": INT, "stats": {"oneOf": [_ref("QueueStats"), {"type": "null"}]},
                   **PAGING}),
    "SubsystemSummary": _obj({"name": STR, "lists": STRS, "open_total": INT,
                              "open_by_state": COUNTS, "taking": INT,
                              "oldest_waiting_since": OPT_TIME}),
    "Subsystems": _obj({"as_of": TIME, "items": {"type": "array",
                                                 "items": _ref("SubsystemSummary")}, **PAGING}),
    "Trailer": _obj({"kind": STR, "name": STR, "email": STR, "value": STR,
                     "qualifier": OPT_STR, "source": OPT_STR}),
    "Series": _obj({
        "series_id": STR, "title": STR, "version": INT, "total": INT, "author": _ref("Author"),
        "date": TIME, "cover_message_id": OPT_STR,
        "patches": {"type": "array", "items": _obj({
            "index": INT, "message_id": STR, "subject": STR, "files": STRS,
            "patch_id": OPT_STR, "trailers": {"type": "array", "items": _ref("Trailer")}},
            {"attestation": {"oneOf": [{"type": "null"}, _obj(
                {"result": {"type": "string", "enum": ["pass", "fail", "none"]},
                 "identity": STR, "detail": STR})]}})},
        "cover_trailers": {"type": "array", "items": _ref("Trailer")},
        "missing": {"type": "array", "items": INT}, "revisions": STRS,
        "superseded_by": OPT_STR, "revision_link": OPT_STR, "change_id": OPT_STR,
        "is_rfc": {"type": "boolean"}, "is_resend": {"type": "boolean"}, "tags": STRS,
        "state": STATE,
        "subsystems": {"type": "array", "items": _obj({
            "section": STR, "taker": {"type": "boolean"}, "lists": STRS})},
        "unowned_files": STRS, "turn": TURN, "waiting_on": STRS, "assignees": STRS,
        "reason": STR, "since": TIME, "due": OPT_TIME, "first_review_at": OPT_TIME,
        "applied_at": OPT_TIME,
        "timeline": {"type": "array", "items": _obj({
            "at": TIME, "event": STR, "kind": STR, "actor": STR, "role": STR,
            "state": STATE, "turn": TURN, "reason": STR})},
        "lore": {"type": "string", "format": "uri"}}),
    "DatabaseStats": _obj({"as_of": TIME, "messages": INT, "deleted": INT, "duplicates": INT,
                           "quarantined": INT, "series": INT, "patches": INT, "open": INT,
                           "states": COUNTS,
                           "cursors": {"type": "object", "additionalProperties": OPT_STR}}),
    "Reviewer": _obj({"email": STR, "as_of": TIME,
                      "subsystems": {"type": "array", "items": _obj({
                          "section": STR, "role": {"enum": ["maintainer", "reviewer"]}})},
                      "reviews_given": COUNTS,
                      "waiting": {"type": "array", "items": _ref("QueueEntry")}, **PAGING}),
    "ActionResult": _obj({"done": STR, "series_id": STR, "by": STR, "action": STR,
                          "at": TIME}),
    "Health": _obj({"ok": {"type": "boolean"}, "as_of": TIME,
                    "checks": {"type": "array", "items": _obj({
                        "name": STR, "ok": {"type": "boolean"}, "detail": STR})}}),
    "ChatAnswer": _obj({"response_type": {"enum": ["ephemeral", "in_channel"]}, "text": STR},
                       {"blocks": {"type": "array", "items": {"type": "object"}}}),
}

ACTION_BODIES: dict[str, dict[str, Any]] = {
    "claim": {},
    "release": {"reason": STR},
    "snooze": {"duration": {"type": "string", "pattern": r"^\d{1,4}\s*[hdwHDW]"},
               "reason": STR},
    "assign": {"to": {"type": "string", "description": "the reviewer's address; left out: "
                      "the least-loaded R:/M: (or pool) reviewer"}},
    "state": {"state": {"enum": ["deferred", "rejected", "archived", "snoozed", "open"]},
              "until": STR, "reason": STR},
}
REQUIRED = {"snooze": ["duration"], "state": ["state"]}


def _param(name: str, where: str, description: str, schema: dict[str, Any] | None = None,
           required: bool = False) -> dict[str, Any]:
    return {"name": name, "in": where, "required": required or where == "path",
            "description": description, "schema": schema or STR}


AS_OF = _param("as_of", "query", "YYYY-MM-DD (end of that day, UTC) or an ISO timestamp; "
               "default now")
LIMIT = _param("limit", "query", "page size", {"type": "integer", "minimum": 1})
OFFSET = _param("offset", "query", "rows to skip", {"type": "integer", "minimum": 0})
MID = _param("message_id", "path", "any Message-ID of the series, without <>, URL-encoded")


def _json(schema: str, description: str = "OK") -> dict[str, Any]:
    return {"description": description, "content": {"application/json": {"schema": _ref(schema)}}}


def _errors(*codes: int) -> dict[str, Any]:
    why = {400: "a bad parameter", 401: "no valid bearer token", 403: "not allowed",
           404: "unknown subsystem, series or action"}
    return {str(c): _json("Error", why[c]) for c in codes}


def document(version: str) -> dict[str, Any]:
    paths: dict[str, Any] = {
        "/api/v1/subsystems": {"get": {
            "summary": "Sections with open series, most open first",
            "parameters": [AS_OF, LIMIT, OFFSET],
            "responses": {"200": _json("Subsystems"), **_errors(400)}}},
        "/api/v1/subsystems/{name}/queue": {"get": {
            "summary": "A subsystem's open series and figures (as `queue --subsystem --json`)",
            "parameters": [
                _param("name", "path", "a MAINTAINERS section (any case) or list address"),
                AS_OF, LIMIT, OFFSET,
                _param("state", "query", "comma-separated states to keep"),
                _param("turn", "query", "comma-separated turns to keep"),
                _param("ready", "query", "true: only series ready to apply (every patch "
                       "reviewed, nothing asked of the author)"),
                _param("taker", "query", "true: only series this section is expected to take")],
            "responses": {"200": _json("Queue"), **_errors(400, 404)}}},
        "/api/v1/series/{message_id}": {"get": {
            "summary": "One series with its status and timeline (as `series --json`)",
            "parameters": [MID, AS_OF],
            "responses": {"200": _json("Series"), **_errors(400, 404)}}},
        "/api/v1/stats": {"get": {"summary": "What the database holds (as `stats --json`)",
                                  "responses": {"200": _json("DatabaseStats")}}},
        "/api/v1/reviewers/{email}": {"get": {
            "summary": "A person's sections, the open series waiting on them, reviews given",
            "parameters": [_param("email", "path", "a mail address"), AS_OF, LIMIT, OFFSET],
            "responses": {"200": _json("Reviewer"), **_errors(400)}}},
        "/api/v1/openapi.json": {"get": {"summary": "This document", "responses": {
            "200": {"description": "OpenAPI 3.1", "content": {"application/json": {
                "schema": {"type": "object"}}}}}}},
        "/healthz": {"get": {"summary": "The checks of `reviewbot health`", "responses": {
            "200": _json("Health", "healthy"), "503": _json("Health", "unhealthy")}}},
        "/metrics": {"get": {"summary": "Prometheus metrics (OpenMetrics when asked)",
                             "responses": {"200": {"description": "metrics", "content": {
                                 "text/plain": {"schema": STR},
                                 "application/openmetrics-text": {"schema": STR}}}}}},
    }
    for verb, props in ACTION_BODIES.items():
        body = {"type": "object", "properties": props, "additionalProperties": False,
                "required": REQUIRED.get(verb, [])}
        paths[f"/api/v1/series/{{message_id}}/{verb}"] = {"post": {
            "summary": f"{verb} (needs a bearer token; the role rules of email commands)",
            "security": [{"bearer": []}], "parameters": [MID],
            "requestBody": {"required": False, "content": {"application/json": {
                "schema": body}}},
            "responses": {"200": _json("ActionResult"), **_errors(400, 401, 403, 404)}}}
    for platform in ("slack", "mattermost"):
        paths[f"/chat/{platform}"] = {"post": {
            "summary": f"{platform.title()} slash command",
            "requestBody": {"required": True, "content": {
                "application/x-www-form-urlencoded": {"schema": {"type": "object"}}}},
            "responses": {"200": _json("ChatAnswer"), "401": _json("Error", "refused")}}}
    for path, what in (("/", "all subsystems at a glance"),
                       ("/subsystems/{name}", "one subsystem's dashboard")):
        params = [_param("name", "path", "a section or list")] if "{" in path else []
        paths[path] = {"get": {"summary": f"Dashboard: {what}", "parameters": params,
                               "responses": {"200": {"description": "HTML", "content": {
                                   "text/html": {"schema": STR}}}}}}
    return {
        "openapi": "3.1.0",
        "info": {"title": "reviewbot", "version": version,
                 "description": "Kernel review backlogs: queues, series, figures, actions."},
        "paths": paths,
        "components": {"schemas": SCHEMAS, "securitySchemes": {
            "bearer": {"type": "http", "scheme": "bearer",
                       "description": "a token from [[http.tokens]], acting as its identity"}}},
    }
