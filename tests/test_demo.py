"""``palimpsest demo`` runs the whole loop offline and shows two versions."""

from __future__ import annotations


def test_demo_shows_two_versions_of_the_revised_article(cli, tmp_path):
    result = cli("demo", "--dir", str(tmp_path / "demo"), check=True)

    assert "2 new versions" in result.stdout
    assert "1 new version, 1 not modified (304)" in result.stdout
    assert "2 versions" in result.stdout
    assert "Harbor City Council Approves $410 Million Sale of Water Utility Amid Protests" in result.stdout
    assert (tmp_path / "demo" / "palimpsest.db").exists()
