"""A WARC folder that fails is loud (issue 20): the crawl stops, the exit code says so, one
line names the folder, and every page fetched has its capture row."""

from __future__ import annotations

import os
import shlex
import shutil
import subprocess
import sys

import pytest
from sqlalchemy import select

from palimpsest.storage.models import Capture
from tests.conftest import LOCAL_CRAWL, LOOPBACK_ONLY


def test_an_archive_folder_that_fails_mid_crawl_stops_it_loudly(newsroom, cli, sessions):
    archive = cli.archive_dir

    def folder_fails() -> None:  # a file in the way of the folder: fails for root too
        shutil.rmtree(archive, ignore_errors=True)
        archive.write_text("not a folder")

    newsroom.hooks["archive-trap"] = folder_fails
    first = newsroom.seed_url()
    cli.crawl(first)  # the archive works: the first page is archived
    trap = newsroom.url("courier", "/faults/archive-trap")
    # Every record in a file of its own, so that the next write needs the folder.
    others = [newsroom.url("courier", f"/faults/{case}") for case in ("malformed", "truncated", "no-charset")]
    result = cli("crawl", *LOCAL_CRAWL, trap, *others, "-s", "PALIMPSEST_WARC_MAX_SIZE=1")

    assert result.returncode == 1, result.stdout + result.stderr
    line = f"palimpsest: stopped: cannot write the WARC archive in {archive}"
    assert line in result.stderr
    assert "Traceback" not in result.stderr
    assert "internal error" not in result.stdout  # no item dropped on the way to its row
    with sessions() as session:
        captures = {c.requested_url: c for c in session.scalars(select(Capture))}
    assert captures[first].warc_file
    trapped = captures[trap]
    assert trapped.outcome == "error"
    assert trapped.error.startswith("not archived: cannot write the WARC archive")
    for url in others:  # fetched before the stop took effect, or never requested: no silent drop
        if url in captures:
            capture = captures[url]
            assert capture.warc_file or capture.error.startswith("not archived: "), (url, capture.error)
    assert len(captures) >= 2


def test_an_archive_that_cannot_be_written_is_refused_before_the_first_request(newsroom, cli, sessions, tmp_path):
    in_the_way = tmp_path / "a-file"
    in_the_way.write_text("x")
    result = cli("crawl", *LOCAL_CRAWL, "--archive", str(in_the_way), newsroom.seed_url())
    assert result.returncode == 2
    assert result.stderr.strip().splitlines()[-1] == f"palimpsest: --archive: {in_the_way} is a file, not a folder"
    with sessions() as session:
        assert session.scalars(select(Capture)).all() == []  # nothing fetched, nothing thrown away


def test_a_typo_in_archive_creates_no_database(cli, tmp_path):
    in_the_way = tmp_path / "a-file"
    in_the_way.write_text("x")
    database = tmp_path / "new" / "palimpsest.db"
    result = cli("crawl", "--db", f"sqlite:///{database}", "--archive", str(in_the_way), "http://127.0.0.1:9/x")
    assert result.returncode == 2
    assert result.stderr.strip() == f"palimpsest: --archive: {in_the_way} is a file, not a folder"
    assert not database.exists() and not database.parent.exists()


def test_an_archive_folder_on_a_full_disk_stops_the_crawl_and_every_fetched_page_has_its_row(cli, sessions, tmp_path):
    """A real full disk: the archive folder is a 64 KiB tmpfs in a mount namespace of the
    crawl's own (``unshare -m``, as root; skipped where that is not allowed)."""
    from palimpsest.newsroom.server import Newsroom

    if shutil.which("unshare") is None or os.geteuid() != 0:
        pytest.skip("needs root and unshare to mount a small tmpfs")
    archive = tmp_path / "small-disk"
    archive.mkdir()
    with Newsroom(generated=300) as newsroom:
        urls = newsroom.generated_urls()
        crawl = shlex.join(
            [sys.executable, "-m", "palimpsest", "crawl", *LOCAL_CRAWL, "--db", cli.database_url,
             "--archive", str(archive), *urls]
        )  # fmt: skip
        script = f"mount -t tmpfs -o size=64k tmpfs {shlex.quote(str(archive))} || exit 99; {crawl}"
        env = dict(os.environ, PALIMPSEST_ALLOW_PRIVATE_ADDRESSES=LOOPBACK_ONLY, PYTHONWARNINGS="ignore")
        done = subprocess.run(
            ["unshare", "-m", "sh", "-c", script], capture_output=True, text=True, timeout=300, env=env
        )
    if done.returncode == 99:
        pytest.skip(f"cannot mount a tmpfs here: {done.stderr.strip()}")

    assert done.returncode == 1, done.stdout + done.stderr
    assert f"palimpsest: stopped: cannot write the WARC archive in {archive}: " in done.stderr
    assert "No space left on device" in done.stderr
    assert "Traceback" not in done.stderr and "internal error" not in done.stdout
    with sessions() as session:
        captures = {c.requested_url: c for c in session.scalars(select(Capture))}
    archived = [c for c in captures.values() if c.warc_file]
    lost = [c for c in captures.values() if not c.warc_file]
    assert archived, "the disk took some records before it was full"
    assert lost and all(c.outcome == "error" and c.error.startswith("not archived: ") for c in lost)
    assert len(captures) < len(urls)  # the crawl stopped: it did not fetch the rest to throw it away
    assert set(captures) <= set(urls)
