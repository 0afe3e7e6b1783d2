"""History from archives: ``palimpsest import`` of WARC/ARC files, ``reextract`` of what is
archived, and ``backfill`` from a Wayback CDX server (pywb on loopback).

The WARC files are written with warcio: one article captured on three days (a headline change
between the first two, the third identical), a revisit of the third, an image and a 404.
Commands run in-process (``palimpsest.cli.main``), so a test can swap in an older extractor.
"""

from __future__ import annotations

import json
from dataclasses import replace
from datetime import UTC, datetime
from pathlib import Path

import pytest
from sqlalchemy import select

from palimpsest import history_import
from palimpsest.cli import main
from palimpsest.crawler.extract import extract_article
from palimpsest.storage.models import Capture, Version
from tests.archive_pages import ARTICLE_URL, article_html, write_arc, write_warc
from tests.pywb_support import running_wayback

DAY1 = datetime(2026, 3, 1, 9, 0, tzinfo=UTC)
DAY2 = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)
DAY3 = datetime(2026, 3, 3, 9, 0, tzinfo=UTC)
DAY4 = datetime(2026, 3, 4, 9, 0, tzinfo=UTC)
FIRST = "Council Weighs Sale of Water Utility"
SECOND = "Council Votes to Sell Water Utility to Private Operator"
HTML = "text/html; charset=utf-8"
# pywb listens on loopback: allowed for backfill, and nothing else private.
LOOPBACK = ("-s", "PALIMPSEST_ALLOW_PRIVATE_ADDRESSES=127.0.0.0/8")
TRACKED_URL = ARTICLE_URL.replace("https://www.", "http://") + "?utm_source=newsletter"


def _records(*days: datetime) -> list:
    pages = {
        DAY1: ("response", ARTICLE_URL, DAY1, 200, HTML, article_html(FIRST)),
        DAY2: ("response", TRACKED_URL, DAY2, 200, HTML, article_html(SECOND)),
        DAY3: ("response", ARTICLE_URL, DAY3, 200, HTML, article_html(SECOND)),
        DAY4: ("revisit", ARTICLE_URL, DAY4, 200, HTML, article_html(SECOND)),
    }
    return [pages[day] for day in days]


NOISE = [
    ("response", "https://www.harbor-gazette.com/logo.png", DAY1, 200, "image/png", b"\x89PNG\r\n\x1a\n" + b"0" * 40),
    ("response", "https://www.harbor-gazette.com/news/gone", DAY2, 404, HTML, b"<html>not found</html>"),
]


@pytest.fixture
def run_cli(database_url, tmp_path, capsys):
    def run(*args: str, expect: int = 0) -> str:
        try:
            code = main(["--db", database_url, "--archive", str(tmp_path / "warc"), *args])
        except SystemExit as exc:  # argparse's usage errors
            code = exc.code
        out, err = capsys.readouterr()
        assert code == expect, f"exit {code}\n{out}\n{err}"
        return out + err

    return run


def _history(sessions) -> list[tuple]:
    with sessions() as session:
        versions = session.scalars(select(Version).order_by(Version.article_id, Version.seq)).all()
        return [(v.seq, v.headline, v.first_seen_at, v.last_seen_at, v.change_kinds) for v in versions]


EXPECTED = [
    (1, FIRST, DAY1, DAY1, []),
    (2, SECOND, DAY2, DAY4, ["headline"]),
]


