"""Revision intelligence through the newsroom: A/B-tested headlines become reverts and one A/B
test, a template change that hides the body is a suspect capture (not a version), sentence
actions are stored per version and exported as NewsEdits rows, and outlet health alerts."""

from __future__ import annotations

import hashlib
import json
import urllib.request
from contextlib import contextmanager
from datetime import UTC, datetime, timedelta

import pandas as pd
import pytest
from sqlalchemy import select

from palimpsest import Archive
from palimpsest.crawler.capture import extracted_version, fetch_record
from palimpsest.crawler.extract import extract_article
from palimpsest.crawler.items import FetchedPage
from palimpsest.newsroom.content import AB_HEADLINES, AB_TEST_PATH, COURIER_PATH, GAZETTE_PATH
from palimpsest.storage.ingest import ExtractedVersion, FetchRecord, StoryLink, ingest_capture
from palimpsest.storage.models import ABTest, Article, Capture, SentenceAction, Version
from palimpsest.storage.outlet_health import HealthThresholds, OutletHealth, alerts_for, measure_outlets
from palimpsest.storage.revisions import Decision, RevisionPolicy, TextFacts, ab_title, decide, detect_ab_test
from palimpsest.storage.sentence_actions import sentence_actions
from palimpsest.web import create_app
from palimpsest.web.state import EXTENSION

START = datetime.now(UTC).replace(microsecond=0) - timedelta(hours=10)  # health looks back from now


def check(newsroom, sessions, url: str, now: datetime, story: str | None = None) -> Capture:
    """One check of ``url`` as the crawler makes it (in process): fetch, extract unless the
    payload is the one the archive saw last, store."""
    with urllib.request.urlopen(url, timeout=10) as response:  # the loopback newsroom only
        body, status, headers = response.read(), response.status, dict(response.headers)
    digest = "sha1:" + hashlib.sha1(body).hexdigest()
    with sessions() as session, session.begin():
        known = session.scalar(select(Article).where(Article.canonical_url == url))
        previous = known.last_payload_digest if known is not None else None
        extraction = extract_article(url, body, headers) if digest != previous else None
        page = FetchedPage(
            requested_url=url, fetched_at=now, final_url=url, status=status, body=body, payload_digest=digest
        )
        page.plan["previous_digest"] = previous
        record = fetch_record(page, extraction)
        candidate = extracted_version(extraction) if extraction is not None else None
        link = StoryLink(story) if story else None
        result = ingest_capture(session, record, candidate, now=now, story=link)
        capture = session.get(Capture, result.capture_id)
        session.expunge(capture)
        return capture


@contextmanager
def web_client(database_url: str):
    """The web view's test client; its read-only engine disposed afterwards."""
    app = create_app(database_url)
    try:
        yield app.test_client()
    finally:
        app.extensions[EXTENSION].engine.dispose()


