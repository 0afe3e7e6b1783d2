"""The web view (``palimpsest serve``): every page and its JSON twin, the Atom feeds, paging,
search, errors, security headers, read-only access, and archived markup rendered inert.

The archive is written with ``storage.ingest.ingest_capture`` (what the crawler calls), then
read through the Flask test client; one test runs the real demo and one the real server.
"""

from __future__ import annotations

import json
import os
import re
import sqlite3
import subprocess
import sys
import time
import urllib.request
import xml.etree.ElementTree as ET
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from sqlalchemy import select, text
from sqlalchemy.exc import DBAPIError

from palimpsest.storage import stories
from palimpsest.storage.db import make_engine
from palimpsest.storage.ingest import ExtractedVersion, FetchRecord, StoryLink, ingest_capture
from palimpsest.storage.models import Article
from palimpsest.storage.versioning import VersionContent
from palimpsest.web import SECURITY_HEADERS, create_app
from palimpsest.web.server import is_loopback
from palimpsest.web.state import EXTENSION, db_session

T0 = datetime(2026, 3, 1, 12, 0, tzinfo=UTC)
ATOM = "{http://www.w3.org/2005/Atom}"
SCRIPT = "<script>alert(1)</script>"
IMG = "<img src=x onerror=alert(1)>"
SCRIPT_ESCAPED = "&lt;script&gt;alert(1)&lt;/script&gt;"
IMG_ESCAPED = "&lt;img src=x onerror=alert(1)&gt;"
XSS_BODY = f"The council met. {SCRIPT} and {IMG} were in the page.\n\nSecond paragraph {IMG}."
BODY = "The council met on Monday to discuss the budget.\n\nMembers argued for hours.\n\nA vote is due."
HEADLINE_1 = "Council debates the budget"
HEADLINE_2 = "Council approves the budget after a long night"


def extracted(text_: str, headline: str, byline: str | None = "By A. Reporter", **overrides) -> ExtractedVersion:
    fields = {
        "headline": headline,
        "dek": "The standfirst",
        "byline": byline,
        "text": text_,
        "content_hash": "",
        "word_count": len(text_.split()),
        "extractor": "test",
        "access": "free",
        "language": "en",
    }
    fields.update(overrides)
    fields["content_hash"] = VersionContent.of(fields["headline"], fields["dek"], fields["byline"], text_).content_hash
    return ExtractedVersion(**fields)


def ingest(session, url, domain, name, version, *, at, story=None, based_on=None) -> int:
    fetch = FetchRecord(
        requested_url=url,
        canonical_url=url,
        outlet_domain=domain,
        outlet_name=name,
        fetched_at=at,
        http_status=200,
        based_on_url=based_on,
    )
    result = ingest_capture(session, fetch, version, now=at, story=StoryLink(story) if story else None)
    assert result.outcome == "new_version", result
    return result.article_id


@pytest.fixture
def archive(sessions):
    """Stories "council" (4 articles, 3 outlets, a paywalled one) and "xss" (hostile markup)."""
    ids = {}
    with sessions() as session, session.begin():
        stories.create_story(
            session, "xss", f"Hostile {SCRIPT}", sources=[], terms=[], now=T0
        )  # a title carrying markup too
        a = "https://times.example/council-budget"
        ids["a"] = ingest(
            session, a, "times.example", "Example Times", extracted(BODY, HEADLINE_1), at=T0, story="council"
        )
        ingest(session, a, "times.example", "Example Times", extracted(BODY, HEADLINE_2), at=T0 + timedelta(hours=1))
        edited = BODY.replace("for hours", "for six hours")
        ingest(session, a, "times.example", "Example Times", extracted(edited, HEADLINE_2), at=T0 + timedelta(hours=2))
        ids["paywalled"] = ingest(
            session,
            "https://wall.example/budget",
            "wall.example",
            "Wall Journal",
            extracted("Only the first paragraph.", "Budget passes", access="hard", complete=False),
            at=T0 + timedelta(minutes=5),
            story="council",
        )
        ids["free"] = ingest(
            session,
            "https://free.example/budget",
            "free.example",
            "Free Press",
            extracted(BODY, "Budget passes, rates rise 5% in March"),
            at=T0 + timedelta(minutes=6),
            story="council",
        )
        ids["xss"] = ingest(
            session,
            "https://evil.example/story",
            "evil.example",
            "<b>Evil</b> Gazette",
            extracted(XSS_BODY, SCRIPT, byline=IMG),
            at=T0 + timedelta(minutes=10),
            story="xss",
            based_on="javascript:alert(1)",
        )
        ingest(
            session,
            "https://evil.example/story",
            "evil.example",
            None,
            # \x0c is not allowed in XML 1.0: the feed must still be well-formed.
            extracted(XSS_BODY + f"\n\nAdded {SCRIPT}.", f"{SCRIPT} council\x0c update", byline=IMG),
            at=T0 + timedelta(hours=3),
        )
    return ids