def test_import_makes_versions_at_warc_dates_and_skips_what_is_not_an_article(
    run_cli, sessions, tmp_path, database_url
):
    warc = write_warc(tmp_path / "crawl.warc.gz", _records(DAY1, DAY2, DAY3, DAY4) + NOISE)
    out = run_cli("import", str(warc))
    assert _history(sessions) == EXPECTED
    assert "skipped, HTTP 404: 1" in out
    assert "skipped, not HTML (image/png): 1" in out
    assert "new_version v2 (headline)" in out
    with sessions() as session:
        captures = session.scalars(select(Capture).order_by(Capture.fetched_at)).all()
    assert [(c.fetched_at, c.outcome, c.origin) for c in captures] == [
        (DAY1, "new_version", "crawl.warc.gz"),
        (DAY2, "new_version", "crawl.warc.gz"),
        (DAY3, "unchanged", "crawl.warc.gz"),
        (DAY4, "unchanged", "crawl.warc.gz"),  # the revisit, read from its original record
    ]
    assert all(c.warc_file and c.warc_file.startswith("imported-") for c in captures)
    # The tracked http:// form is a variant of the same article.
    history = json.loads(run_cli("history", TRACKED_URL, "--json"))
    assert [v["origin"] for v in history["versions"]] == ["crawl.warc.gz", "crawl.warc.gz"]
    assert history["versions"][1]["changed_between"] == [DAY1.isoformat(), DAY2.isoformat()]
    text = run_cli("history", ARTICLE_URL)
    assert "from crawl.warc.gz" in text and "edited between 2026-03-01 09:00 UTC and 2026-03-02 09:00 UTC" in text
    details = json.loads(run_cli("capture", str(captures[1].id), "--json"))
    assert (details["origin"], details["fetched_at"]) == ("crawl.warc.gz", DAY2.isoformat())
    assert details["origin_url"].startswith("crawl.warc.gz#")
    # The web view says so too.
    page = _web_page(database_url, tmp_path, f"/articles/{captures[0].article_id}")
    assert "from the archive crawl.warc.gz: edited between" in page
    assert ">2026-03-01 09:00 UTC</time> and this capture" in page
    # The imported bytes are in the project's own archive.
    assert _raw(tmp_path, sessions, captures[0].id) == article_html(FIRST)

    again = run_cli("import", str(warc))
    assert "already imported: 4" in again
    assert _history(sessions) == EXPECTED
    with sessions() as session:
        assert len(session.scalars(select(Capture)).all()) == 4


def _web_page(database_url: str, tmp_path: Path, path: str) -> str:
    from palimpsest.web import create_app
    from palimpsest.web.state import EXTENSION

    app = create_app(database_url, str(tmp_path / "warc"))
    try:
        response = app.test_client().get(path)
    finally:
        app.extensions[EXTENSION].engine.dispose()
    assert response.status_code == 200, response.data[:300]
    return response.get_data(as_text=True)


def _raw(tmp_path: Path, sessions, capture_id: int) -> bytes:
    from palimpsest.captures import archived_payload

    with sessions() as session:
        return archived_payload(session, tmp_path / "warc", capture_id)


def test_older_file_after_newer_gives_the_same_history_and_the_cursor_misses_nothing(run_cli, sessions, tmp_path):
    newer = write_warc(tmp_path / "newer.warc", _records(DAY2, DAY3, DAY4), gzip=False)
    older = write_warc(tmp_path / "older.warc.gz", _records(DAY1))
    run_cli("import", str(newer))
    assert [(seq, headline) for seq, headline, *_ in _history(sessions)] == [(1, SECOND)]
    run_cli("export", "--out", str(tmp_path / "a.jsonl"))
    cursor = (tmp_path / "a.jsonl.cursor").read_text().strip()
    run_cli("import", str(older))
    assert _history(sessions) == EXPECTED
    run_cli("export", "--since", cursor, "--out", str(tmp_path / "b.jsonl"))
    delivered = [
        json.loads(line) for name in ("a", "b") for line in (tmp_path / f"{name}.jsonl").read_text().splitlines()
    ]
    # Every version exactly once across the two exports: the one inserted before comes next.
    assert sorted(row["headline"] for row in delivered) == sorted([FIRST, SECOND])
    full = [json.loads(line) for line in run_cli("export").splitlines() if line.startswith("{")]
    assert [(row["seq"], row["headline"], row["change_kinds"]) for row in full] == [
        (2, SECOND, ["headline"]),  # ordered by version id: the older version arrived later
        (1, FIRST, []),
    ]


