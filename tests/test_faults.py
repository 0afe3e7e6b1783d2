"""The fault matrix, through real HTTP against the newsroom: the crawl goes on, every capture
records what happened in plain words, and no half-written version exists."""

from __future__ import annotations

import time

import pytest
from sqlalchemy import select

from palimpsest.storage.models import Article, Capture, Version

# case -> (outcome, words the error must contain; None for a stored version)
MATRIX = {
    "gone-404": ("gone", "HTTP 404"),
    "gone-410": ("gone", "HTTP 410"),
    "error-500": ("error", "HTTP 500 Internal Server Error (still failing after 2 retries)"),
    "error-502": ("error", "HTTP 502 Bad Gateway (still failing after 2 retries)"),
    "error-503": ("error", "HTTP 503 Service Unavailable (still failing after 2 retries)"),
    "rate-limited-long": ("error", "HTTP 429 Too Many Requests (asked to wait 3600s"),
    "slow": ("error", "timed out after 2s"),
    "reset": ("error", "connection lost mid-response"),
    "loop-a": ("error", "redirect loop"),
    "document.pdf": ("error", "not an HTML page: application/pdf"),
    "pdf-as-html": ("error", "not an HTML page: a PDF document"),
    "photo": ("error", "not an HTML page: image/png"),
    "huge": ("error", "response larger than the size cap; not loaded"),
    "gzip-bomb": ("error", "too large once decompressed"),
    "empty": ("error", "empty response (HTTP 200 with no content)"),
    "cp1252-as-utf8": ("new_version", None),
    "no-charset": ("new_version", None),
    "malformed": ("new_version", None),
    "truncated": ("new_version", None),
    "offsite": ("new_version", None),
    "meta-refresh": ("new_version", None),
}
FAST_FAIL = ["-s", "DOWNLOAD_TIMEOUT=2"]


@pytest.fixture(scope="module")
def matrix_run(shared_archive):
    """One crawl of every case (and a robots.txt-disallowed page), shared by the tests below."""
    newsroom, cli, sessions = shared_archive.newsroom, shared_archive.cli, shared_archive.sessions
    urls = {case: newsroom.url("courier", f"/faults/{case}") for case in MATRIX}
    urls["robots"] = newsroom.url("ledger", "/private/unpublished-draft.html")
    result = cli.crawl(*urls.values(), *FAST_FAIL)
    with sessions() as session:
        captures = {c.requested_url: c for c in session.scalars(select(Capture))}
        versions = session.scalars(select(Version)).all()
    return urls, result, captures, versions


def test_every_fault_is_a_capture_with_its_outcome_and_reason(matrix_run):
    urls, result, captures, _versions = matrix_run
    assert len(captures) == len(urls)  # the crawl went on through every case
    for case, (outcome, words) in MATRIX.items():
        capture = captures[urls[case]]
        assert capture.outcome == outcome, (case, capture.outcome, capture.error)
        if words:
            assert words in capture.error, (case, capture.error)
            assert capture.version_id is None
        else:
            assert capture.version_id is not None and capture.error is None
    robots = captures[urls["robots"]]
    assert (robots.outcome, robots.error, robots.http_status) == ("refused", "disallowed by robots.txt", None)
    # The summary says it in plain words, and no Python exception names leak into it.
    assert f"Fetched {len(urls)} pages" in result.stdout
    for words in ("HTTP 410", "redirect loop", "timed out after 2s", "not an HTML page: application/pdf"):
        assert words in result.stdout
    assert "Error:" not in result.stdout and "Traceback" not in result.stdout + result.stderr
    assert "internal error" not in result.stdout


def test_no_half_written_version(matrix_run):
    _urls, _result, captures, versions = matrix_run
    by_version = {c.version_id for c in captures.values() if c.version_id}
    assert {v.id for v in versions} == by_version
    assert all(v.text and v.word_count > 0 for v in versions)