@pytest.fixture
def app(archive, database_url):
    app = create_app(database_url)
    app.config["TESTING"] = True
    yield app
    app.extensions[EXTENSION].engine.dispose()


@pytest.fixture
def client(app):
    return app.test_client()


def get_json(client, path: str, status: int = 200) -> dict:
    response = client.get(path)
    assert response.status_code == status, (path, response.data[:500])
    assert response.mimetype == "application/json"
    return response.get_json()


def get_html(client, path: str, status: int = 200) -> str:
    response = client.get(path)
    assert response.status_code == status, (path, response.data[:500])
    assert response.mimetype == "text/html"
    page = response.get_data(as_text=True)
    assert "<script" not in page.lower()  # no page carries a script of any origin
    return page


def feed(client, path: str) -> ET.Element:
    response = client.get(path)
    assert response.status_code == 200
    assert response.mimetype == "application/atom+xml"
    root = ET.fromstring(response.data)
    assert root.tag == f"{ATOM}feed"
    for required in ("id", "title", "updated"):
        assert root.find(f"{ATOM}{required}") is not None
    for entry in root.findall(f"{ATOM}entry"):
        for required in ("id", "title", "updated", "author", "link", "content"):
            assert entry.find(f"{ATOM}{required}") is not None, required
    return root


def entry_titles(root: ET.Element) -> list[str]:
    return [entry.findtext(f"{ATOM}title") for entry in root.findall(f"{ATOM}entry")]


# --- pages and their JSON twins -------------------------------------------------------------------


def test_stories_list_and_api(client):
    page = get_html(client, "/")
    assert 'href="/stories/council"' in page and 'href="/stories/xss"' in page
    data = get_json(client, "/api/stories")
    council = next(s for s in data["stories"] if s["slug"] == "council")
    assert council["articles"] == 3 and council["outlets"] == 3
    assert data["pagination"] == {"page": 1, "per_page": 50, "total": None, "next": None, "previous": None}


def test_story_page_shows_coverage_per_outlet_and_free_coverage(client, archive):
    page = get_html(client, "/stories/council")
    for outlet in ("Example Times", "Wall Journal", "Free Press"):
        assert outlet in page
    assert HEADLINE_2 in page and HEADLINE_1 not in page  # the latest headline only
    assert "Free coverage of this story" in page
    assert f'href="/articles/{archive["free"]}"' in page
    assert 'href="https://times.example/council-budget" rel="noopener noreferrer nofollow"' in page

    data = get_json(client, "/api/stories/council")
    assert data["story"]["slug"] == "council" and data["story"]["articles"] == 3
    by_id = {a["article_id"]: a for a in data["articles"]}
    times = by_id[archive["a"]]
    assert times["versions"] == 3 and times["headline"] == HEADLINE_2
    assert times["change_kinds"] == ["body"] and times["access"] == "free" and times["complete"] is True
    assert times["how"] == "seed" and times["last_change"] == (T0 + timedelta(hours=2)).isoformat()
    wall = by_id[archive["paywalled"]]
    assert wall["access"] == "hard" and wall["complete"] is False
    assert [f["article_id"] for f in wall["free_alternatives"]] == [archive["free"], archive["a"]]  # by outlet
    assert by_id[archive["free"]]["free_alternatives"] == []


