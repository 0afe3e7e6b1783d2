"""The web view's absolute links come from its configuration, never from the Host header."""

from __future__ import annotations

import pytest

from palimpsest.storage.db import make_engine
from palimpsest.web import EXTENSION, build_app
from palimpsest.web.origin import check_public_url
from tests.test_web import ATOM, archive, feed  # noqa: F401 - the archive fixture

EVIL = "attacker.invalid"


@pytest.fixture
def public_app(archive, database_url):  # noqa: F811
    app = build_app(make_engine(database_url, read_only=True), public_url="https://news-archive.example/palimpsest/")
    app.config["TESTING"] = True
    yield app
    app.extensions[EXTENSION].engine.dispose()


def test_feed_links_name_the_configured_address_whatever_the_host_header(public_app, archive):  # noqa: F811
    client = public_app.test_client()
    response = client.get("/changes.atom", headers={"Host": EVIL, "X-Forwarded-Host": EVIL})
    assert response.status_code == 200
    body = response.get_data(as_text=True)
    assert EVIL not in body
    root = feed(client, "/changes.atom")
    links = [link.get("href") for link in root.iter(f"{ATOM}link") if link.get("rel") in ("self", "alternate")]
    assert links and all(href.startswith("https://news-archive.example/palimpsest/") for href in links), links
    assert f"https://news-archive.example/palimpsest/articles/{archive['a']}/diff?from=1&to=2" in links


def test_a_public_url_must_be_a_plain_http_address():
    assert check_public_url("https://archive.example.org/") is None
    assert check_public_url("archive.example.org") is not None
    assert check_public_url("https://user@archive.example.org/") is not None
    assert check_public_url("ftp://archive.example.org/") is not None