def test_charsets_are_decoded_right(matrix_run, shared_archive):
    urls, _result, captures, _versions = matrix_run
    with shared_archive.sessions() as session:
        for case in ("cp1252-as-utf8", "no-charset"):
            version = session.get(Version, captures[urls[case]].version_id)
            assert "Café owners on Quay Street" in version.text
            assert "“naïve”" in version.text
            assert "\ufffd" not in version.text


def test_redirect_to_another_host_names_the_final_article(matrix_run, shared_archive):
    urls, _result, captures, _versions = matrix_run
    with shared_archive.sessions() as session:
        article = session.get(Article, captures[urls["offsite"]].article_id)
    newsroom = shared_archive.newsroom
    assert article.canonical_url == newsroom.article_url(newsroom.story_keys[1])


def test_a_meta_refresh_is_followed_to_the_article(matrix_run, shared_archive):
    urls, _result, captures, _versions = matrix_run
    capture = captures[urls["meta-refresh"]]
    with shared_archive.sessions() as session:
        article = session.get(Article, capture.article_id)
    newsroom = shared_archive.newsroom
    assert article.canonical_url == newsroom.article_url(newsroom.story_keys[-1])
    assert capture.final_url == article.canonical_url


def test_gone_articles_are_retired_from_the_schedule(matrix_run, shared_archive):
    urls, _result, captures, _versions = matrix_run
    with shared_archive.sessions() as session:
        for case in ("gone-404", "gone-410"):
            article = session.get(Article, captures[urls[case]].article_id)
            assert article.state == "gone" and article.next_check_at is None


def test_server_errors_are_retried_before_they_are_recorded(matrix_run, shared_archive):
    hits = [path for _outlet, path, _headers in shared_archive.newsroom.request_log if path == "/faults/error-503"]
    assert len(hits) == 3  # the request and two retries


def test_long_retry_after_moves_the_next_check(matrix_run, shared_archive):
    urls, _result, captures, _versions = matrix_run
    capture = captures[urls["rate-limited-long"]]
    with shared_archive.sessions() as session:
        article = session.get(Article, capture.article_id)
    assert (article.next_check_at - capture.fetched_at).total_seconds() >= 3600


def test_short_retry_after_is_waited_for_then_retried(newsroom, cli, sessions):
    url = newsroom.url("courier", "/faults/rate-limited")
    started = time.monotonic()
    result = cli.crawl(url)
    elapsed = time.monotonic() - started

    assert "1 new version" in result.stdout
    hits = [headers for _outlet, path, headers in newsroom.request_log if path == "/faults/rate-limited"]
    assert len(hits) == 2 and elapsed >= 1.0  # 429 with Retry-After: 1, then the page


def test_address_guard_refuses_a_redirect_hop_to_a_disallowed_address(newsroom, cli, sessions):
    # 127.0.0.2 is allowed; the redirect's next hop, 127.0.0.1, is not: refused, never contacted.
    start = newsroom.url("courier", "/faults/to-ledger")
    result = cli("crawl", "-s", "PALIMPSEST_ALLOW_PRIVATE_ADDRESSES=127.0.0.2/32", "-s", "DOWNLOAD_DELAY=0", start)

    assert result.returncode == 1  # its only page was refused
    assert "refused: 127.0.0.1 is a loopback address" in result.stdout
    assert not [path for outlet, path, _headers in newsroom.request_log if outlet == "ledger"]
    with sessions() as session:
        capture = session.scalars(select(Capture)).one()
    assert capture.outcome == "refused" and capture.version_id is None


def test_address_guard_on_by_default_sends_nothing_to_loopback(newsroom, cli):
    result = cli("crawl", "-s", "PALIMPSEST_ALLOW_PRIVATE_ADDRESSES=", newsroom.seed_url())
    assert "refused: 127.0.0.1 is a loopback address" in result.stdout
    assert list(newsroom.request_log) == []  # not even robots.txt
