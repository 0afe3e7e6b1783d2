"""``palimpsest demo`` runs the whole loop offline: discovery, a revision, history and diff."""

from __future__ import annotations


def test_demo_discovers_the_story_and_shows_two_versions_and_the_diff(cli, tmp_path):
    result = cli("demo", "--dir", str(tmp_path / "demo"), check=True)
    out = result.stdout

    assert "6 article(s) from 3 outlet(s)" in out  # the second pass adds one linked from a feed article
    assert "joined by similar" in out and "joined by link" in out and "a copy of" in out
    assert "candidates: 5 joined, 7 rejected" in out  # the seed is not a candidate of its own story
    assert "1 re-check(s) brought forward by feed/sitemap dates" in out
    assert "2 versions" in out
    assert "Harbor City Council Approves $410 Million Sale of Water Utility Amid Protests" in out
    assert "[-to Sell Its-]{+Council Approves $410 Million Sale of+}" in out  # the diff, piped: plain markers
    assert (tmp_path / "demo" / "palimpsest.db").exists()
    assert list((tmp_path / "demo" / "archive").glob("*.warc.gz"))