def test_article_page_and_api_show_the_timeline(client, archive):
    article_id = archive["a"]
    page = get_html(client, f"/articles/{article_id}")
    assert HEADLINE_1 in page and HEADLINE_2 in page
    assert f'href="/articles/{article_id}/diff?from=1&amp;to=2"' in page
    assert 'href="/stories/council"' in page

    data = get_json(client, f"/api/articles/{article_id}")
    assert data["article"]["url"] == "https://times.example/council-budget"
    assert data["article"]["versions"] == 3 and data["article"]["captures"] == 3
    assert [v["seq"] for v in data["versions"]] == [3, 2, 1]  # newest first
    assert [v["change_kinds"] for v in data["versions"]] == [["body"], ["headline"], []]
    assert data["versions"][1]["headline"] == HEADLINE_2 and 0 < data["versions"][1]["similarity"] < 1
    assert data["versions"][2]["first_seen_at"] == T0.isoformat()
    assert "text" not in data["versions"][0]  # timelines never carry whole texts


def test_diff_page_and_api(client, archive):
    article_id = archive["a"]
    page = get_html(client, f"/articles/{article_id}/diff?from=1&to=2")
    assert "Side by side" in page and "Inline" in page
    assert "<del>debates </del>" in page or "<del>debates</del>" in page
    assert "<ins>approves </ins>" in page or "<ins>approves</ins>" in page
    assert HEADLINE_1.split()[0] in page

    default = get_html(client, f"/articles/{article_id}/diff")  # the last two versions
    assert "v2" in default and "v3" in default and "<ins>six </ins>" in default

    data = get_json(client, f"/api/articles/{article_id}/diff?from=1&to=2")
    assert data["schema"] == "palimpsest.diff/1"
    assert data["kinds"] == ["headline"]
    assert data["from"]["seq"] == 1 and data["to"]["seq"] == 2
    assert data["fields"]["headline"]["old"] == HEADLINE_1 and data["fields"]["headline"]["new"] == HEADLINE_2
    assert get_json(client, f"/api/articles/{article_id}/diff")["kinds"] == ["body"]


def test_search_headlines(client, archive):
    page = get_html(client, "/search?q=BUDGET")
    assert HEADLINE_2 in page and "Budget passes" in page
    data = get_json(client, "/api/search?q=budget")
    assert data["query"] == "budget"
    seen = [r["first_seen_at"] for r in data["results"]]
    assert seen == sorted(seen, reverse=True)  # newest first
    assert {r["headline"] for r in data["results"]} == {
        HEADLINE_1,
        HEADLINE_2,
        "Budget passes",
        "Budget passes, rates rise 5% in March",
    }
    # Wildcards match themselves.
    assert [r["headline"] for r in get_json(client, "/api/search?q=5%25")["results"]] == [
        "Budget passes, rates rise 5% in March"
    ]
    assert [r["headline"] for r in get_json(client, "/api/search?q=%25")["results"]] == [
        "Budget passes, rates rise 5% in March"
    ]
    assert get_json(client, "/api/search?q=_")["results"] == []
    assert get_json(client, "/api/search?q=nothing-like-this")["results"] == []
    assert "Search headlines" in get_html(client, "/search")  # the empty form


def test_healthz_and_static(client):
    response = client.get("/healthz")
    assert response.status_code == 200 and response.mimetype == "text/plain" and response.data == b"ok\n"
    with client.get("/static/style.css") as css:
        assert css.status_code == 200 and css.mimetype == "text/css"


# --- pagination -----------------------------------------------------------------------------------


def test_pagination_everywhere(client, archive):
    article_id = archive["a"]
    first = get_json(client, f"/api/articles/{article_id}?per_page=2")
    assert [v["seq"] for v in first["versions"]] == [3, 2]
    assert first["pagination"]["next"] == f"/api/articles/{article_id}?per_page=2&page=2"
    assert first["pagination"]["previous"] is None and first["pagination"]["total"] == 3
    second = get_json(client, first["pagination"]["next"])
    assert [v["seq"] for v in second["versions"]] == [1]
    assert second["pagination"]["next"] is None
    assert second["pagination"]["previous"] == f"/api/articles/{article_id}?per_page=2"
    page = get_html(client, f"/articles/{article_id}?per_page=2")
    assert "older →" in page and f'href="/articles/{article_id}?per_page=2&amp;page=2"' in page
    assert "← newer" in get_html(client, f"/articles/{article_id}?per_page=2&page=2")

    stories_1 = get_json(client, "/api/stories?per_page=1")
    stories_2 = get_json(client, "/api/stories?per_page=1&page=2")
    assert [s["slug"] for s in stories_1["stories"] + stories_2["stories"]] == ["council", "xss"]
    assert stories_1["pagination"]["next"] and stories_2["pagination"]["next"] is None

    coverage = [get_json(client, f"/api/stories/council?per_page=2&page={n}") for n in (1, 2)]
    assert [len(c["articles"]) for c in coverage] == [2, 1]
    assert coverage[0]["pagination"]["total"] == 3
    assert "next →" in get_html(client, "/stories/council?per_page=2")

    search = get_json(client, "/api/search?q=budget&per_page=3")
    assert len(search["results"]) == 3 and search["pagination"]["next"]
    assert len(get_json(client, search["pagination"]["next"])["results"]) == 2  # 5 versions in all

    assert get_json(client, "/api/stories?page=99")["stories"] == []


