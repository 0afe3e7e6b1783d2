"""End to end in a real headless browser: Debian's chromium driven by Playwright (no browser
download). The demo archive is served by ``palimpsest serve``; a reader goes from the story
to the Harbor Ledger's article to the diff of its headline change, and sees the old and new
headlines with the words marked; on a phone (390 px wide) every page fits the screen and the
article's text reads. Screenshots land in test-artifacts/.
"""

from __future__ import annotations

import re
import shutil
from pathlib import Path

import pytest
from sqlalchemy.engine import make_url

from tests.conftest import CLI, PG_SERVER_URL, REPO_ROOT, _create_pg_database, _drop_pg_database
from tests.test_web import start_server, stop_server

CHROMIUM = Path("/usr/bin/chromium")
CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-proxy-server",
]
SCREENSHOT = REPO_ROOT / "test-artifacts" / "diff-page.png"
PHONE_SCREENSHOT = REPO_ROOT / "test-artifacts" / "version-page-390px.png"
PHONE = {"width": 390, "height": 844}
OLD_HEADLINE = "Harbor City to Sell Its Water Utility to a Private Operator"
NEW_HEADLINE = "Harbor City Council Approves $410 Million Sale of Water Utility Amid Protests"
STORY_TITLE = "Harbor City sells its water utility"


@pytest.fixture(scope="module")
def browser():
    if not (CHROMIUM.exists() or shutil.which("chromium")):
        pytest.skip("no chromium at /usr/bin/chromium (apt-get install chromium)")
    sync_api = pytest.importorskip("playwright.sync_api", reason="playwright is not installed (pip install playwright)")
    with sync_api.sync_playwright() as playwright:
        browser = playwright.chromium.launch(
            executable_path=str(CHROMIUM if CHROMIUM.exists() else shutil.which("chromium")),
            args=CHROMIUM_ARGS,
            headless=True,
            timeout=20_000,
        )
        try:
            yield browser
        finally:
            browser.close()


@pytest.fixture(scope="module")
def demo_site(browser, tmp_path_factory):
    """The demo's archive (one run for the module), served by ``palimpsest serve``: its base URL."""
    directory = tmp_path_factory.mktemp("browser")
    url = _create_pg_database(PG_SERVER_URL) if PG_SERVER_URL else f"sqlite:///{directory / 'archive.db'}"
    cli = CLI(url, directory / "warc", directory)
    cli("demo", "--dir", str(directory / "demo"), "--db", url, check=True)
    server, base = start_server(url, directory)
    try:
        yield base
    finally:
        stop_server(server)
        if PG_SERVER_URL:
            _drop_pg_database(PG_SERVER_URL, make_url(url).database)