def test_a_revisit_is_resolved_to_its_original_in_another_file(run_cli, sessions, tmp_path):
    shared: dict = {}
    first = write_warc(tmp_path / "day1-3.warc.gz", _records(DAY1, DAY2, DAY3), originals=shared)
    later = write_warc(tmp_path / "day4.warc.gz", _records(DAY4), originals=shared)
    assert "revisit of a record" in run_cli("import", str(later))  # alone, its original is missing
    run_cli("import", str(first), str(later))
    assert _history(sessions) == EXPECTED


def test_a_capture_between_two_sightings_of_one_text_splits_it(run_cli, sessions, tmp_path):
    """A seen on days 1 and 3, B on day 2 (imported last): the history is A, B, A."""
    first = write_warc(
        tmp_path / "a.warc.gz",
        [
            ("response", ARTICLE_URL, DAY1, 200, HTML, article_html(FIRST)),
            ("response", ARTICLE_URL, DAY3, 200, HTML, article_html(FIRST)),
        ],
    )
    second = write_warc(tmp_path / "b.warc.gz", [("response", ARTICLE_URL, DAY2, 200, HTML, article_html(SECOND))])
    run_cli("import", str(first))
    run_cli("import", str(second))
    assert _history(sessions) == [
        (1, FIRST, DAY1, DAY1, []),
        (2, SECOND, DAY2, DAY2, ["headline"]),
        (3, FIRST, DAY3, DAY3, ["headline"]),
    ]
    with sessions() as session:
        seq_of = {v.id: v.seq for v in session.scalars(select(Version))}
        captures = session.scalars(select(Capture).order_by(Capture.fetched_at)).all()
        assert [seq_of[c.version_id] for c in captures] == [1, 2, 3]


def test_backfill_usage_mistakes_are_one_line_and_create_nothing(run_cli, tmp_path, database_url):
    out = run_cli("backfill", ARTICLE_URL, "--cdx", "ftp://archive.example/cdx", expect=2)
    assert out.strip() == "palimpsest: --cdx: expected an http:// or https:// URL, got 'ftp://archive.example/cdx'"
    assert "expected a date" in run_cli("backfill", ARTICLE_URL, "--from", "yesterday", expect=2)
    bad = run_cli("backfill", ARTICLE_URL, "-s", "PALIMPSEST_BACKFILL_DELAY=-1", expect=2)
    assert bad.strip().startswith("palimpsest: bad setting: PALIMPSEST_BACKFILL_DELAY")
    if database_url.startswith("sqlite"):
        assert not Path(database_url.removeprefix("sqlite:///")).exists()


def test_an_unreadable_file_is_named_and_the_others_are_imported(run_cli, sessions, tmp_path):
    junk = tmp_path / "junk.warc.gz"
    junk.write_bytes(b"this is not a WARC file at all\n" * 4)
    good = write_warc(tmp_path / "good.warc.gz", _records(DAY1))
    out = run_cli("import", str(junk), str(good), expect=1)
    assert "cannot read" in out and "junk.warc.gz" in out
    assert [h for _seq, h, *_ in _history(sessions)] == [FIRST]
    assert "no such file" in run_cli("import", str(tmp_path / "missing.warc"), expect=2)


def test_arc_files_import_like_warc_files(run_cli, sessions, tmp_path):
    arc = write_arc(
        tmp_path / "old-crawler.arc",
        [(ARTICLE_URL, DAY1, article_html(FIRST)), (ARTICLE_URL, DAY2, article_html(SECOND))],
    )
    out = run_cli("import", str(arc))
    assert [(seq, headline, first, kinds) for seq, headline, first, _last, kinds in _history(sessions)] == [
        (1, FIRST, DAY1, []),
        (2, SECOND, DAY2, ["headline"]),
    ]
    assert "already imported: 2" in run_cli("import", str(arc)), out


