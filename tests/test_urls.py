"""URL identity: conservative normalisation, canonical choice, outlet domain."""

from __future__ import annotations

import pytest

from palimpsest.crawler.extract.urls import (
    BadURLError,
    canonical_url,
    cross_outlet_canonical,
    normalise_url,
    outlet_domain,
)


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("HTTP://News.Example.COM:80/a/b.html#comments", "http://news.example.com/a/b.html"),
        ("https://example.com:443", "https://example.com/"),
        ("https://example.com/a?utm_source=x&utm_medium=y&id=7&fbclid=z", "https://example.com/a?id=7"),
        ("https://example.com/a?gclid=1&mc_cid=2&_hsenc=3", "https://example.com/a"),
        ("https://example.com/a%20b", "https://example.com/a%20b"),
        ("https://example.com/a b", "https://example.com/a%20b"),
        ("http://127.0.0.2:8080/x/", "http://127.0.0.2:8080/x/"),
    ],
)
def test_normalise_url(raw, expected):
    assert normalise_url(raw) == expected


@pytest.mark.parametrize(
    "raw", ["", "example.com/a", "ftp://example.com/a", "javascript:alert(1)", "http://", "http://[::1"]
)
def test_bad_urls_are_refused(raw):
    with pytest.raises(BadURLError):
        normalise_url(raw)


def test_outlet_is_the_registered_domain():
    assert outlet_domain("https://www.nytimes.com/2018/06/05/x.html") == "nytimes.com"
    assert outlet_domain("https://news.bbc.co.uk/a") == "bbc.co.uk"
    assert outlet_domain("http://127.0.0.2:8123/a") == "127.0.0.2"
    assert outlet_domain("http://localhost:8000/a") == "localhost"


def test_canonical_link_on_the_same_outlet_names_the_article():
    final = "https://www.example.com/story?utm_source=rss"
    assert canonical_url(final, "https://example.com/story") == "https://example.com/story"
    assert canonical_url(final, None, "https://www.example.com/story/") == "https://www.example.com/story/"


def test_canonical_on_another_outlet_or_the_home_page_is_not_identity():
    final = "https://syndicator.example.net/copy"
    assert canonical_url(final, "https://original.example.org/story") == final
    assert cross_outlet_canonical(final, "https://original.example.org/story") == "https://original.example.org/story"
    assert canonical_url("https://example.com/story", "https://example.com/") == "https://example.com/story"
