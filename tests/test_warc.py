"""The raw archive: valid WARC files, exact bytes at the recorded offsets, revisits for repeats."""

from __future__ import annotations

import subprocess
import sys
import urllib.request
from pathlib import Path

from sqlalchemy import select
from warcio.archiveiterator import ArchiveIterator

from palimpsest.newsroom.content import COURIER_PATH, LEDGER_PATH
from palimpsest.storage.models import Capture, Version


def _records(archive_dir: Path) -> list[tuple[str, str | None]]:
    """(record type, WARC-Profile) of every record in every file, in file order."""
    records = []
    for path in sorted(archive_dir.glob("*.warc.gz")):
        with path.open("rb") as handle:
            for record in ArchiveIterator(handle):
                records.append((record.rec_type, record.rec_headers.get_header("WARC-Profile")))
    return records


def _warcio(*args: str) -> subprocess.CompletedProcess[str]:
    warcio = Path(sys.executable).with_name("warcio")
    return subprocess.run([str(warcio), *args], capture_output=True, text=True, timeout=60)


def test_warc_files_pass_warcio_check_and_index(newsroom, cli):
    cli.crawl(newsroom.url("ledger", LEDGER_PATH), newsroom.url("courier", COURIER_PATH))
    files = sorted(cli.archive_dir.glob("*.warc.gz"))
    assert files

    check = _warcio("check", "-v", *map(str, files))
    assert check.returncode == 0, check.stdout + check.stderr
    index = _warcio("index", *map(str, files))
    assert index.returncode == 0
    assert index.stdout.count('"warc-type": "response"') == 2
    assert index.stdout.count('"warc-type": "request"') == 2
    assert [kind for kind, _ in _records(cli.archive_dir)] == ["warcinfo", "response", "request", "response", "request"]


def test_capture_offsets_read_back_the_exact_archived_bytes(newsroom, cli, sessions):
    url = newsroom.url("ledger", LEDGER_PATH)
    served = urllib.request.urlopen(url).read()
    cli.crawl(url)
    with sessions() as session:
        capture = session.scalars(select(Capture)).one()
    assert capture.warc_file.endswith(".warc.gz") and capture.warc_length > 0

    raw = subprocess.run(
        [sys.executable, "-m", "palimpsest", "capture", str(capture.id), "--raw"],
        capture_output=True,
        env={"PALIMPSEST_DATABASE_URL": cli.database_url, "PALIMPSEST_ARCHIVE_DIR": str(cli.archive_dir), "PATH": ""},
        cwd=cli.cwd,
        timeout=60,
    )
    assert raw.returncode == 0, raw.stderr
    assert raw.stdout == served

    details = cli("capture", str(capture.id), check=True).stdout
    assert "new_version" in details and capture.warc_file in details


def test_recrawl_of_unchanged_pages_adds_revisit_records_only(newsroom, cli, sessions):
    urls = [newsroom.url("ledger", LEDGER_PATH), newsroom.url("courier", COURIER_PATH)]
    cli.crawl(*urls)
    first = _records(cli.archive_dir)

    cli.crawl(*urls, "-s", "PALIMPSEST_CONDITIONAL_REQUESTS=False")  # full 200 responses, same bytes

    added = [kind for kind, _ in _records(cli.archive_dir)[len(first) :] if kind != "warcinfo"]
    assert sorted(added) == ["revisit", "revisit"]
    with sessions() as session:
        revisits = session.scalars(select(Capture).where(Capture.outcome == "unchanged")).all()
    assert len(revisits) == 2
    # The revisit's capture still gives back the page, from the record it refers to.
    raw = cli("capture", str(revisits[0].id), "--raw", check=True).stdout
    assert "<html" in raw


def test_recrawl_answered_by_304_creates_not_modified_captures_and_no_versions(newsroom, cli, sessions):
    urls = [newsroom.url("ledger", LEDGER_PATH), newsroom.url("courier", COURIER_PATH)]
    cli.crawl(*urls)
    before = len(_records(cli.archive_dir))

    result = cli.crawl(*urls)

    assert "2 not modified (304)" in result.stdout
    conditional = [headers for _outlet, path, headers in newsroom.request_log if path in (LEDGER_PATH, COURIER_PATH)]
    assert all("if-none-match" in headers for headers in conditional[2:])
    with sessions() as session:
        outcomes = [c.outcome for c in session.scalars(select(Capture).order_by(Capture.id))]
        assert len(session.scalars(select(Version)).all()) == 2
    assert outcomes[2:] == ["not_modified", "not_modified"]
    added = _records(cli.archive_dir)[before:]
    assert [profile for kind, profile in added if kind == "revisit"] == [
        "http://netpreserve.org/warc/1.1/revisit/server-not-modified"
    ] * 2


def test_lean_mode_records_unchanged_rechecks_in_the_database_only(newsroom, cli, sessions):
    url = newsroom.url("courier", COURIER_PATH)
    cli.crawl(url)
    before = _records(cli.archive_dir)

    cli.crawl(url, "-s", "PALIMPSEST_CONDITIONAL_REQUESTS=False", "-s", "PALIMPSEST_WARC_UNCHANGED=none")
    cli.crawl(url, "-s", "PALIMPSEST_WARC_UNCHANGED=none")  # a 304

    assert [kind for kind, _ in _records(cli.archive_dir) if kind != "warcinfo"] == [
        kind for kind, _ in before if kind != "warcinfo"
    ]
    with sessions() as session:
        captures = session.scalars(select(Capture).order_by(Capture.id)).all()
    assert [(c.outcome, c.warc_file is None) for c in captures] == [
        ("new_version", False),
        ("unchanged", True),
        ("not_modified", True),
    ]
    # The page is still one command away, from the response the first capture archived.
    assert "<html" in cli("capture", str(captures[1].id), "--raw", check=True).stdout
