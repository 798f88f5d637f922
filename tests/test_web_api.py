"""The JSON API on a real aiohttp server (port 0) over the whole 2025 corpus.

Every response of this module is validated against the server's own OpenAPI 3.1
document (GET /api/v1/openapi.json) with jsonschema, and the document itself with
openapi-spec-validator. The answers are compared with the CLI's JSON at the same
as-of: the API says what `queue --json` and `series --json` say.
"""

from __future__ import annotations

import json
import time
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from typing import Any
from urllib.parse import quote

import pytest
import requests
from jsonschema import Draft202012Validator, FormatChecker
from openapi_spec_validator import validate as validate_spec
from referencing import Registry, Resource
from referencing.jsonschema import DRAFT202012

from reviewbot.cli import main
from tests.webfix import AS_OF, SUBSYSTEM, Running

pytestmark = [pytest.mark.corpus, pytest.mark.slow]

# Hand-checked in tests/test_backlog_corpus.py: no reply at all in the corpus.
ERDMA = "20250130080418.37915-1-a.vatoropin@crpt.ru"
MLX5 = "cover.1735817449.git.leon@kernel.org"


class Client:
    """Requests against the server, each answer checked against the OpenAPI document."""

    def __init__(self, base: str) -> None:
        self.base = base
        self.spec: dict[str, Any] = requests.get(f"{base}/api/v1/openapi.json",
                                                 timeout=30).json()
        self.registry = Registry().with_resource(
            "urn:reviewbot-openapi",
            Resource.from_contents(self.spec, default_specification=DRAFT202012))
        self.checked = 0

    def request(self, method: str, template: str, path: str | None = None, *,
                expect: int = 200, **kw: Any) -> Any:
        r = requests.request(method, self.base + (path or template), timeout=60, **kw)
        assert r.status_code == expect, (r.status_code, r.text[:500])
        responses = self.spec["paths"][template][method.lower()]["responses"]
        assert str(r.status_code) in responses, f"{r.status_code} undocumented for {template}"
        media = r.headers["Content-Type"].split(";")[0]
        content = responses[str(r.status_code)]["content"]
        assert media in content, f"{media} undocumented for {template} {r.status_code}"
        if media == "application/json":
            pointer = "/".join(["paths", template.replace("~", "~0").replace("/", "~1"),
                                method.lower(), "responses", str(r.status_code), "content",
                                "application~1json", "schema"])
            validator = Draft202012Validator({"$ref": f"urn:reviewbot-openapi#/{pointer}"},
                                             registry=self.registry,
                                             format_checker=FormatChecker())
            errors = sorted(validator.iter_errors(r.json()), key=lambda e: list(e.path))
            assert not errors, [f"{list(e.path)}: {e.message}" for e in errors[:5]]
            self.checked += 1
            return r.json()
        return r.text


@pytest.fixture(scope="module")
def client(web_ro: Running) -> Iterator[Client]:
    c = Client(web_ro.url)
    yield c
    assert c.checked > 0


def cli_json(capsys: pytest.CaptureFixture[str], cfg: str, *argv: str) -> Any:
    capsys.readouterr()
    assert main(["--config", cfg, *argv, "--json"]) == 0
    return json.loads(capsys.readouterr().out)


def test_the_openapi_document_is_valid_openapi_3_1(client: Client) -> None:
    """The document passes openapi-spec-validator and names every route the server has."""
    validate_spec(client.spec)
    assert client.spec["openapi"] == "3.1.0"
    for path in ("/api/v1/subsystems", "/api/v1/subsystems/{name}/queue",
                 "/api/v1/series/{message_id}", "/api/v1/stats", "/api/v1/reviewers/{email}",
                 "/api/v1/series/{message_id}/snooze", "/metrics", "/healthz", "/chat/slack"):
        assert path in client.spec["paths"]


def test_queue_says_what_the_cli_says(client: Client, web_ro: Running,
                                      capsys: pytest.CaptureFixture[str]) -> None:
    """Same series, same fields, same figures as `queue --subsystem --json --as-of`."""
    name = quote(SUBSYSTEM)
    api = client.request("GET", "/api/v1/subsystems/{name}/queue",
                         f"/api/v1/subsystems/{name}/queue?as_of={AS_OF}&limit=500")
    cli = cli_json(capsys, str(web_ro.conf.path), "queue", "--subsystem", SUBSYSTEM,
                   "--as-of", AS_OF)
    assert api["series"] == cli["series"]
    assert api["stats"] == cli["stats"]
    assert (api["subsystem"], api["as_of"], api["ignored"]) == (
        cli["subsystem"], cli["as_of"], cli["ignored"])
    assert api["total"] == len(cli["series"]) > 40  # more than one page of 40