def test_alternating_headline_is_two_versions_reverts_and_one_ab_test(newsroom, sessions, cli):
    url = newsroom.url("courier", AB_TEST_PATH)
    outcomes = [check(newsroom, sessions, url, START + timedelta(hours=i), "pool").outcome for i in range(8)]

    assert outcomes == ["new_version", "new_version"] + ["revert"] * 6
    with sessions() as session:
        versions = session.scalars(select(Version).order_by(Version.seq)).all()
        reverts = session.scalars(select(Capture).where(Capture.outcome == "revert").order_by(Capture.id)).all()
        test = session.scalars(select(ABTest)).one()
        article = session.scalars(select(Article)).one()
    assert [v.headline for v in versions] == list(AB_HEADLINES)
    assert [c.version_id for c in reverts] == [versions[0].id, versions[1].id] * 3
    assert reverts[0].reason == "same text as version 1"
    assert article.current_seq == 2  # the 8th check saw headline B again
    assert [v["headline"] for v in test.variants] == list(AB_HEADLINES)
    assert test.reverts == 6

    history = json.loads(cli("history", url, "--json", check=True).stdout)
    assert history["ab_test"]["variants"] == [
        {"seq": 1, "headline": AB_HEADLINES[0]},
        {"seq": 2, "headline": AB_HEADLINES[1]},
    ]
    assert sum(1 for c in history["fetches"] if c["outcome"] == "revert") == 6

    title = f"Headline A/B test: «{AB_HEADLINES[0]}» / «{AB_HEADLINES[1]}»"
    with web_client(cli.database_url) as client:
        feed = client.get("/changes.atom").get_data(as_text=True)
        story_feed = client.get("/stories/pool/changes.atom").get_data(as_text=True)
        page = client.get(f"/articles/{article.id}").get_data(as_text=True)
    assert feed.count("<entry>") == 1 and title in feed
    assert story_feed.count("<entry>") == 1 and title in story_feed
    assert "Headline A/B test: «" in page and "6 reverts" in page
    assert "same text as version 1" in page  # the captures list says why
    assert title in cli("story", "show", "pool", check=True).stdout


def test_template_change_is_suspect_then_unchanged_when_fixed(newsroom, sessions, cli):
    url = newsroom.url("gazette", GAZETTE_PATH)
    assert check(newsroom, sessions, url, START).outcome == "new_version"

    newsroom.broken_outlets.add("gazette")
    suspect = check(newsroom, sessions, url, START + timedelta(hours=1))
    assert suspect.outcome == "suspect"
    assert "no paywall evidence" in suspect.reason and "second check" in suspect.reason

    health = cli("health", "--json")
    assert health.returncode == 3, health.stderr
    report = json.loads(health.stdout)
    gazette = next(o for o in report["outlets"] if o["domain"] == "127.0.0.3")
    assert gazette["suspect_share_week"] > 0
    assert any(alert["measure"] == "suspect" for alert in gazette["alerts"])

    fix = urllib.request.Request(newsroom.url("gazette", "/_newsroom/fix-template"), method="POST")
    with urllib.request.urlopen(fix, timeout=10) as response:  # as for a newsroom in another process
        assert json.load(response) == {"broken": []}
    fixed = check(newsroom, sessions, url, START + timedelta(hours=2))
    assert fixed.outcome == "unchanged"
    with sessions() as session:
        assert session.scalars(select(Version.seq)).all() == [1]
    assert cli("health").returncode == 0


def test_suspect_text_seen_twice_becomes_a_version(newsroom, sessions):
    url = newsroom.url("gazette", GAZETTE_PATH)
    check(newsroom, sessions, url, START)
    newsroom.broken_outlets.add("gazette")
    assert check(newsroom, sessions, url, START + timedelta(hours=1)).outcome == "suspect"
    confirmed = check(newsroom, sessions, url, START + timedelta(hours=2))
    assert confirmed.outcome == "new_version"
    assert confirmed.reason.startswith("confirmed by a second check")
    with sessions() as session:
        latest = session.scalars(select(Version).where(Version.seq == 2)).one()
    assert "extraction" in latest.change_kinds and "body" not in latest.change_kinds


