"""A local HTTP server speaking GitLab's REST v4 wire format for the endpoints reviewbot uses.

No real GitLab can run here, so python-gitlab talks to this instead, as
python-gitlab's own tests do with recorded responses. It serves, with the JSON
shapes of https://docs.gitlab.com/api/merge_requests/ and .../merge_request_approvals/:

- GET  /api/v4/projects/:id                              (id: number or URL-encoded path)
- GET  /api/v4/projects/:id/merge_requests?state=&source_branch=&target_branch=
- POST /api/v4/projects/:id/merge_requests               (JSON body; a fork sends target_project_id)
- GET  /api/v4/projects/:id/merge_requests/:iid/pipelines
- GET  /api/v4/projects/:id/merge_requests/:iid/approvals

It checks the PRIVATE-TOKEN header, records every request, and can answer the
next N requests with 429 + Retry-After, or delay its answers.
"""

from __future__ import annotations

import asyncio
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import unquote

from aiohttp import web

TOKEN = "glpat-test-token"


@dataclass
class FakeGitLab:
    projects: dict[str, int] = field(default_factory=lambda: {"drm/msm": 3, "robclark/msm": 7})
    mrs: list[dict[str, Any]] = field(default_factory=list)
    requests: list[tuple[str, str, str]] = field(default_factory=list)  # method, path, UA
    throttle: int = 0  # answer this many requests with 429 first
    delay: float = 0.0
    base_url: str = ""

    def _project(self, key: str) -> int | None:
        key = unquote(key)
        if key.isdigit() and int(key) in self.projects.values():
            return int(key)
        return self.projects.get(key)

    def app(self) -> web.Application:
        app = web.Application()
        app.router.add_route("*", "/api/v4/{tail:.*}", self.handle)
        return app

    async def handle(self, request: web.Request) -> web.StreamResponse:
        # The raw path keeps %2F inside a project path as python-gitlab sent it.
        parts = request.raw_path.split("?", 1)[0].split("/")[3:]
        self.requests.append((request.method, "/".join(parts),
                              request.headers.get("User-Agent", "")))
        if self.delay:
            await asyncio.sleep(self.delay)
        if self.throttle > 0:
            self.throttle -= 1
            return web.json_response({"message": "429 Too Many Requests"}, status=429,
                                     headers={"Retry-After": "1"})
        if request.headers.get("PRIVATE-TOKEN") != TOKEN:
            return web.json_response({"message": "401 Unauthorized"}, status=401)
        if len(parts) < 2 or parts[0] != "projects":
            return web.json_response({"error": "404 Not Found"}, status=404)
        pid = self._project(parts[1])
        if pid is None:
            return web.json_response({"message": "404 Project Not Found"}, status=404)
        rest = parts[2:]
        if not rest and request.method == "GET":
            path = next(k for k, v in self.projects.items() if v == pid)
            return web.json_response({"id": pid, "path_with_namespace": path,
                                      "web_url": f"{self.base_url}/{path}"})
        if rest == ["merge_requests"] and request.method == "GET":
            q = request.query
            found = [m for m in self.mrs if m["target_project_id"] == pid
                     and (not q.get("state") or m["state"] == q["state"])
                     and (not q.get("source_branch") or m["source_branch"] == q["source_branch"])
                     and (not q.get("target_branch") or m["target_branch"] == q["target_branch"])]
            return web.json_response(found)
        if rest == ["merge_requests"] and request.method == "POST":
            return web.json_response(self.create(pid, await request.json()), status=201)
        if len(rest) == 3 and rest[0] == "merge_requests":
            mr = next((m for m in self.mrs if m["iid"] == int(rest[1])
                       and pid in (m["project_id"], m["source_project_id"])), None)
            if mr is None:
                return web.json_response({"message": "404 Not found"}, status=404)
            if rest[2] == "pipelines":
                return web.json_response(mr["_pipelines"])
            if rest[2] == "approvals":
                return web.json_response(mr["_approvals"])
        return web.json_response({"error": "404 Not Found"}, status=404)

    def create(self, pid: int, body: dict[str, Any]) -> dict[str, Any]:
        target = int(body.get("target_project_id") or pid)
        iid = 1 + sum(1 for m in self.mrs if m["target_project_id"] == target)
        path = next(k for k, v in self.projects.items() if v == target)
        labels = body.get("labels") or ""
        mr = {
            "id": 1000 + len(self.mrs), "iid": iid, "project_id": target,
            "title": body["title"], "description": body.get("description", ""),
            "state": "opened", "source_branch": body["source_branch"],
            "target_branch": body["target_branch"], "source_project_id": pid,
            "target_project_id": target,
            "labels": labels.split(",") if isinstance(labels, str) and labels else labels or [],
            "web_url": f"{self.base_url}/{path}/-/merge_requests/{iid}",
            # What GitLab would grow later: a pipeline, and an approval.
            "_pipelines": [{"id": 500 + iid, "iid": iid, "project_id": target, "sha": "0" * 40,
                            "ref": f"refs/merge-requests/{iid}/head", "status": "success",
                            "web_url": f"{self.base_url}/{path}/-/pipelines/{500 + iid}"}],
            "_approvals": {"id": 1000 + len(self.mrs), "iid": iid, "project_id": target,
                           "approved": True, "approvals_required": 1, "approvals_left": 0,
                           "approved_by": [{"user": {"id": 1, "username": "robclark",
                                                     "name": "Rob Clark"}}]},
        }
        self.mrs.append(mr)
        return {k: v for k, v in mr.items() if not k.startswith("_")}


@contextmanager
def serve_in_thread(fake: FakeGitLab) -> Iterator[str]:
    """The fake on 127.0.0.1, port 0, in its own thread and loop (for the synchronous CLI)."""
    loop = asyncio.new_event_loop()
    started = threading.Event()
    runner = web.AppRunner(fake.app())

    async def start() -> None:
        await runner.setup()
        site = web.TCPSite(runner, "127.0.0.1", 0)
        await site.start()
        port = runner.addresses[0][1]
        fake.base_url = f"http://127.0.0.1:{port}"
        started.set()

    thread = threading.Thread(target=loop.run_forever, daemon=True)
    thread.start()
    asyncio.run_coroutine_threadsafe(start(), loop).result(10)
    started.wait(10)
    try:
        yield fake.base_url
    finally:
        asyncio.run_coroutine_threadsafe(runner.cleanup(), loop).result(10)
        loop.call_soon_threadsafe(loop.stop)
        thread.join(10)
        loop.close()
