"""python-gitlab through adapters/forge/gitlab.py against a local server speaking GitLab's
REST v4 wire format (tests/fake_gitlab.py): no real GitLab can run here."""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator

import pytest
from aiohttp import web

from reviewbot.adapters.forge.gitlab import ForgeError, GitLabMergeRequests
from reviewbot.ports import MergeRequestSpec
from tests.fake_gitlab import TOKEN, FakeGitLab

SPEC = MergeRequestSpec("msm changes for v6.17", "Please pull\n", "msm-next", "drm-next",
                        ("msm", "pull"))


@pytest.fixture
async def fake() -> AsyncIterator[FakeGitLab]:
    """The fake in this test's own event loop: python-gitlab must not block that loop."""
    gl = FakeGitLab()
    runner = web.AppRunner(gl.app())
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0)
    await site.start()
    gl.base_url = f"http://127.0.0.1:{runner.addresses[0][1]}"
    yield gl
    await runner.cleanup()


def forge(gl: FakeGitLab, **kw: float) -> GitLabMergeRequests:
    return GitLabMergeRequests(gl.base_url, TOKEN, user_agent="reviewbot/test", **kw)


async def test_create_then_list_with_pipelines_and_approvals(fake: FakeGitLab) -> None:
    """Both calls run in worker threads: the server answering from this very loop proves it."""
    f = forge(fake)
    assert await f.existing("drm/msm", "msm-next", "drm-next") == []
    mr = await f.create("drm/msm", SPEC)
    assert (mr.iid, mr.state, mr.labels) == (1, "opened", ("msm", "pull"))
    assert mr.web_url == f"{fake.base_url}/drm/msm/-/merge_requests/1"
    [found] = await f.existing("drm/msm", "msm-next", "drm-next")
    assert found.title == "msm changes for v6.17"
    assert [(p.id, p.status) for p in found.pipelines] == [(501, "success")]
    assert (found.approved, found.approved_by, found.approvals_left) == (True, ("robclark",), 0)
    assert await f.existing("drm/msm", "other", "drm-next") == []
    assert {ua for _, _, ua in fake.requests} == {"reviewbot/test"}
    assert ("GET", "projects/drm%2Fmsm/merge_requests", "reviewbot/test") in fake.requests


async def test_a_fork_opens_its_request_against_the_target_project(fake: FakeGitLab) -> None:
    spec = MergeRequestSpec(SPEC.title, SPEC.description, "msm-next", "drm-next", (),
                            "robclark/msm")
    mr = await forge(fake).create("drm/msm", spec)
    assert fake.mrs[0]["source_project_id"] == 7 and fake.mrs[0]["target_project_id"] == 3
    assert ("POST", "projects/robclark%2Fmsm/merge_requests", "reviewbot/test") in fake.requests
    assert mr.web_url.endswith("/drm/msm/-/merge_requests/1")


async def test_429_is_retried_after_retry_after(fake: FakeGitLab) -> None:
    fake.throttle = 1
    started = time.monotonic()
    assert await forge(fake).existing("drm/msm", "msm-next", "drm-next") == []
    assert time.monotonic() - started >= 1.0
    assert len(fake.requests) == 2


async def test_the_loop_keeps_running_while_gitlab_is_slow(fake: FakeGitLab) -> None:
    fake.delay = 0.5
    ticks = 0

    async def tick() -> None:
        nonlocal ticks
        while True:
            await asyncio.sleep(0.05)
            ticks += 1

    ticker = asyncio.create_task(tick())
    await forge(fake).existing("drm/msm", "msm-next", "drm-next")
    ticker.cancel()
    assert ticks >= 5


async def test_a_call_over_its_timeout_is_an_error(fake: FakeGitLab) -> None:
    fake.delay = 2.0
    with pytest.raises(ForgeError, match=r"took over 0\.3 s"):
        await forge(fake, call_timeout=0.3).existing("drm/msm", "msm-next", "drm-next")


async def test_gitlab_errors_say_what_failed(fake: FakeGitLab) -> None:
    with pytest.raises(ForgeError, match="list merge requests of nope/nope: 404"):
        await forge(fake).existing("nope/nope", "a", "b")
    bad = GitLabMergeRequests(fake.base_url, "wrong", user_agent="reviewbot/test")
    with pytest.raises(ForgeError, match="401"):
        await bad.create("drm/msm", SPEC)


async def test_an_unreachable_gitlab_is_an_error() -> None:
    f = GitLabMergeRequests("http://127.0.0.1:9", TOKEN, user_agent="t", request_timeout=2,
                            max_retries=0)
    with pytest.raises(ForgeError, match=r"127\.0\.0\.1:9"):
        await f.existing("drm/msm", "a", "b")