PROMPT = "Subscribe now to keep reading: you have 2 free articles left this month."


def _older_extractor(url, body, headers=None):
    """Extraction as an older palimpsest did it: subscription prompts left in the text."""
    extraction = extract_article(url, body, headers)
    prompts = [text for kind, text in extraction.removed if kind.startswith("prompt")]
    return replace(extraction, text="\n\n".join([extraction.text, *prompts]), extractor="palimpsest/1 (prompts kept)")


def test_reextract_records_extraction_versions_only_where_the_text_differs(
    run_cli, sessions, tmp_path, monkeypatch, database_url
):
    plain_url = ARTICLE_URL.replace("council-water-vote", "library-hours")
    plain = article_html("Library Extends Weekend Hours").replace(ARTICLE_URL.encode(), plain_url.encode())
    warc = write_warc(
        tmp_path / "old.warc.gz",
        [
            ("response", ARTICLE_URL, DAY1, 200, HTML, article_html(FIRST, prompt=PROMPT)),
            ("response", plain_url, DAY1, 200, HTML, plain),
        ],
    )
    with monkeypatch.context() as patch:
        patch.setattr(history_import, "extract_article", _older_extractor)
        run_cli("import", str(warc), "--story", "gazette")
    with sessions() as session:
        assert {v.extractor for v in session.scalars(select(Version))} == {"palimpsest/1 (prompts kept)"}

    dry = run_cli("reextract", "--dry-run")
    assert "2 article(s) made by an older extractor" in dry
    assert "1 would get a new version" in dry and "1 read the same" in dry
    assert ARTICLE_URL in dry and plain_url not in dry
    assert len(_history(sessions)) == 2  # nothing stored

    assert "0 article(s)" in run_cli("reextract", "--dry-run", "--outlet", "elsewhere.com")
    assert "0 article(s)" in run_cli("reextract", "--dry-run", "--since", "2026-03-02")
    assert "no story 'nope'" in run_cli("reextract", "--story", "nope", expect=1)
    out = run_cli("reextract", "--story", "gazette", "--outlet", "harbor-gazette.com")
    assert "1 got a new version" in out
    with sessions() as session:
        versions = session.scalars(select(Version).order_by(Version.article_id, Version.seq)).all()
        made = [(v.seq, v.change_kinds, v.extractor == extract_article.__globals__["EXTRACTOR"]) for v in versions]
        assert made == [(1, [], False), (2, ["extraction"], True), (1, [], False)]
        assert PROMPT in versions[0].text and PROMPT not in versions[1].text
    rows = [json.loads(line) for line in run_cli("export").splitlines() if line.startswith("{")]
    marked = {(row["url"], row["seq"]): row["change_kinds"] for row in rows}
    assert marked[(ARTICLE_URL, 2)] == ["extraction"]
    diff = run_cli("diff", ARTICLE_URL)  # diff shows what the new extractor reads differently
    assert "extraction" in diff and "Subscribe now" in diff
    # Not an edit by the outlet: the change feed leaves it out.
    assert "<entry>" not in _web_page(database_url, tmp_path, "/changes.atom")
    # A second run finds only the article whose text read the same (its version stays as made).
    assert "1 article(s) made by an older extractor" in (rerun := run_cli("reextract"))
    assert "0 got a new version" in rerun and "1 read the same" in rerun