def test_any_version_can_be_read_with_its_json_twin(client, archive):
    article_id = archive["a"]
    page = get_html(client, f"/articles/{article_id}")
    assert f'href="/articles/{article_id}/v/3"' in page and "Read the latest text (v3)" in page
    first = get_html(client, f"/articles/{article_id}/v/1")
    assert f"<h1>{HEADLINE_1}</h1>" in first and "<p>Members argued for hours.</p>" in first
    assert f'href="/articles/{article_id}/v/2"' in first  # on to the next version
    third = get_json(client, f"/api/articles/{article_id}/v/3")["version"]
    assert third["seq"] == 3 and third["latest_seq"] == 3 and third["headline"] == HEADLINE_2
    assert third["text"] == BODY.replace("for hours", "for six hours")
    assert third["paragraphs"][1] == "Members argued for six hours." and third["change_kinds"] == ["body"]
    assert len(third["captures"]) == 1
    # A one-version article reads too.
    only = get_html(client, f"/articles/{archive['paywalled']}/v/1")
    assert "Only the first paragraph." in only and "hard, incomplete" in only
    assert client.get(f"/articles/{article_id}/v/4").status_code == 404
    assert client.get(f"/api/articles/{article_id}/v/99999999999999999999").status_code == 404


def test_captures_are_listed_with_ids_outcomes_and_the_raw_page(client, archive, sessions, tmp_path):
    article_id = archive["a"]
    data = get_json(client, f"/api/articles/{article_id}")
    captures = data["captures"]
    assert [c["outcome"] for c in captures] == ["new_version"] * 3 and [c["version"] for c in captures] == [3, 2, 1]
    page = get_html(client, f"/articles/{article_id}")
    assert f'href="/captures/{captures[0]["capture_id"]}"' in page
    listed = get_json(client, f"/api/articles/{article_id}/captures?per_page=2")
    assert [c["capture_id"] for c in listed["captures"]] == [c["capture_id"] for c in captures[:2]]
    assert listed["pagination"]["total"] == 3
    one = get_json(client, f"/api/captures/{captures[2]['capture_id']}")["capture"]
    assert one["outcome"] == "new_version" and one["version"] == 1 and one["article_id"] == article_id
    assert "new_version" in get_html(client, f"/captures/{captures[2]['capture_id']}")
    # These test captures archived nothing: the raw page says so, as a 404.
    assert client.get(f"/captures/{captures[0]['capture_id']}/raw").status_code == 404
    assert client.get("/captures/99999/raw").status_code == 404


def test_the_raw_capture_is_served_as_inert_text(newsroom, cli, database_url):
    from palimpsest.newsroom.content import LEDGER_PATH

    cli.crawl(newsroom.url("ledger", LEDGER_PATH))
    app = create_app(database_url, str(cli.archive_dir))
    try:
        response = app.test_client().get("/captures/1/raw")
    finally:
        app.extensions[EXTENSION].engine.dispose()
    assert response.status_code == 200
    assert response.headers["Content-Type"] == "text/plain; charset=utf-8"
    assert response.headers["Content-Security-Policy"].startswith("default-src 'none'; sandbox")
    assert b"<title>Harbor City to Sell Its Water Utility" in response.data


