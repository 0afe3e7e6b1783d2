"""Hostile pages from loopback (issue 20): each has a budget, the crawl goes on, and every
capture records what happened in plain words."""

from __future__ import annotations

import time

import pytest
from sqlalchemy import select

from palimpsest.storage.models import Capture, Version
from tests.conftest import LOCAL_CRAWL

LIMITS = ["-s", "PALIMPSEST_EXTRACT_TIME_LIMIT=1", "-s", "PALIMPSEST_EXTRACT_WORKERS=1"]


@pytest.fixture(scope="module")
def hostile_run(shared_archive):
    """One crawl: a page too slow to extract between two normal ones, and the odd-byte pages."""
    newsroom, cli, sessions = shared_archive.newsroom, shared_archive.cli, shared_archive.sessions
    cases = ["extract-slow", "nul-header", "utf8-as-utf16", "utf8-as-shift-jis", "deeply-nested", "huge-headline"]
    urls = {case: newsroom.url("courier", f"/faults/{case}") for case in cases}
    normal = newsroom.seed_url()
    started = time.monotonic()
    result = cli.crawl(urls["extract-slow"], normal, *[urls[case] for case in cases[1:]], *LIMITS)
    seconds = time.monotonic() - started
    with sessions() as session:
        captures = {c.requested_url: c for c in session.scalars(select(Capture))}
        versions = {v.id: v for v in session.scalars(select(Version))}
    return urls, normal, result, seconds, captures, versions


def test_a_page_over_its_time_budget_is_an_error_capture_and_the_crawl_goes_on(hostile_run):
    urls, normal, result, seconds, captures, _versions = hostile_run
    slow = captures[urls["extract-slow"]]
    assert (slow.outcome, slow.error) == ("error", "extraction took longer than 1 s")
    assert slow.warc_file  # the raw response is archived all the same
    assert captures[normal].outcome == "new_version"
    assert seconds < 60  # bounded: the extractor alone would take several seconds more per page
    assert "extraction took longer than 1 s" in result.stdout
    assert "Traceback" not in result.stdout + result.stderr


def test_a_nul_in_response_headers_is_stored_cleaned(hostile_run):
    """On PostgreSQL as on SQLite: the capture and its version are stored, NUL removed."""
    urls, _normal, _result, _seconds, captures, _versions = hostile_run
    capture = captures[urls["nul-header"]]
    assert capture.outcome == "new_version", capture.error
    assert capture.etag == '"abcdef"'
    assert capture.last_modified == "Mon, 30 Nov 2026 06:00:00 GMT"
    assert "\x00" not in (capture.content_type or "")


@pytest.mark.parametrize("case", ["utf8-as-utf16", "utf8-as-shift-jis"])
def test_a_charset_that_cannot_be_right_falls_back_to_utf8_with_a_note(hostile_run, case):
    urls, _normal, _result, _seconds, captures, versions = hostile_run
    capture = captures[urls[case]]
    assert capture.outcome == "new_version", capture.error
    version = versions[capture.version_id]
    assert version.headline == "Parking rules anger quay cafés"
    assert "Café owners" in version.text
    notes = [item.get("note", "") for item in version.paywall_evidence]
    assert any("decoded as utf-8" in note for note in notes), version.paywall_evidence


def test_a_page_nested_deeper_than_the_parser_keeps_still_gives_its_text(hostile_run):
    urls, _normal, _result, _seconds, captures, versions = hostile_run
    capture = captures[urls["deeply-nested"]]
    assert capture.outcome == "new_version", capture.error
    assert "Café owners on Quay Street" in versions[capture.version_id].text


def test_a_huge_headline_is_cut_with_a_note(hostile_run):
    urls, _normal, _result, _seconds, captures, versions = hostile_run
    capture = captures[urls["huge-headline"]]
    assert capture.outcome == "new_version", capture.error
    version = versions[capture.version_id]
    assert len(version.headline) == 1000 and version.headline.startswith("harbour0 harbour1 ")
    assert version.headline.endswith("…")
    notes = [item["note"] for item in version.paywall_evidence if item.get("kind") == "note"]
    assert any(note.startswith("headline cut to 1000 characters (it had ") for note in notes), notes


def test_an_overlong_url_is_recorded_as_refused_with_a_reason(newsroom, cli, sessions):
    url = newsroom.url("courier", "/news/" + "a" * 2100)
    result = cli("crawl", *LOCAL_CRAWL, url)
    assert result.returncode == 1  # every fetch refused: documented exit 1
    with sessions() as session:
        capture = session.scalars(select(Capture)).one()
    assert capture.outcome == "refused"
    assert capture.error.startswith("URL longer than 2083 characters (")
    assert "Traceback" not in result.stderr


def test_a_twisted_failure_inside_an_error_is_told_in_plain_words():
    from twisted.internet.error import ConnectionLost
    from twisted.python.failure import Failure
    from twisted.web._newclient import RequestGenerationFailed

    from palimpsest.crawler.spiders.article import describe_failure

    try:
        raise ConnectionLost("peer went away")
    except ConnectionLost:
        inner = Failure()
    outcome, reason = describe_failure(Failure(RequestGenerationFailed([inner])))
    assert outcome == "error"
    assert reason == (
        "RequestGenerationFailed: ConnectionLost: Connection to the other side was lost"
        " in a non-clean fashion: peer went away."
    )
    assert "<" not in reason


def test_a_page_over_its_memory_budget_is_an_error_capture_and_the_crawl_goes_on(newsroom, cli, sessions):
    """The same span-heavy page under a 48 MB budget and a generous time limit: its tree
    does not fit, the worker is replaced, and the normal page after it is stored."""
    hostile, normal = newsroom.url("courier", "/faults/extract-slow"), newsroom.seed_url()
    budget = ["-s", "PALIMPSEST_EXTRACT_MEMORY_MB=48", "-s", "PALIMPSEST_EXTRACT_TIME_LIMIT=120"]
    result = cli.crawl(hostile, normal, *budget, "-s", "PALIMPSEST_EXTRACT_WORKERS=1")
    with sessions() as session:
        captures = {c.requested_url: c for c in session.scalars(select(Capture))}
    assert (captures[hostile].outcome, captures[hostile].error) == (
        "error",
        "extraction needed more than 48 MB",
    )
    assert captures[normal].outcome == "new_version"
    assert "Traceback" not in result.stdout + result.stderr