@pytest.mark.slow
def test_story_to_article_to_headline_diff_in_chromium(demo_site, browser):
    from playwright.sync_api import expect

    base = demo_site
    page = browser.new_page(viewport={"width": 1280, "height": 1000})
    try:
        page.set_default_timeout(10_000)
        problems: list[str] = []
        page.on("pageerror", lambda error: problems.append(f"page error: {error}"))
        page.on(
            "console",
            lambda message: problems.append(message.text) if "Content Security Policy" in message.text else None,
        )

        page.goto(base)
        page.get_by_role("link", name=STORY_TITLE).click()
        expect(page.locator("h1")).to_have_text(STORY_TITLE)

        ledger = page.locator("h2:has-text('The Harbor Ledger') + table")
        ledger.get_by_role("link", name=NEW_HEADLINE).click()
        expect(page.locator("h1")).to_have_text(NEW_HEADLINE)
        expect(page.locator("main")).to_contain_text("2 version(s)")

        headline_change = page.locator("table.timeline tbody tr", has=page.locator(".kind.headline"))
        expect(headline_change).to_have_count(1)
        headline_change.get_by_role("link", name=re.compile(r"^diff v1 → v2$")).click()

        expect(page).to_have_url(re.compile(r"/articles/\d+/diff\?from=1&to=2$"))
        row = page.locator("table.side-by-side tr.changed", has=page.locator("th", has_text="Headline"))
        old_cell, new_cell = row.locator("td").nth(0), row.locator("td").nth(1)
        expect(old_cell).to_have_text(OLD_HEADLINE)
        expect(new_cell).to_have_text(NEW_HEADLINE)
        expect(old_cell.locator("del").first).to_be_visible()
        expect(old_cell.locator("del").first).to_have_text("to Sell Its ")
        expect(new_cell.locator("ins").first).to_be_visible()
        expect(new_cell.locator("ins").first).to_have_text("Council Approves $410 Million Sale of ")
        expect(page.locator(".inline-diff del").first).to_be_visible()
        expect(page.locator(".inline-diff ins").first).to_be_visible()
        # The stylesheet loaded under the Content-Security-Policy: deletions are struck through.
        assert "line-through" in old_cell.locator("del").first.evaluate("e => getComputedStyle(e).textDecorationLine")
        assert problems == []

        SCREENSHOT.parent.mkdir(parents=True, exist_ok=True)
        SCREENSHOT.unlink(missing_ok=True)
        page.screenshot(path=str(SCREENSHOT), full_page=True)
        assert SCREENSHOT.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    finally:
        page.close()


def _overflow(page) -> int:
    """How many CSS pixels the page is wider than the screen (0: it fits)."""
    return page.evaluate("() => document.documentElement.scrollWidth - window.innerWidth")


@pytest.mark.slow
def test_every_page_fits_a_phone_and_the_article_text_reads(demo_site, browser):
    from playwright.sync_api import expect

    base = demo_site
    page = browser.new_page(viewport=PHONE, is_mobile=True, device_scale_factor=2)
    page.set_default_timeout(10_000)
    try:
        page.goto(base)
        story_url = page.get_by_role("link", name=STORY_TITLE).get_attribute("href")
        page.goto(base.rstrip("/") + story_url)
        article_url = page.get_by_role("link", name=NEW_HEADLINE).first.get_attribute("href")
        article = base.rstrip("/") + article_url
        paths = {
            "index": base,
            "story": base.rstrip("/") + story_url,
            "article": article,
            "version 1": f"{article}/v/1",
            "diff": f"{article}/diff",
            "captures": f"{article}/captures",
            "articles": f"{base}articles",
            "outlets": f"{base}outlets",
            "candidates": base.rstrip("/") + story_url + "/candidates?decision=joined",
            "search": f"{base}search?q=water",
            "health": f"{base}health",
        }
        overflowing = {}
        for name, url in paths.items():
            page.goto(url)
            if (pixels := _overflow(page)) > 1:
                overflowing[name] = pixels
        assert overflowing == {}, f"wider than a 390 px screen: {overflowing}"

        # The side-by-side diff stacks old above new, each as wide as the screen, instead of
        # two slivers of a column thousands of pixels tall.
        page.goto(paths["diff"])
        widths = page.locator("table.side-by-side td").evaluate_all("cells => cells.map(c => c.offsetWidth)")
        assert widths and min(widths) >= 300, widths
        height = page.evaluate("() => document.documentElement.scrollHeight")
        assert height < 9000, height

        # The text of the first version reads, at phone width, in paragraphs.
        page.goto(paths["version 1"])
        expect(page.locator("h1")).to_have_text(OLD_HEADLINE)
        paragraphs = page.locator("article.version .text p")
        assert paragraphs.count() >= 5
        assert paragraphs.first.evaluate("p => p.getBoundingClientRect().right") <= PHONE["width"]
        PHONE_SCREENSHOT.parent.mkdir(parents=True, exist_ok=True)
        page.screenshot(path=str(PHONE_SCREENSHOT), full_page=True)
    finally:
        page.close()
