"""``palimpsest demo`` runs the whole loop offline: discovery, a revision, history and diff."""

from __future__ import annotations

import pytest


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


def test_demo_without_dir_leaves_no_folder_behind(tmp_path, monkeypatch):
    """The temporary folder goes when the demo ends, whether it succeeded or failed."""
    import argparse
    import tempfile

    from palimpsest.cli import demo

    monkeypatch.setattr(tempfile, "tempdir", str(tmp_path))
    made = []

    def fake_run(args, directory):
        made.append(directory)
        (directory / "palimpsest.db").write_text("as if the demo had run")
        if len(made) == 2:
            raise RuntimeError("the demo failed")
        return 0

    monkeypatch.setattr(demo, "run_demo", fake_run)
    assert demo.run(argparse.Namespace(dir=None)) == 0
    with pytest.raises(RuntimeError):
        demo.run(argparse.Namespace(dir=None))
    assert len(made) == 2 and made[0].parent == tmp_path
    assert list(tmp_path.iterdir()) == []
    kept = tmp_path / "kept"
    assert demo.run(argparse.Namespace(dir=str(kept))) == 0
    assert (kept / "palimpsest.db").exists()