def test_the_index_lists_recent_articles_and_outlets_without_any_story(sessions, database_url):
    with sessions() as session, session.begin():
        for n in range(3):
            ingest(session, f"https://solo.example/{n}", "solo.example", "Solo News",
                   extracted(BODY, f"Headline {n}"), at=T0 + timedelta(minutes=n))  # fmt: skip
    app = create_app(database_url)
    try:
        client = app.test_client()
        page = get_html(client, "/")
        assert "No stories yet" in page and "Headline 2" in page and "Solo News" in page
        data = get_json(client, "/api/stories")
        assert [a["headline"] for a in data["recent_articles"]] == ["Headline 2", "Headline 1", "Headline 0"]
        assert data["outlets"] == [
            {"outlet": "solo.example", "outlet_name": "Solo News", "articles": 3,
             "last_change": (T0 + timedelta(minutes=2)).isoformat()}
        ]  # fmt: skip
        listed = get_json(client, "/api/articles?outlet=solo.example&per_page=2")
        assert len(listed["articles"]) == 2 and listed["pagination"]["next"]
        assert get_json(client, "/api/articles?outlet=other.example")["articles"] == []
        assert "Solo News" in get_html(client, "/outlets")
    finally:
        app.extensions[EXTENSION].engine.dispose()


def test_gone_articles_keep_their_last_headline_and_say_since_when(sessions, database_url):
    gone_at = T0 + timedelta(days=2)
    with sessions() as session, session.begin():
        article_id = ingest(session, "https://g.example/a", "g.example", "G", extracted(BODY, "Still here"), at=T0,
                            story="council")  # fmt: skip
        fetch = FetchRecord(requested_url="https://g.example/a", canonical_url="https://g.example/a",
                            outlet_domain="g.example", fetched_at=gone_at, http_status=404)  # fmt: skip
        assert ingest_capture(session, fetch, None, now=gone_at).outcome == "gone"
    app = create_app(database_url)
    try:
        client = app.test_client()
        story = get_html(client, "/stories/council")
        assert "Still here" in story and "gone since" in story and "(no headline)" not in story
        article = get_json(client, f"/api/articles/{article_id}")["article"]
        assert article["state"] == "gone" and article["gone_since"] == gone_at.isoformat()
        assert article["headline"] == "Still here"
        assert "gone since" in get_html(client, f"/articles/{article_id}")
    finally:
        app.extensions[EXTENSION].engine.dispose()


def test_the_story_page_lists_rejected_candidates_with_reasons(sessions, database_url, archive):
    from palimpsest.storage.models import Story, StoryCandidate

    with sessions() as session, session.begin():
        story = session.scalars(select(Story).where(Story.slug == "council")).one()
        for n, (decision, reason) in enumerate(
            [("rejected", "similarity 0.03 < 0.15, no match term"), ("failed", "no article text after 3 attempts"),
             ("joined", "term: budget")]
        ):  # fmt: skip
            session.add(StoryCandidate(story_id=story.id, url=f"https://c.example/{n}", how="feed",
                                       discovered_at=T0, decided_at=T0 + timedelta(minutes=n),
                                       decision=decision, reason=reason, score=0.03))  # fmt: skip
    app = create_app(database_url)
    try:
        client = app.test_client()
        page = get_html(client, "/stories/council")
        assert "Turned down (2)" in page
        assert "similarity 0.03 &lt; 0.15, no match term" in page and "no article text after 3 attempts" in page
        assert "term: budget" not in page
        data = get_json(client, "/api/stories/council")
        assert {c["decision"] for c in data["turned_down"]} == {"rejected", "failed"}
        joined = get_json(client, "/api/stories/council/candidates?decision=joined")
        assert [c["reason"] for c in joined["candidates"]] == ["term: budget"]
        assert client.get("/api/stories/council/candidates?decision=maybe").status_code == 400
    finally:
        app.extensions[EXTENSION].engine.dispose()


# --- errors ---------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "path",
    [
        "/stories/no-such-story",
        "/api/stories/no-such-story",
        "/stories/no-such-story/changes.atom",
        "/articles/999999",
        "/api/articles/999999",
        "/articles/999999/diff",
        "/api/articles/99999999999999999999999/diff",
        "/articles/ARTICLE/diff?from=1&to=9",
        "/api/articles/ARTICLE/diff?from=7",
        "/articles/PAYWALLED/diff",  # one version: nothing to compare
        "/no/such/page",
    ],
)
def test_not_found(client, archive, path):
    path = path.replace("ARTICLE", str(archive["a"])).replace("PAYWALLED", str(archive["paywalled"]))
    response = client.get(path)
    assert response.status_code == 404
    if path.startswith("/api/"):
        assert response.get_json()["status"] == 404
    else:
        assert "404" in response.get_data(as_text=True)


