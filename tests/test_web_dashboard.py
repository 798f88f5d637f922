"""The dashboard in real headless Chromium (Debian's /usr/bin/chromium driven by
Playwright; no browser is downloaded) over a real server and a real ingest of the
2025 corpus, as of 2025-12-31.

Pages load without console errors, with and without JavaScript; every plot has data;
every link resolves (internal ones answer 200, lore links name stored series); the
page fits a phone's width. Screenshots are kept under the pytest temporary directory,
and their paths printed.
"""

from __future__ import annotations

import re
import shutil
from collections.abc import Iterator
from pathlib import Path
from typing import Any
from urllib.parse import unquote, urljoin

import pytest
import requests

from tests.webfix import AS_OF, SUBSYSTEM, Running, cli_queue

pytestmark = [pytest.mark.corpus, pytest.mark.slow]
CHROMIUM = shutil.which("chromium") or "/usr/bin/chromium"


@pytest.fixture(scope="module")
def browser() -> Iterator[Any]:
    from playwright.sync_api import sync_playwright

    assert Path(CHROMIUM).exists(), "Debian's chromium is needed (.ci/system-setup installs it)"
    with sync_playwright() as p:
        b = p.chromium.launch(executable_path=CHROMIUM, args=["--no-sandbox"])
        yield b
        b.close()


@pytest.fixture(scope="module")
def shots(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tmp_path_factory.mktemp("dashboard-screenshots")


def _open(browser: Any, url: str, *, js: bool = True, width: int = 1280,
          height: int = 900) -> tuple[Any, Any, list[str]]:
    context = browser.new_context(java_script_enabled=js,
                                  viewport={"width": width, "height": height})
    page = context.new_page()
    errors: list[str] = []
    page.on("console", lambda m: errors.append(m.text) if m.type == "error" else None)
    page.on("pageerror", lambda e: errors.append(str(e)))
    page.on("requestfailed", lambda r: errors.append(f"request failed: {r.url}"))
    response = page.goto(url, wait_until="load")
    assert response is not None and response.status == 200, url
    return context, page, errors


def _links(page: Any) -> list[str]:
    return [str(h) for h in page.eval_on_selector_all("a[href]", "els => els.map(e => e.href)")]


def _check_links(base: str, links: list[str]) -> int:
    """Internal links answer 200; lore links name series the API knows."""
    checked = 0
    for href in sorted(set(links)):
        if href.startswith(base):
            assert requests.get(href, timeout=60).status_code == 200, href
        else:
            m = re.fullmatch(r"https://lore\.kernel\.org/r/(.+)", href)
            assert m, f"unexpected external link {href}"
            r = requests.get(urljoin(base, "/api/v1/series/" + m.group(1)), timeout=60)
            assert r.status_code == 200, (href, unquote(m.group(1)))
        checked += 1
    return checked


def test_the_index_lists_the_configured_subsystems(web_ro: Running, browser: Any,
                                                    shots: Path) -> None:
    context, page, errors = _open(browser, f"{web_ro.url}/?as_of={AS_OF}")
    rows = page.locator("tbody tr")
    assert rows.count() == len(web_ro.conf.metrics.subsystems)
    assert page.locator("tbody tr", has_text=SUBSYSTEM).locator("td.n").first.inner_text() \
        .isdigit()
    assert _check_links(web_ro.url, _links(page)) >= 5
    page.screenshot(path=str(shots / "index.png"), full_page=True)
    assert not errors, errors
    context.close()


def test_a_subsystem_page_has_plots_with_data(web_ro: Running, browser: Any, shots: Path,
                                              record_property: Any) -> None:
    url = f"{web_ro.url}/subsystems/{SUBSYSTEM.replace(' ', '%20')}?as_of={AS_OF}"
    context, page, errors = _open(browser, url)
    assert page.locator("h1").inner_text() == SUBSYSTEM
    plots = page.locator("svg.plot")
    assert plots.count() >= 6
    # backlog over time: two stacked layers with a real height somewhere in the year
    layers = page.locator("polygon.layer")
    assert layers.count() == 2
    heights = [layers.nth(i).bounding_box()["height"] for i in range(2)]
    assert all(h > 5 for h in heights), heights
    bars = page.locator("rect.bar")
    visible = [bars.nth(i).bounding_box() for i in range(bars.count())]
    assert sum(1 for b in visible if b and b["height"] > 1 and b["width"] > 1) >= 10
    text = page.locator("main").inner_text()
    assert "Ready to apply" in text and "Oldest waiting" in text
    assert "Reviews this cycle" in text and "reviews on" in text
    oldest = page.locator("section", has_text="Oldest waiting").locator("a")
    assert oldest.count() == 10
    first = cli_queue(web_ro.conf, SUBSYSTEM, AS_OF)["stats"]["oldest_waiting"][0]["series_id"]
    assert oldest.first.get_attribute("href") == f"https://lore.kernel.org/r/{first}"
    assert _check_links(web_ro.url, _links(page)) >= 15
    shot = shots / "subsystem.png"
    page.screenshot(path=str(shot), full_page=True)
    record_property("dashboard_screenshot", str(shot))
    print(f"\ndashboard screenshot: {shot}")
    assert not errors, errors
    context.close()


def test_readable_without_javascript_and_on_a_phone(web_ro: Running, browser: Any,
                                                    shots: Path) -> None:
    url = f"{web_ro.url}/subsystems/{SUBSYSTEM.replace(' ', '%20')}?as_of={AS_OF}"
    context, page, errors = _open(browser, url, js=False, width=390, height=844)
    assert page.locator("svg.plot").count() >= 6  # server-side SVG: no script needed
    assert page.locator("polygon.layer").count() == 2
    shot = shots / "subsystem-phone-nojs.png"
    page.screenshot(path=str(shot), full_page=True)
    print(f"\nphone screenshot (no JavaScript): {shot}")
    assert not errors, errors
    context.close()
    context, page, errors = _open(browser, url, width=390, height=844)
    overflow = page.evaluate("document.documentElement.scrollWidth")
    assert overflow <= 390, f"the page is {overflow} px wide on a 390 px phone"
    assert not errors, errors
    context.close()


def test_nothing_is_fetched_from_elsewhere(web_ro: Running, browser: Any) -> None:
    """Every request a page makes goes to the server itself (no CDN, no fonts)."""
    context = browser.new_context()
    page = context.new_page()
    seen: list[str] = []
    page.on("request", lambda r: seen.append(r.url))
    page.goto(f"{web_ro.url}/subsystems/{SUBSYSTEM.replace(' ', '%20')}?as_of={AS_OF}")
    page.goto(f"{web_ro.url}/?as_of={AS_OF}")
    assert seen and all(u.startswith(web_ro.url) or u.startswith("data:") for u in seen), seen
    context.close()


def test_an_unknown_subsystem_is_a_404_page(web_ro: Running) -> None:
    r = requests.get(f"{web_ro.url}/subsystems/NO%20SUCH%20SECTION", timeout=30)
    assert r.status_code == 404 and "NO SUCH SECTION" in r.text
    r = requests.get(f"{web_ro.url}/subsystems?name=soft-roce%20driver%20(rxe)&as_of={AS_OF}",
                     timeout=30)
    assert r.status_code == 200 and "SOFT-ROCE DRIVER (rxe)" in r.text