@pytest.mark.slow
def test_backfill_from_pywb_reconstructs_the_history_and_resumes(run_cli, sessions, pywb, tmp_path):
    warc = write_warc(tmp_path / "site.warc.gz", _records(DAY1, DAY2, DAY3, DAY4) + NOISE)
    with running_wayback(pywb, tmp_path / "pywb", "gazette", [warc]) as base:
        backfill = ("backfill", ARTICLE_URL, "--cdx", f"{base}/cdx", "--delay", "0", *LOOPBACK)
        # A run stopped after the first day (--to), then the rest: the history is the same.
        first = run_cli(*backfill, "--to", "2026-03-01T23:00")
        assert [h for _seq, h, *_ in _history(sessions)] == [FIRST], first
        out = run_cli(*backfill)
        assert _history(sessions) == EXPECTED, out
        assert "new_version v2 (headline)" in out and "already imported: 1" in out
        # A line per capture, with its capture time.
        assert "2026-03-03 09:00:00  unchanged v2" in out
        with sessions() as session:
            captures = session.scalars(select(Capture).order_by(Capture.fetched_at)).all()
        assert [c.fetched_at for c in captures] == [DAY1, DAY2, DAY3, DAY4]
        assert {c.origin for c in captures} == {base.split("://", 1)[1]}
        assert captures[0].origin_url == f"{base}/20260301090000id_/{ARTICLE_URL}"

        again = run_cli(*backfill)
        assert "already imported: 4" in again and "(1 request(s))" in again  # the listing only
        assert _history(sessions) == EXPECTED


def test_older_captures_go_before_what_palimpsest_crawled_and_the_next_crawl_is_unchanged(
    run_cli, cli, newsroom, sessions, tmp_path
):
    from palimpsest.newsroom.content import LEDGER_PATH
    from tests.pywb_support import LOCAL

    url = newsroom.url("ledger", LEDGER_PATH)
    cli.crawl(url)
    served = LOCAL.open(url, timeout=30).read()
    headline = b"Harbor City to Sell Its Water Utility to a Private Operator"
    assert headline in served
    earlier = served.replace(headline, b"Harbor City Weighs Selling Its Water Utility")
    warc = write_warc(tmp_path / "before.warc.gz", [("response", url, DAY1, 200, HTML, earlier)])
    run_cli("import", str(warc))
    history = json.loads(run_cli("history", url, "--json"))
    assert [(v["seq"], v["origin"], v["change_kinds"]) for v in history["versions"]] == [
        (1, "before.warc.gz", []),
        (2, None, ["headline"]),
    ]
    assert history["versions"][0]["first_seen_at"] == DAY1.isoformat()
    # A full re-fetch: the same payload as the crawled (current) version, which the import
    # left as the article's last payload, so the page is not even extracted again.
    cli.crawl(url, "-s", "PALIMPSEST_CONDITIONAL_REQUESTS=False")
    with sessions() as session:
        outcomes = [c.outcome for c in session.scalars(select(Capture).order_by(Capture.id))]
    assert outcomes == ["new_version", "new_version", "unchanged"]


def test_an_older_capture_placed_first_moves_the_sentence_actions_with_the_versions(run_cli, sessions, tmp_path):
    from palimpsest.storage.models import SentenceAction
    from tests.archive_pages import BODY

    added = "The council will hold a second hearing on the sale in April."
    newer = write_warc(
        tmp_path / "newer.warc.gz",
        [
            ("response", ARTICLE_URL, DAY2, 200, HTML, article_html(FIRST)),
            ("response", ARTICLE_URL, DAY3, 200, HTML, article_html(FIRST, [*BODY, added])),
        ],
    )
    older = write_warc(
        tmp_path / "older.warc.gz", [("response", ARTICLE_URL, DAY1, 200, HTML, article_html(FIRST, BODY[:-1]))]
    )
    run_cli("import", str(newer))
    run_cli("import", str(older))  # a version before both: they become v2 and v3
    with sessions() as session:
        seq_of = {v.id: v.seq for v in session.scalars(select(Version))}
        actions = session.scalars(select(SentenceAction).order_by(SentenceAction.id)).all()
        found = sorted((seq_of[a.version_id], a.old_seq, a.new_seq, a.action, a.new_sentence) for a in actions)
    first, second = BODY[-1].split(". ", 1)
    assert found == [
        (2, 1, 2, "addition", first + "."),  # v2 is now told against the older capture placed before it
        (2, 1, 2, "addition", second),
        (3, 2, 3, "addition", added),
    ]