@pytest.mark.parametrize(
    "path",
    [
        "/?page=0",
        "/?page=abc",
        "/api/stories?per_page=500",
        "/api/stories?per_page=0",
        "/stories/council?page=-1",
        "/api/articles/ARTICLE?page=1.5",
        "/articles/ARTICLE/diff?from=one",
        "/api/articles/ARTICLE/diff?to=0",
        "/api/search",
        "/api/search?q=" + "x" * 201,
        "/changes.atom?per_page=1000",
    ],
)
def test_bad_parameters(client, archive, path):
    response = client.get(path.replace("ARTICLE", str(archive["a"])))
    assert response.status_code == 400
    if path.startswith("/api/"):
        assert response.mimetype == "application/json" and response.get_json()["error"]


def test_query_keys_that_collide_with_url_parts_are_ignored(client):
    data = get_json(client, "/api/stories/council?slug=other&_external=1&_anchor=x")
    assert data["story"]["slug"] == "council"
    assert "slug=" not in get_html(client, "/stories/council?slug=other")


# --- Atom feeds -----------------------------------------------------------------------------------


def test_feeds_list_changes_headline_rewrites_first_class(client, archive):
    whole = feed(client, "/changes.atom")
    titles = entry_titles(whole)
    assert f"Headline changed: «{HEADLINE_1}» → «{HEADLINE_2}»" in titles
    assert f"Body changed: {HEADLINE_2}" in titles
    assert len(titles) == 3  # first versions are not changes
    updated = [e.findtext(f"{ATOM}updated") for e in whole.findall(f"{ATOM}entry")]
    assert updated == sorted(updated, reverse=True)
    headline_entry = next(e for e in whole.findall(f"{ATOM}entry") if HEADLINE_1 in e.findtext(f"{ATOM}title"))
    assert headline_entry.findtext(f"{ATOM}id").startswith("tag:palimpsest,")
    assert headline_entry.find(f"{ATOM}link[@rel='alternate']").get("href") == (
        f"http://localhost/articles/{archive['a']}/diff?from=1&to=2"
    )
    assert headline_entry.find(f"{ATOM}content").get("type") == "html"
    assert [c.get("term") for c in headline_entry.findall(f"{ATOM}category")] == ["headline"]

    story = feed(client, "/stories/council/changes.atom")
    assert f"Headline changed: «{HEADLINE_1}» → «{HEADLINE_2}»" in entry_titles(story)
    assert len(entry_titles(story)) == 2  # the xss story's change is not in it

    ids = [e.findtext(f"{ATOM}id") for e in whole.findall(f"{ATOM}entry")]
    assert ids == [e.findtext(f"{ATOM}id") for e in feed(client, "/changes.atom").findall(f"{ATOM}entry")]
    assert len(set(ids)) == len(ids)


def test_feed_pages_link_to_older_entries(client):
    first = feed(client, "/changes.atom?per_page=2")
    assert len(first.findall(f"{ATOM}entry")) == 2
    older = first.find(f"{ATOM}link[@rel='next']").get("href")
    assert older == "http://localhost/changes.atom?per_page=2&page=2"
    second = feed(client, older.removeprefix("http://localhost"))
    assert len(second.findall(f"{ATOM}entry")) == 1 and second.find(f"{ATOM}link[@rel='next']") is None
    assert second.find(f"{ATOM}link[@rel='previous']") is not None


# --- safety ---------------------------------------------------------------------------------------


def test_security_headers_on_every_response(client, archive):
    paths = [
        "/",
        "/stories/council",
        f"/articles/{archive['a']}",
        f"/articles/{archive['a']}/diff",
        "/search?q=x",
        "/api/stories",
        "/changes.atom",
        "/healthz",
        "/static/style.css",
        "/articles/999999",
        "/?page=x",
    ]
    for path in paths:
        with client.get(path) as response:
            headers = response.headers
        for name, value in SECURITY_HEADERS.items():
            assert headers.get(name) == value, (path, name)
        assert "script-src" not in headers["Content-Security-Policy"]
        assert "unsafe" not in headers["Content-Security-Policy"]