def test_sentence_actions_on_newsroom_revisions_and_newsedits_export(newsroom, sessions, cli, tmp_path):
    url = newsroom.url("courier", COURIER_PATH)
    key = newsroom.key_for(url)
    check(newsroom, sessions, url, START)
    paragraphs = list(newsroom.articles[key].current.paragraphs)
    first, second = paragraphs[5].split(". ", 1)
    moved = f"{second} {first}."  # the same two sentences, the other way round
    added = "The utility's board will meet again on Thursday to approve the final contract."
    edited = paragraphs[0].replace("reported on Tuesday", "reported late on Tuesday", 1)
    newsroom.revise(key, paragraphs=(edited, *paragraphs[1:5], moved, added))
    check(newsroom, sessions, url, START + timedelta(hours=1))

    with sessions() as session:
        actions = session.scalars(select(SentenceAction).order_by(SentenceAction.id)).all()
    kinds = {a.action for a in actions}
    assert kinds == {"addition", "edit", "refactor"}
    assert next(a for a in actions if a.action == "addition").new_sentence == added
    edit = next(a for a in actions if a.action == "edit")
    assert {"op": "insert", "old": "", "new": "late"} in edit.word_diff

    for fmt in ("jsonl", "csv"):
        out = tmp_path / f"edits.{fmt}"
        cli("export", "--format", "newsedits" if fmt == "jsonl" else "newsedits-csv", "--out", str(out), check=True)
        frame = (
            pd.read_json(out, lines=True)
            if fmt == "jsonl"
            else pd.read_csv(out, encoding="utf-8-sig", keep_default_na=False)
        )
        assert sorted(frame["action"]) == sorted(a.action for a in actions)
        assert set(frame.columns) >= {"entry_id", "version_x", "version_y", "sentence_x", "sentence_y", "sent_idx_y"}
        assert set(frame["version_y"]) == {2}
        assert (frame["schema"] == "palimpsest.newsedits/1").all()

    with Archive.open(cli.database_url) as archive:
        batch = archive.sentence_actions()
        rows = list(batch)
        assert sorted(row["action"] for row in rows) == sorted(a.action for a in actions)
        assert list(archive.sentence_actions(since=batch.cursor)) == []


@pytest.mark.parametrize(
    ("text", "sentences"),
    [
        ('Mr. Smith left. "We will win." Then he ran!', ["Mr. Smith left.", '"We will win."', "Then he ran!"]),
        ("Am 3. Oktober kam z.B. Dr. Müller. Er schwieg.", ["Am 3. Oktober kam z.B. Dr. Müller.", "Er schwieg."]),
        ("M. Dupont est arrivé. «C'est fini.» Il part.", ["M. Dupont est arrivé.", "«C'est fini.»", "Il part."]),
        (
            "¿Qué pasa? La Sra. López dijo que no. J. R. Smith agreed.",
            ["¿Qué pasa?", "La Sra. López dijo que no.", "J. R. Smith agreed."],
        ),
        (
            "The U.S. economy grew 3.5 percent in 2024. Analysts were surprised.",
            ["The U.S. economy grew 3.5 percent in 2024.", "Analysts were surprised."],
        ),
    ],
)
def test_sentence_splitter(text, sentences):
    from palimpsest.storage.sentences import split_sentences

    assert split_sentences(text) == sentences


def test_web_health_page_lists_outlets(newsroom, sessions, cli):
    check(newsroom, sessions, newsroom.url("courier", COURIER_PATH), START)
    with web_client(cli.database_url) as client:
        page = client.get("/health")
        api = client.get("/api/health").get_json()
    assert page.status_code == 200
    assert "127.0.0.2" in page.get_data(as_text=True)
    courier = next(o for o in api["outlets"] if o["domain"] == "127.0.0.2")
    assert courier["captures_day"] == courier["captures_week"] == 1 and courier["alerts"] == []


# --- the pure decisions ----------------------------------------------------------------------
LONG = " ".join(f"word{i}" for i in range(100))


def _facts(text: str, headline: str = "H", paywall: bool = False) -> TextFacts:
    return TextFacts(
        hashlib.sha256(f"{headline}|{text}".encode()).hexdigest(), headline, text, len(text.split()), paywall
    )


