"""GitLab merge requests with python-gitlab (conventions.md §9).

python-gitlab is synchronous: every call runs in a worker thread
(`asyncio.to_thread`) under an overall timeout, each HTTP request has its own
timeout, and a 429 is retried after its Retry-After (`obey_rate_limit`).
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from typing import Any, TypeVar

import gitlab
from gitlab.v4.objects import Project, ProjectMergeRequest

from reviewbot.core.pulls.model import MergeRequestInfo, Pipeline
from reviewbot.ports import MergeRequestSpec

T = TypeVar("T")


class ForgeError(RuntimeError):
    """GitLab refused or could not be reached; the message says which call and why."""


def _info(mr: ProjectMergeRequest, pipelines: list[Any], approvals: Any) -> MergeRequestInfo:
    approved_by = tuple(str(a.get("user", {}).get("username", ""))
                        for a in (getattr(approvals, "approved_by", None) or []))
    return MergeRequestInfo(
        iid=int(mr.iid), title=str(mr.title), web_url=str(mr.web_url), state=str(mr.state),
        source_branch=str(mr.source_branch), target_branch=str(mr.target_branch),
        pipelines=tuple(Pipeline(int(p.id), str(p.status), str(getattr(p, "ref", "")),
                                 str(getattr(p, "web_url", ""))) for p in pipelines),
        approved=getattr(approvals, "approved", None) if approvals is not None else None,
        approved_by=approved_by,
        approvals_left=getattr(approvals, "approvals_left", None) if approvals else None,
        labels=tuple(str(x) for x in (getattr(mr, "labels", None) or [])))


class GitLabMergeRequests:
    """The MergeRequests port for one GitLab instance."""

    def __init__(self, url: str, token: str | None, *, user_agent: str,
                 request_timeout: float = 30.0, call_timeout: float = 300.0,
                 max_retries: int = 5) -> None:
        self.url = url
        self.call_timeout = call_timeout
        self.max_retries = max_retries
        # No I/O here: python-gitlab only connects on the first request.
        self._gl = gitlab.Gitlab(url, private_token=token, timeout=request_timeout,
                                 user_agent=user_agent, retry_transient_errors=True)

    async def _off_loop(self, what: str, fn: Callable[..., T], *args: Any) -> T:
        try:
            return await asyncio.wait_for(asyncio.to_thread(fn, *args), self.call_timeout)
        except TimeoutError as exc:
            raise ForgeError(f"{self.url}: {what} took over {self.call_timeout:g} s") from exc
        except gitlab.GitlabError as exc:
            raise ForgeError(f"{self.url}: {what}: {exc.response_code or ''} "
                             f"{exc.error_message}".strip()) from exc
        except OSError as exc:  # requests' ConnectionError is one
            raise ForgeError(f"{self.url}: {what}: {exc}") from exc

    def _project(self, path: str) -> Project:
        return self._gl.projects.get(path, lazy=True)

    def _describe(self, mr: ProjectMergeRequest) -> MergeRequestInfo:
        pipelines = mr.pipelines.list(iterator=False, get_all=True, obey_rate_limit=True,
                                      max_retries=self.max_retries)
        approvals = mr.approvals.get(obey_rate_limit=True, max_retries=self.max_retries)
        return _info(mr, pipelines, approvals)

    def _existing(self, project: str, source: str, target: str) -> list[MergeRequestInfo]:
        mrs = self._project(project).mergerequests.list(
            iterator=False, get_all=True, state="opened", source_branch=source,
            target_branch=target, obey_rate_limit=True, max_retries=self.max_retries)
        return [self._describe(mr) for mr in mrs]

    def _create(self, project: str, spec: MergeRequestSpec) -> MergeRequestInfo:
        data: dict[str, Any] = {
            "source_branch": spec.source_branch, "target_branch": spec.target_branch,
            "title": spec.title, "description": spec.description,
            "labels": ",".join(spec.labels), "remove_source_branch": False,
        }
        home = self._project(project)
        if spec.source_project and spec.source_project != project:
            # A fork's MR is created in the fork, naming the target project's id.
            data["target_project_id"] = self._gl.projects.get(project).id
            home = self._project(spec.source_project)
        mr = home.mergerequests.create(data, obey_rate_limit=True,
                                       max_retries=self.max_retries)
        return _info(mr, [], None)

    async def existing(self, project: str, source_branch: str,
                       target_branch: str) -> list[MergeRequestInfo]:
        return await self._off_loop(f"list merge requests of {project}", self._existing,
                                    project, source_branch, target_branch)

    async def create(self, project: str, spec: MergeRequestSpec) -> MergeRequestInfo:
        return await self._off_loop(f"create a merge request in {project}", self._create,
                                    project, spec)