def test_hostile_markup_renders_inert_everywhere(client, archive):
    article_id = archive["xss"]
    pages = {
        "/": [SCRIPT_ESCAPED],  # the story title
        "/stories/xss": [SCRIPT_ESCAPED, "&lt;b&gt;Evil&lt;/b&gt; Gazette"],
        f"/articles/{article_id}": [SCRIPT_ESCAPED, IMG_ESCAPED],
        f"/articles/{article_id}/diff": [SCRIPT_ESCAPED, IMG_ESCAPED, "<ins>Added "],
        f"/articles/{article_id}/diff?from=1&to=1": [SCRIPT_ESCAPED, IMG_ESCAPED],
        "/search?q=script": [SCRIPT_ESCAPED],
    }
    for path, escaped in pages.items():
        page = get_html(client, path)
        for raw in (SCRIPT, IMG, "<b>Evil"):
            assert raw not in page, (path, raw)
        assert "<img" not in page and 'href="javascript:' not in page.lower(), path
        for fragment in escaped:
            assert fragment in page, (path, fragment)

    # JSON: the text as JSON strings, served as JSON (never sniffed as HTML).
    data = get_json(client, f"/api/articles/{article_id}")
    assert data["versions"][1]["headline"] == SCRIPT and data["versions"][1]["byline"] == IMG
    diff = get_json(client, f"/api/articles/{article_id}/diff")
    assert diff["fields"]["byline"]["new"] == IMG and SCRIPT in diff["fields"]["body"]["new"]
    assert get_json(client, "/api/search?q=script")["results"][0]["headline"].startswith(SCRIPT)
    assert get_json(client, "/api/stories/xss")["articles"][0]["outlet_name"] == "<b>Evil</b> Gazette"

    # Atom: escaped inside the XML; the HTML content escaped once more, so a reader shows text.
    for path in ("/changes.atom", "/stories/xss/changes.atom"):
        raw = client.get(path).get_data(as_text=True)
        assert "<script" not in raw and "<img" not in raw and "<b>" not in raw
        root = feed(client, path)
        entry = next(e for e in root.findall(f"{ATOM}entry") if SCRIPT in e.findtext(f"{ATOM}title"))
        assert entry.findtext(f"{ATOM}title") == f"Headline changed: «{SCRIPT}» → «{SCRIPT} council\ufffd update»"
        content = entry.findtext(f"{ATOM}content")
        assert SCRIPT_ESCAPED in content and IMG_ESCAPED in content
        assert "<script" not in content and "<img" not in content
        assert entry.findtext(f"{ATOM}author/{ATOM}name") == "<b>Evil</b> Gazette"  # text, escaped in XML


def test_the_app_cannot_write(app, archive):
    with app.app_context():
        session = db_session()
        with pytest.raises(DBAPIError):
            session.execute(text("UPDATE articles SET state = 'gone'"))
        session.rollback()
        with pytest.raises(DBAPIError):
            session.execute(text("CREATE TABLE intruder (a INTEGER)"))
        session.rollback()
        assert session.get(Article, archive["a"]).state == "active"


def test_read_only_sqlite_never_creates_a_database(tmp_path):
    from palimpsest.storage.db import DatabaseURLError

    missing = tmp_path / "nowhere" / "archive.db"
    with pytest.raises(DatabaseURLError, match="no database file"):
        create_app(f"sqlite:///{missing}")
    assert not missing.parent.exists()
    engine = make_engine(f"sqlite:///{tmp_path / 'odd ?#% name.db'}")  # a writable one, then read it back
    with engine.begin() as connection:
        connection.execute(text("CREATE TABLE t (a INTEGER)"))
    engine.dispose()
    reader = make_engine(f"sqlite:///{tmp_path / 'odd ?#% name.db'}", read_only=True)
    with reader.connect() as connection:
        assert connection.execute(text("SELECT count(*) FROM t")).scalar() == 0
    reader.dispose()


def test_loopback_detection():
    assert is_loopback("127.0.0.1") and is_loopback("::1") and is_loopback("[::1]") and is_loopback("localhost")
    assert not is_loopback("0.0.0.0") and not is_loopback("192.168.1.4") and not is_loopback("example.org")


# --- the command ----------------------------------------------------------------------------------


def one_line_error(result, fragment: str) -> None:
    assert result.returncode != 0
    lines = [line for line in result.stderr.splitlines() if line.strip()]
    assert len(lines) == 1 and lines[0].startswith("palimpsest: ") and fragment in lines[0], result.stderr


