"""The two seed articles, rendered from ../shared/seeds (skipped where that folder is absent)."""

from __future__ import annotations

import re

import pytest
from sqlalchemy import select

from palimpsest.newsroom import Newsroom
from palimpsest.storage.models import Article, Version
from tests.conftest import SHARED

SEEDS = SHARED / "seeds"
NYT, HILL = "000_1f759e3f23c5bfca", "001_fcb3360d88239c16"
pytestmark = pytest.mark.skipif(not (SEEDS / f"{NYT}.txt").exists(), reason="../shared/seeds is absent")


def plain(block: str) -> str:
    """A seed block as readers see it: Markdown links and emphasis stripped."""
    text = re.sub(r"\[([^\]]+)\]\([^)]*\)", r"\1", block)
    return re.sub(r"\s+", " ", text.replace("**", "")).strip()


@pytest.fixture
def seeded_newsroom():
    with Newsroom(seeds_dir=SEEDS) as running:
        yield running


def _stored(sessions, url):
    with sessions() as session:
        article = session.scalars(select(Article).where(Article.canonical_url == url)).one()
        return session.scalars(select(Version).where(Version.article_id == article.id)).one()


def test_nyt_seed_prompt_gone_paragraphs_kept_metadata_apart(seeded_newsroom, cli, sessions):
    url = seeded_newsroom.url("ledger", f"/seeds/{NYT}.html")
    cli.crawl(url)
    version = _stored(sessions, url)

    blocks = [plain(b) for b in re.split(r"\n\s*\n", (SEEDS / f"{NYT}.txt").read_text()) if b.strip()]
    # The seed's article paragraphs: after the date line, up to the closing section label,
    # without the subscription prompt and its rules.
    start = blocks.index("June 5, 2018") + 1
    expected = [b for b in blocks[start:-1] if b != "---" and "free articles remaining" not in b]
    assert version.text.split("\n\n") == expected
    assert "Subscribe to The Times" not in version.text
    assert "The Switch" not in version.text
    assert version.byline == "Michael LaForgia and Gabriel J.X. Dance"
    assert version.published_raw == "June 5, 2018" and version.published_at.isoformat().startswith("2018-06-05")
    assert version.captions.endswith("Mark Schiefelbein/Associated Press")
    assert (version.access, version.complete) == ("metered", True)
    assert any(item["signal"] == "prompt:meter" for item in version.paywall_evidence)


def test_hill_seed_is_free_and_complete(seeded_newsroom, cli, sessions):
    url = seeded_newsroom.url("courier", f"/seeds/{HILL}.html")
    cli.crawl(url)
    version = _stored(sessions, url)

    blocks = [plain(b) for b in re.split(r"\n\s*\n", (SEEDS / f"{HILL}.txt").read_text()) if b.strip()]
    assert version.headline == blocks[0]
    assert version.text.split("\n\n") == blocks[1:]
    assert (version.access, version.complete) == ("free", True)