def test_decide_reverts_before_suspecting_and_says_why():
    policy = RevisionPolicy()
    current, short = _facts(LONG), _facts("word1 word2 word3")
    assert decide(current, {short.content_hash: 1}, short, pending_suspect_hash=None, policy=policy) == Decision(
        "revert", "same text as version 1", revert_to_seq=1
    )
    suspect = decide(current, {}, short, pending_suspect_hash=None, policy=policy)
    assert suspect.outcome == "suspect"
    assert suspect.reason.startswith("text fell to 3 words from 100 (below 50%) with no paywall evidence")
    confirmed = decide(current, {}, short, pending_suspect_hash=short.content_hash, policy=policy)
    assert confirmed.outcome == "new_version" and confirmed.reason.startswith("confirmed by a second check")
    walled = _facts("word1 word2 word3", paywall=True)
    assert decide(current, {}, walled, pending_suspect_hash=None, policy=policy).outcome == "new_version"
    # The thresholds are settings: at 2% (and no overlap asked for) the same drop is an edit.
    lenient = RevisionPolicy(suspect_text_ratio=0.02, suspect_body_overlap=0.0)
    assert decide(current, {}, short, pending_suspect_hash=None, policy=lenient) == Decision("new_version")


def test_decide_a_different_main_block_under_the_same_headline():
    other = " ".join(f"other{i}" for i in range(100))
    policy = RevisionPolicy()
    decision = decide(_facts(LONG), {}, _facts(other), pending_suspect_hash=None, policy=policy)
    assert decision.outcome == "suspect" and "different main block" in decision.reason
    confirmed = decide(_facts(LONG), {}, _facts(other), pending_suspect_hash=_facts(other).content_hash, policy=policy)
    assert confirmed.extra_kinds == ("extraction",)
    # A new headline over a new text is a rewrite, not breakage.
    assert decide(_facts(LONG), {}, _facts(other, "New"), pending_suspect_hash=None, policy=policy).outcome == (
        "new_version"
    )


def test_ab_test_needs_two_reverts_within_the_window():
    policy = RevisionPolicy(ab_window=timedelta(hours=24))
    now = START
    assert detect_ab_test([(now, 1)], 2, now, policy) is None
    assert detect_ab_test([(now - timedelta(hours=30), 2), (now, 1)], 2, now, policy) is None
    found = detect_ab_test([(now - timedelta(hours=3), 2), (now, 1)], 2, now, policy)
    assert found is not None and found.variant_seqs == (1, 2) and found.reverts == 2
    assert ab_title(["A", "B", "A"]) == "Headline A/B test: «A» / «B»"


def test_health_alerts_say_which_measure_moved():
    health = OutletHealth("example.com", None, captures_week=10, median_words_week=200, median_words_before=800)
    health.paywalled_share_week, health.failures_in_a_row = 0.8, 3
    measures = [alert["measure"] for alert in alerts_for(health, HealthThresholds())]
    assert measures == ["length", "failures", "paywall"]
    assert alerts_for(OutletHealth("example.com", None, captures_week=10), HealthThresholds()) == []


def test_a_bad_threshold_setting_is_one_line(cli):
    result = cli("health", "-s", "PALIMPSEST_SUSPECT_TEXT_RATIO=2")
    assert result.returncode == 2
    assert result.stderr.strip().count("\n") == 0 and "PALIMPSEST_SUSPECT_TEXT_RATIO" in result.stderr


def test_a_wholesale_rewrite_pairs_within_a_window():
    old = "\n\n".join(f"Sentence number {i} says alpha beta." for i in range(600))
    new = "\n\n".join(f"Sentence number {i} says alpha gamma." for i in range(600))  # 360,000 pairs: windowed
    actions = sentence_actions(old, new)
    assert [a.action for a in actions] == ["edit"] * 600
    assert all(a.old_index == a.new_index for a in actions)


def test_version_export_marks_ab_variants_and_reverts(newsroom, sessions, cli, tmp_path):
    url = newsroom.url("courier", AB_TEST_PATH)
    for hour in range(4):
        check(newsroom, sessions, url, START + timedelta(hours=hour))
    out = tmp_path / "versions.csv"
    cli("export", "--format", "csv", "--out", str(out), check=True)
    frame = pd.read_csv(out, encoding="utf-8-sig", keep_default_na=False)
    assert (frame["schema"] == "palimpsest.export/2").all()
    assert list(frame["ab_test_variants"]) == ["1;2", "1;2"]
    assert list(frame["reverts_to"]) == [1, 1]