def test_serve_refuses_a_missing_or_foreign_database(cli, tmp_path):
    missing = tmp_path / "missing.db"
    one_line_error(cli("--db", f"sqlite:///{missing}", "serve", "--port", "0"), "no archive at")
    assert not missing.exists()
    empty = tmp_path / "empty.db"
    sqlite3.connect(empty).close()
    one_line_error(cli("--db", f"sqlite:///{empty}", "serve", "--port", "0"), "no archive at")


def test_serve_refuses_a_database_behind_the_schema(cli, sessions, database_url):
    with sessions() as session, session.begin():
        session.execute(text("UPDATE alembic_version SET version_num = '0003'"))
    one_line_error(cli("serve", "--port", "0"), "run palimpsest db upgrade")


# Loopback only: never through a proxy the environment may name.
LOCAL = urllib.request.build_opener(urllib.request.ProxyHandler({}))


def start_server(db: str, cwd: Path, *, wait: float = 15) -> tuple[subprocess.Popen, str]:
    """``palimpsest serve --port 0`` in a subprocess on ``db``; its base URL once /healthz answers."""
    process = subprocess.Popen(
        [sys.executable, "-m", "palimpsest", "--db", db, "serve", "--port", "0"],
        cwd=cwd,
        env=dict(os.environ, PYTHONWARNINGS="ignore"),
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        line = process.stdout.readline()  # printed once listening (or nothing, if it failed)
        match = re.search(r" at (http://\S+/) ", line)
        if not match:
            try:
                error = process.communicate(timeout=5)[1]
            except subprocess.TimeoutExpired:
                error = "(no error; still running)"
            raise AssertionError(f"serve did not start: {line!r} {error}")
        base = match.group(1)
        deadline = time.monotonic() + wait
        while True:
            try:
                with LOCAL.open(base + "healthz", timeout=2) as response:
                    if response.status == 200:
                        return process, base
            except OSError:
                if time.monotonic() > deadline:
                    raise
                time.sleep(0.1)
    except BaseException:
        stop_server(process)
        raise


def stop_server(process: subprocess.Popen) -> None:
    process.terminate()
    try:
        process.wait(timeout=10)
    except subprocess.TimeoutExpired:
        process.kill()
        process.wait()
    for stream in (process.stdout, process.stderr):
        if stream is not None:
            stream.close()


def test_serve_answers_over_http(archive, database_url, tmp_path):
    process, base = start_server(database_url, tmp_path)
    try:
        assert base.startswith("http://127.0.0.1:")
        with LOCAL.open(base + "api/stories/council", timeout=5) as response:
            assert response.headers["Content-Security-Policy"] == SECURITY_HEADERS["Content-Security-Policy"]
            assert json.load(response)["story"]["articles"] == 3
        with LOCAL.open(base + "changes.atom", timeout=5) as response:
            assert f"Headline changed: «{HEADLINE_1}» → «{HEADLINE_2}»" in entry_titles(ET.fromstring(response.read()))
    finally:
        stop_server(process)


@pytest.mark.slow
def test_the_demo_archive_in_the_web_view(cli, database_url, tmp_path):
    """The real demo (on this test's database), then its story, article, diff and feeds."""
    cli("demo", "--dir", str(tmp_path / "demo"), "--db", database_url, check=True)
    app = create_app(database_url)
    try:
        client = app.test_client()
        slug = get_json(client, "/api/stories")["stories"][0]["slug"]
        story = get_json(client, f"/api/stories/{slug}")
        ledger = next(a for a in story["articles"] if a["outlet_name"] == "The Harbor Ledger" and a["versions"] == 2)
        assert ledger["change_kinds"] == ["headline", "body"]
        old = "Harbor City to Sell Its Water Utility to a Private Operator"
        new = "Harbor City Council Approves $410 Million Sale of Water Utility Amid Protests"
        page = get_html(client, f"/articles/{ledger['article_id']}/diff")
        assert "<del>to Sell Its </del>" in page and "<ins>Council Approves $410 Million Sale of </ins>" in page
        for path in ("/changes.atom", f"/stories/{slug}/changes.atom"):
            assert f"Headline changed: «{old}» → «{new}»" in entry_titles(feed(client, path))
    finally:
        app.extensions[EXTENSION].engine.dispose()