def test_queue_pages_and_filters(client: Client) -> None:
    """limit/offset walk the whole queue once; state, turn and ready filter it."""
    base = f"/api/v1/subsystems/{quote(SUBSYSTEM)}/queue?as_of={AS_OF}"
    t = "/api/v1/subsystems/{name}/queue"
    whole = client.request("GET", t, base + "&limit=500")["series"]
    seen: list[str] = []
    offset: int | None = 0
    while offset is not None:
        page = client.request("GET", t, f"{base}&limit=40&offset={offset}")
        assert page["limit"] == 40 and len(page["series"]) <= 40
        seen += [s["series_id"] for s in page["series"]]
        offset = page["next_offset"]
    assert seen == [s["series_id"] for s in whole]
    stale = client.request("GET", t, base + "&state=stale&limit=500")["series"]
    assert stale and {s["state"] for s in stale} == {"stale"}
    assert len(stale) == sum(1 for s in whole if s["state"] == "stale")
    turns = client.request("GET", t, base + "&turn=author,nobody&limit=500")["series"]
    assert {s["turn"] for s in turns} <= {"author", "nobody"}
    ready = client.request("GET", t, base + "&ready=true&limit=500")["series"]
    assert ready and all(s["state"] not in ("changes_requested", "rfc") for s in ready)
    for entry in ready:  # every patch carries a review or an ack
        doc = client.request("GET", "/api/v1/series/{message_id}",
                             f"/api/v1/series/{quote(entry['series_id'])}?as_of={AS_OF}")
        assert all({t["kind"] for t in p["trailers"]} & {"Reviewed-by", "Acked-by"}
                   for p in doc["patches"]), entry["series_id"]


def test_series_says_what_the_cli_says(client: Client, web_ro: Running,
                                       capsys: pytest.CaptureFixture[str]) -> None:
    """`series --json` plus a lore link, with the timeline; `<>` and encoding accepted."""
    for mid in (ERDMA, MLX5):
        api = client.request("GET", "/api/v1/series/{message_id}",
                             f"/api/v1/series/{quote('<' + mid + '>', safe='')}?as_of={AS_OF}")
        cli = cli_json(capsys, str(web_ro.conf.path), "series", mid, "--as-of", AS_OF)
        assert api.pop("lore") == f"https://lore.kernel.org/r/{mid}"
        assert api == cli
        assert api["timeline"]


def test_subsystems_stats_and_reviewers(client: Client) -> None:
    subs = client.request("GET", "/api/v1/subsystems", f"/api/v1/subsystems?as_of={AS_OF}")
    names = [s["name"] for s in subs["items"]]
    assert names[0] == SUBSYSTEM  # the most open series
    assert subs["total"] > 50 and subs["limit"] == 50 and subs["next_offset"] == 50
    stats = client.request("GET", "/api/v1/stats")
    assert stats["messages"] == 8459 and stats["series"] > 1000
    leon = client.request("GET", "/api/v1/reviewers/{email}",
                          f"/api/v1/reviewers/leon@kernel.org?as_of={AS_OF}")
    assert leon["email"] == "leonro@nvidia.com"  # the mailmap/name alias
    assert {"section": SUBSYSTEM, "role": "maintainer"} in leon["subsystems"]
    assert leon["reviews_given"]["Reviewed-by"] > 0
    assert leon["total"] > 0 and all("leonro@nvidia.com" in s["waiting_on"]
                                     or "leonro@nvidia.com" in s["assignees"]
                                     for s in leon["waiting"])


