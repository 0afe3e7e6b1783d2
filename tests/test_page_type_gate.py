"""The article-or-index judgement on WCXB's labelled pages must hold its committed floors.

Reads ../shared/eval/wcxb (never copied into the repository) and skips where it is absent.
Floors: at least 97% of the 711 article pages judged articles (a page wrongly turned down is
an article lost), at least 90% of the 189 listing and collection pages turned down.
``python -m benchmarks.page_types --show 20`` prints the figures and the pages judged wrong.
"""

from __future__ import annotations

import pytest

from benchmarks.page_types import WCXB, judge_all, labelled_pages, tally

ARTICLES_KEPT_FLOOR = 0.97
INDEX_TURNED_DOWN_FLOOR = 0.90
pytestmark = [
    pytest.mark.eval,
    pytest.mark.skipif(not (WCXB / "ground-truth.json.gz").exists(), reason="../shared/eval/wcxb is absent"),
]


def test_wcxb_articles_are_kept_and_index_pages_turned_down():
    counts = tally(judge_all(WCXB), labelled_pages(WCXB))
    kept, articles = counts["article"]
    turned_down, index_pages = counts["not article"]
    assert (articles, index_pages) == (711, 189)
    assert kept / articles >= ARTICLES_KEPT_FLOOR, counts
    assert turned_down / index_pages >= INDEX_TURNED_DOWN_FLOOR, counts
