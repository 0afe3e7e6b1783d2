"""``palimpsest extract``: files and URLs, no database, one .txt per input for the scorer."""

from __future__ import annotations

import gzip
import json
import urllib.request

from palimpsest.newsroom.content import COURIER_PATH, LEDGER_PATH


def _save_pages(newsroom, tmp_path):
    ledger = urllib.request.urlopen(newsroom.url("ledger", LEDGER_PATH)).read()
    courier = urllib.request.urlopen(newsroom.url("courier", COURIER_PATH)).read()
    (tmp_path / "ledger-story.html").write_bytes(ledger)
    (tmp_path / "courier-story.html.gz").write_bytes(gzip.compress(courier))
    return tmp_path / "ledger-story.html", tmp_path / "courier-story.html.gz"


def test_out_dir_gets_one_text_file_per_input_named_without_extension(newsroom, cli, tmp_path):
    ledger, courier = _save_pages(newsroom, tmp_path)
    out = tmp_path / "pred"

    result = cli("extract", str(ledger), str(courier), "--out", str(out), check=True)

    assert sorted(p.name for p in out.iterdir()) == ["courier-story.txt", "ledger-story.txt"]
    assert (out / "courier-story.txt").read_text().startswith("Harbor City is weighing a $410 million sale")
    assert "wrote 2 text files" in result.stderr
    assert not (tmp_path / "palimpsest.db").exists()  # no database touched


def test_json_lines_carry_metadata(newsroom, cli, tmp_path):
    _ledger, courier = _save_pages(newsroom, tmp_path)

    result = cli("extract", str(courier), "--json", "--url", newsroom.url("courier", COURIER_PATH), check=True)

    [record] = [json.loads(line) for line in result.stdout.splitlines()]
    assert record["headline"] == "Harbor City weighs selling water system; residents fear higher bills"
    assert record["byline"] == "Dana Whitfield"
    assert record["published"]["utc"] == "2026-11-04T14:15:00+00:00"
    assert record["canonical_url"] == newsroom.url("courier", COURIER_PATH)
    assert record["word_count"] > 150


def test_extract_a_url_through_http(newsroom, cli):
    result = cli("extract", newsroom.url("courier", COURIER_PATH), check=True)
    assert result.stdout.startswith("Harbor City weighs selling water system")
    assert "by Dana Whitfield" in result.stdout


def test_a_missing_file_is_reported_and_the_others_still_extracted(newsroom, cli, tmp_path):
    ledger, _courier = _save_pages(newsroom, tmp_path)
    out = tmp_path / "pred"

    result = cli("extract", str(tmp_path / "missing.html"), str(ledger), "--out", str(out))

    assert result.returncode == 1
    assert "missing.html" in result.stderr and "Traceback" not in result.stderr
    assert (out / "ledger-story.txt").exists()


def test_robots_txt_is_obeyed_for_urls(newsroom, cli):
    result = cli("extract", newsroom.url("ledger", "/subscribe"))
    assert result.returncode == 1
    assert "disallowed by robots.txt" in result.stderr


def test_files_are_read_under_the_crawlers_caps_and_binary_is_refused(newsroom, cli, tmp_path):
    """A gzip bomb, a file over the size cap and random bytes: one line each, nothing read."""
    import os
    import random

    bomb = tmp_path / "bomb.html.gz"
    bomb.write_bytes(gzip.compress(b"<p>" + b" " * (11 * 1024 * 1024)))  # ~11 KB on disk
    big = tmp_path / "big.html"
    with big.open("wb") as handle:
        handle.truncate(11 * 1024 * 1024)  # sparse: no 11 MB written
    noise = tmp_path / "noise.html"
    noise.write_bytes(random.Random(0).randbytes(20_000))
    _save_pages(newsroom, tmp_path)
    good = tmp_path / "courier-story.html.gz"

    result = cli("extract", str(bomb), str(big), str(noise), str(good), "--jobs", "1")
    assert result.returncode == 1
    lines = result.stderr.strip().splitlines()
    assert f"palimpsest: {bomb}: too large once decompressed (over 10 MB, a compression bomb?); not read" in lines
    assert f"palimpsest: {big}: larger than the 10 MB size cap; not read" in lines
    assert f"palimpsest: {noise}: not an HTML document (binary data); not read" in lines
    assert len(lines) == 3 and "Traceback" not in result.stderr
    assert result.stdout.count("words") == 1  # the good page is still extracted
    assert os.path.getsize(big) == 11 * 1024 * 1024


def test_each_input_is_extracted_under_the_crawlers_time_and_memory_budgets(newsroom, cli, tmp_path):
    ledger, _courier = _save_pages(newsroom, tmp_path)
    heavy = tmp_path / "transcript.html"  # ~7 MB of tiny elements: under the size cap, not the budgets
    heavy.write_text(
        "<html><head><title>T</title></head><body><p>" + "<span>word </span>" * 400_000 + "</p></body></html>"
    )

    slow = cli("extract", str(heavy), str(ledger), "--json", "-s", "PALIMPSEST_EXTRACT_TIME_LIMIT=1")
    big = cli("extract", str(heavy), str(ledger), "--json", "-s", "PALIMPSEST_EXTRACT_MEMORY_MB=48")

    for result, reason in ((slow, "extraction took longer than 1 s"), (big, "extraction needed more than 48 MB")):
        assert result.returncode == 1
        assert result.stderr.strip() == f"palimpsest: {heavy}: {reason}"
        records = [json.loads(line) for line in result.stdout.splitlines()]
        assert records[0] == {"source": str(heavy), "error": f"{heavy}: {reason}"}
        assert records[1]["headline"] == "Harbor City to Sell Its Water Utility to a Private Operator"