def test_errors_are_json_with_a_message(client: Client) -> None:
    t = "/api/v1/subsystems/{name}/queue"
    e = client.request("GET", t, "/api/v1/subsystems/NO%20SUCH%20THING/queue", expect=404)
    assert "NO SUCH THING" in e["message"]
    e = client.request("GET", t, f"/api/v1/subsystems/{quote(SUBSYSTEM)}/queue?limit=0",
                       expect=400)
    assert "limit" in e["message"]
    e = client.request("GET", t, f"/api/v1/subsystems/{quote(SUBSYSTEM)}/queue?state=bogus",
                       expect=400)
    assert "bogus" in e["message"]
    e = client.request("GET", "/api/v1/series/{message_id}",
                       "/api/v1/series/nobody@nowhere.example", expect=404)
    assert "unknown message" in e["message"]
    e = client.request("GET", "/api/v1/series/{message_id}",
                       f"/api/v1/series/{ERDMA}?as_of=yesterday", expect=400)
    assert "as_of" in e["message"]
    r = requests.get(client.base + "/api/v1/nothing/here", timeout=10)
    assert r.status_code == 404 and r.json()["message"]


def test_writes_need_a_token_and_the_role(client: Client) -> None:
    """No token: 401; a token whose person has no role in the series' sections: 403."""
    t = "/api/v1/series/{message_id}/claim"
    e = client.request("POST", t, f"/api/v1/series/{ERDMA}/claim", expect=401)
    assert "bearer" in e["message"]
    e = client.request("POST", t, f"/api/v1/series/{ERDMA}/claim", expect=401,
                       headers={"Authorization": "Bearer not-a-token"})
    assert "unknown" in e["message"]
    e = client.request("POST", t, f"/api/v1/series/{ERDMA}/claim", expect=403,
                       headers={"Authorization": "Bearer outsider-token"})
    assert "someone@example.org is not one" in e["message"]


def test_a_maintainer_snoozes_and_the_queue_shows_it(web: Running) -> None:
    """A snooze by the maintainer's token is the same action as `override --state snoozed`:
    the series leaves the open queue at once and its timeline names the actor."""
    c = Client(web.url)
    auth = {"Authorization": "Bearer maintainer-token"}
    done = c.request("POST", "/api/v1/series/{message_id}/snooze",
                     f"/api/v1/series/{ERDMA}/snooze", json={"duration": "7d"}, headers=auth)
    assert done["by"] == "leon@kernel.org" and "snooze" in done["done"]
    series = c.request("GET", "/api/v1/series/{message_id}", f"/api/v1/series/{ERDMA}")
    assert series["state"] == "snoozed"
    assert series["timeline"][-1]["actor"] == "leonro@nvidia.com"
    q = c.request("GET", "/api/v1/subsystems/{name}/queue",
                  f"/api/v1/subsystems/{quote(SUBSYSTEM)}/queue?limit=500")
    assert ERDMA not in {s["series_id"] for s in q["series"]}
    bad = c.request("POST", "/api/v1/series/{message_id}/state",
                    f"/api/v1/series/{ERDMA}/state", json={"state": "bogus"}, headers=auth,
                    expect=400)
    assert "state must be one of" in bad["message"]
    c.request("POST", "/api/v1/series/{message_id}/state", f"/api/v1/series/{ERDMA}/state",
              json={"state": "open"}, headers=auth)
    claim = c.request("POST", "/api/v1/series/{message_id}/claim",
                      f"/api/v1/series/{ERDMA}/claim", headers=auth)
    assert claim["action"] == "claim"
    again = c.request("GET", "/api/v1/series/{message_id}", f"/api/v1/series/{ERDMA}")
    assert again["assignees"] == ["leonro@nvidia.com"] and again["state"] != "snoozed"


def test_api_latency_under_20_concurrent_clients(client: Client) -> None:
    """20 clients, 10 queue requests each: every answer 200; the figures are printed."""
    url = f"{client.base}/api/v1/subsystems/{quote(SUBSYSTEM)}/queue?limit=50"

    def one(_: int) -> float:
        t = time.perf_counter()
        r = requests.get(url, timeout=60)
        assert r.status_code == 200
        return time.perf_counter() - t

    with ThreadPoolExecutor(20) as pool:
        samples = sorted(pool.map(one, range(200)))
    p50, p99 = samples[len(samples) // 2], samples[int(len(samples) * 0.99) - 1]
    print(f"\nAPI queue --subsystem, 20 concurrent clients, 200 requests: "
          f"p50 {p50 * 1000:.0f} ms, p99 {p99 * 1000:.0f} ms")
    assert p50 < 30  # sanity only; bench/metrics.py measures at 100,000 mails
