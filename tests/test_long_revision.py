"""A revision of a very long single-paragraph article (issue 20): stored within seconds, its
change kinds computed before the write transaction, while another writer keeps storing."""

from __future__ import annotations

import hashlib
import random
import sqlite3
import subprocess
import sys
import time
from dataclasses import replace
from datetime import timedelta
from pathlib import Path

from sqlalchemy import make_url, select

from palimpsest.crawler.pipelines import StorePipeline, _Work
from palimpsest.storage import ingest
from palimpsest.storage.db import make_engine, make_session_factory
from palimpsest.storage.ingest import CaptureJob, ExtractedVersion, ingest_capture
from palimpsest.storage.models import Capture, Version
from tests.test_store_batch import NOW, _fetch, _version

WORDS = 200_000


def _long_version(text: str) -> ExtractedVersion:
    return replace(_version(0, ""), text=text, content_hash=hashlib.sha256(text.encode()).hexdigest(),
                   word_count=WORDS)  # fmt: skip


def _long_paragraph(seed: int, edits: int = 0) -> str:
    rng = random.Random(0)
    vocabulary = ["".join(rng.choices("abcdefghijklmnopqrstuvwxyz", k=rng.randint(2, 9))) for _ in range(3000)]
    vocabulary += ["the", "of", "and", "to", "a", "said"] * 40
    words = [rng.choice(vocabulary) for _ in range(WORDS)]
    for position in range(11, WORDS, 12):
        words[position] += "."
    edit = random.Random(seed)
    for _ in range(edits):
        words[edit.randrange(WORDS)] = "amended"
    return " ".join(words)


SECOND_CRAWL = """
import sys, time
from pathlib import Path
from palimpsest.storage import ingest
from palimpsest.storage.db import make_engine, make_session_factory
from palimpsest.storage.ingest import ingest_capture
from tests.test_store_batch import NOW, _fetch, _version

sessions = make_session_factory(make_engine(sys.argv[1]))
stop = Path(sys.argv[2])
print("ready", flush=True)
for number in range(100, 2100):  # bounded
    if stop.exists():
        break
    started = time.monotonic()
    try:
        with sessions() as session, session.begin():
            ingest_capture(session, _fetch(number, f"d{number}"), _version(number, "short"), now=NOW)
        print(f"stored {time.monotonic() - started:.3f}", flush=True)
    except Exception as exc:
        print(f"failed {str(exc).splitlines()[0]}", flush=True)
    time.sleep(0.02)
"""


def test_a_long_paragraph_revision_is_stored_while_another_writer_keeps_storing(
    sessions, database_url, tmp_path, monkeypatch
):
    old_text, new_text = _long_paragraph(0), _long_paragraph(1, edits=40)
    with sessions() as session, session.begin():
        article_id = ingest_capture(session, _fetch(0, "d0"), _long_version(old_text), now=NOW).article_id

    write_lock_free: list[bool] = []
    if database_url.startswith("sqlite"):  # while classifying ahead, another writer could write
        original = ingest.classify_changes

        def classify(old, new):
            # Waits out the second writer's short transactions (it keeps storing); a write
            # lock held by this pipeline while it classifies would outlast the wait.
            probe = sqlite3.connect(make_url(database_url).database, timeout=2)
            try:
                probe.execute("BEGIN IMMEDIATE")
                probe.rollback()
                write_lock_free.append(True)
            except sqlite3.OperationalError:
                write_lock_free.append(False)
            finally:
                probe.close()
            return original(old, new)

        monkeypatch.setattr(ingest, "classify_changes", classify)

    later = NOW + timedelta(hours=1)
    engine = make_engine(database_url)
    pipeline = StorePipeline(make_session_factory(engine), retry_seconds=5)
    stop = tmp_path / "stop"
    second = subprocess.Popen(  # a second crawl's writer, on the same database
        [sys.executable, "-c", SECOND_CRAWL, database_url, str(stop)],
        cwd=Path(__file__).resolve().parent.parent, stdout=subprocess.PIPE, text=True,
    )  # fmt: skip
    try:
        assert second.stdout.readline().strip() == "ready"
        time.sleep(0.3)
        started = time.monotonic()
        work = _Work(CaptureJob(_fetch(0, "d0-new", known_article_id=article_id, fetched_at=later),
                                _long_version(new_text), later))  # fmt: skip
        classified = pipeline._classify_ahead([work])
        stored = pipeline._store_batch([work], classified)
        seconds = time.monotonic() - started
        time.sleep(0.3)
    finally:
        stop.touch()
        output, _ = second.communicate(timeout=60)
        pipeline.close()
        engine.dispose()

    result, _discovered = stored[0]
    assert result.outcome == "new_version" and result.version_seq == 2
    assert classified  # the diff was done before the write transaction opened
    if database_url.startswith("sqlite"):
        assert write_lock_free == [True]  # ...and without the database's write lock
    assert seconds < 30, seconds  # was many minutes (a quadratic word diff) before chunking
    with sessions() as session:
        version = session.scalar(select(Version).where(Version.article_id == article_id, Version.seq == 2))
        assert version.change_kinds == ["lede"]
        assert 0.99 < version.similarity < 1.0
        stored_by_other = session.scalars(select(Capture).where(Capture.article_id != article_id)).all()
    lines = output.splitlines()
    assert not [line for line in lines if line.startswith("failed")], output
    durations = [float(line.split()[1]) for line in lines if line.startswith("stored")]
    assert len(stored_by_other) == len(durations) > 3
    assert max(durations) < 5, durations  # never waited on the long diff