def test_the_crawler_records_reverts_and_confirms_a_suspect_text(newsroom, sessions, cli):
    """Through Scrapy, conditional requests and all: the A/B article reverts (with the A/B
    threshold from -s), and a broken template is suspect once, then confirmed as `extraction`."""
    ab_url, gazette_url = newsroom.url("courier", AB_TEST_PATH), newsroom.url("gazette", GAZETTE_PATH)
    results = []
    for step in range(3):
        if step == 1:
            newsroom.broken_outlets.add("gazette")
        results.append(cli.crawl("-s", "PALIMPSEST_AB_MIN_REVERTS=1", ab_url, gazette_url))
    assert "revert to v1" in results[2].stderr and "1 revert to an earlier version" in results[2].stdout
    assert "1 suspect (extraction broken?)" in results[1].stdout
    with sessions() as session:
        outcomes = {
            url: session.scalars(
                select(Capture.outcome).join(Article).where(Article.canonical_url == url).order_by(Capture.id)
            ).all()
            for url in (ab_url, gazette_url)
        }
        test = session.scalars(select(ABTest)).one()
        confirmed = session.scalars(select(Version).join(Article).where(Article.canonical_url == gazette_url)).all()
    assert outcomes[ab_url] == ["new_version", "new_version", "revert"]
    assert outcomes[gazette_url] == ["new_version", "suspect", "new_version"]
    assert [v["seq"] for v in test.variants] == [1, 2] and test.reverts == 1
    assert confirmed[-1].change_kinds == ["extraction"]


def _record(url: str, at: datetime, **extra) -> FetchRecord:
    return FetchRecord(
        requested_url=url, canonical_url=url, outlet_domain="example.org", fetched_at=at, http_status=200, **extra
    )


def _text(words: int, seed: str) -> ExtractedVersion:
    text = " ".join(f"{seed}{i}" for i in range(words))
    return ExtractedVersion(
        headline=seed, dek=None, byline=None, text=text, content_hash=seed, word_count=words, extractor="test"
    )


def test_health_measures_from_the_archive(sessions, cli):
    now = datetime.now(UTC)
    a, b = "https://example.org/a", "https://example.org/b"
    with sessions() as session, session.begin():
        ingest_capture(session, _record(a, now - timedelta(days=20)), _text(400, "long"), now=now - timedelta(days=20))
        yesterday = now - timedelta(hours=25)
        ingest_capture(session, _record(b, yesterday), _text(100, "short"), now=yesterday)
        for hours in (3, 2, 1):
            at = now - timedelta(hours=hours)
            ingest_capture(session, _record(a, at, outcome="error", error="HTTP 500"), None, now=at)
    with sessions() as session:
        (health,) = measure_outlets(session, now, domain="example.org")
    assert (health.captures_day, health.captures_week, health.errors_day, health.errors_week) == (3, 4, 3, 3)
    assert (health.median_words_week, health.median_words_before) == (100, 400)
    assert health.failures_in_a_row == 3
    assert health.last_success == now - timedelta(hours=25)
    assert [alert["measure"] for alert in health.alerts] == ["length", "failures"]
    # The alert thresholds are settings: the same archive, looser thresholds, no open alert.
    looser = ["-s", "PALIMPSEST_HEALTH_FAILURES_IN_A_ROW=4", "-s", "PALIMPSEST_HEALTH_LENGTH_RATIO=0.2"]
    strict, loose = cli("health", "--json"), cli("health", "--json", *looser)
    assert (strict.returncode, json.loads(strict.stdout)["alerts"]) == (3, 2)
    assert (loose.returncode, json.loads(loose.stdout)["alerts"]) == (0, 0)
