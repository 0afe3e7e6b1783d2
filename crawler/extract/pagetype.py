"""Is this page an article, or an index of other pages? (Pure: a parsed page in, a judgement out.)

Front pages, section, tag, author, search and archive pages, listings and product grids change
every few minutes and are not articles: archiving them as versions would flood the archive
with "revisions" of a teaser list. The judgement weighs what the page says about itself and
what it looks like, and keeps every signal with the points it gave, so that a user can see
why a page was turned down:

- declarations: a JSON-LD article type (NewsArticle, BlogPosting, ...) or only a collection
  type (CollectionPage, SearchResultsPage, ...); ``og:type`` article or product;
- the URL: the site's root, an index segment (``/tag/``, ``/section/``, ``/author/``,
  ``/category/``, ``/search``, ``/collections/``, ...), a dated path, a slug of several words;
- the headline: an article's says something (``"Council sells water utility to Tidewater"``),
  an index page's names a place (``"Politics"``);
- structure, outside navigation, headers, footers and sidebars: prose in paragraphs of real
  sentences, the share of text that is link text, how many headline-like links the page lists,
  how much of its text sits in runs of repeated linked blocks (cards, teasers, product tiles),
  prices; published date and byline.

The points are a logistic model's weights, fitted once on WCXB's article, listing and
collection pages together with the Scrapinghub news articles, then rounded; the README gives
the figures. Lengths are measured in a script-aware way (a CJK or Thai character weighs as
much as a short word), so pages in Chinese, Japanese, Korean or Thai are judged like others.
"""

from __future__ import annotations

import math
import re
from collections.abc import Sequence
from dataclasses import dataclass
from functools import lru_cache
from urllib.parse import urljoin, urlsplit

from lxml import etree
from lxml.html import HtmlElement

from palimpsest.crawler.extract.metadata import ARTICLE_TYPES, iter_jsonld, jsonld_types

ARTICLE = "article"
INDEX = "index"

# Declared types of pages that list other pages.
COLLECTION_TYPES = frozenset({"collectionpage", "searchresultspage", "profilepage", "offercatalog"})
# More article types than the metadata reader needs (it wants the news article object).
DECLARED_ARTICLE_TYPES = ARTICLE_TYPES | {"techarticle", "scholarlyarticle", "newsarticle"}

# URL path segments that name an index: /tag/x, /section/politics, /author/jane, /search...
_INDEX_SEGMENT = re.compile(
    r"^(tags?|topics?|category|categories|section|sections|authors?|search|archives?|page|"
    r"collections?|shop|browse|hub|lists?|products|store|catalog|cat|c|by|rubrik|ressort|rubrique|seccion)$",
    re.I,
)
_PAGE_EXTENSION = re.compile(r"\.(s?html?|php|aspx?|jsp)$", re.I)
_DATED_PATH = re.compile(r"/(19|20)\d\d/(0?[1-9]|1[0-2])/|(19|20)\d\d-?[01]\d-?[0-3]\d")
_SLUG_WORD = re.compile(r"[^\W\d_]+")
# Navigation, page furniture and boxes of other articles: not what the page itself is. By tag,
# or by a word in the class, id or role.
_FURNITURE_TAGS = ("nav", "header", "footer", "aside", "form", "select", "script", "style", "noscript", "template")
_FURNITURE_NAME = re.compile(
    r"(^|[-_ ])(nav|navbar|navigation|menu|footer|header|masthead|sidebar|breadcrumbs?|cookie|related|"
    r"recommended|social|share|sharing|promo|newsletter|subscribe|trending|popular|most-read|comments?)([-_ ]|$)",
    re.I,
)
_NAMED = etree.XPath(".//*[@class or @id or @role]")
# Elements with enough children to hold a run of repeated blocks.
_PARENTS_OF_MANY = etree.XPath(".//*[count(*) >= 4]")
# Prices: a currency sign before a number ($12, £ 9.99), or the euro sign after one (12,99 €).
_PRICE_BEFORE = re.compile(r"[$€£¥]\s?\d")
_PRICE_AFTER = re.compile(r"\d\s?€")
# Characters of scripts written without spaces between words: Han, kana, Hangul, Thai.
_WIDE = re.compile(r"[\u0e00-\u0e7f\u1100-\u11ff\u2e80-\u9fff\uac00-\ud7af\uf900-\ufaff]")

# A paragraph of prose: at least this weight (about 30 words), mostly not link text.
PROSE_PARAGRAPH = 160
# A headline-like link: about 4 to 30 words of anchor text.
HEADLINE_LINK = (25, 200)
# Repeated blocks: at least this many siblings of one kind, each holding a link.
REPEATED_BLOCKS = 4  # (also in _PARENTS_OF_MANY)

# Points, in log-odds of "article". A page is an article when they sum to THRESHOLD or more:
# an article probability of 0.43, so that a doubtful page is kept rather than thrown away.
BIAS = -3.18
THRESHOLD = -0.3
POINTS = {
    "declared_article": 0.95,
    "declared_collection": -0.56,
    "og_article": 1.17,
    "og_product": -0.51,
    "site_root": -1.22,
    "index_segment": -1.43,
    "slug": 2.44,  # times the share of a six-word slug
    "dated_path": 1.08,
    "headline": 1.72,  # times the share of an 80-character headline
    "prose": 1.31,  # times log(1 + prose weight) / 10
    "long_paragraphs": 1.57,  # of the extracted text, times log(1 + weight) / 10
    "link_share": -1.39,  # times the share of text in links
    "headline_links": -1.9,  # times log(1 + count) / 5
    "repeated_share": -1.19,  # times the share of text in repeated linked blocks
    "prices": -1.2,  # times log(1 + count) / 5
    "published": 0.83,
    "byline": 0.71,
    "subheads": 0.63,  # times log(1 + count of h2-h4 that are not links) / 3
}


def text_weight(text: str) -> int:
    """Length of a text with whitespace collapsed; a character of a script written without
    spaces (Chinese, Japanese, Korean, Thai) counts three times, about a short word."""
    collapsed = " ".join(text.split())
    if collapsed.isascii():
        return len(collapsed)
    return len(collapsed) + 2 * len(_WIDE.findall(collapsed))


@dataclass(frozen=True)
class PageShape:
    """What the page's own content looks like, outside its furniture."""

    text: int  # weight of the text outside furniture
    link_text: int
    prose: int  # weight of prose paragraphs
    headline_links: int  # distinct same-site paths of headline-like links
    repeated: int  # weight of the text in the largest run of repeated linked blocks
    prices: int
    subheads: int  # h2-h4 that are not links (a teaser list's headings are)


@dataclass(frozen=True)
class PageJudgement:
    page_type: str  # "article" or "index"
    kind: str | None  # for an index: front, section, tag, author, search, listing, product
    score: float
    evidence: tuple[dict[str, str], ...]

    @property
    def is_article(self) -> bool:
        return self.page_type == ARTICLE

    @property
    def reason(self) -> str:
        """One line for a user: 'index page (section): section segment in the URL, ...'."""
        if self.is_article:
            return "article"
        negatives = [item["detail"] for item in self.evidence if float(item["points"]) < 0]
        kind = f" ({self.kind})" if self.kind else ""
        return f"index page{kind}: " + "; ".join(negatives[:3]) if negatives else f"index page{kind}"


@dataclass(frozen=True)
class Signal:
    """One thing the page says or shows: ``amount`` (0..1, or 1 for a yes) of a feature."""

    signal: str
    detail: str
    key: str  # of POINTS
    amount: float = 1.0

    @property
    def points(self) -> float:
        return round(POINTS[self.key] * self.amount, 2) if self.key in POINTS else 0.0


def judge_page(
    tree: HtmlElement,
    url: str,
    *,
    declared: frozenset[str],
    headline: str | None,
    published: bool,
    byline: bool,
    paragraphs: Sequence[str],
) -> PageJudgement:
    """Article or index, with every signal that counted and its points.

    ``declared``: the page's JSON-LD types (``declared_types``, read before cleanup removed
    scripts); ``paragraphs``: the extracted body. Call it once extraction is done with ``tree``:
    measuring the structure removes the page's furniture from it. A page that plainly is an
    article (declared so, with an article's URL, headline and text) is not measured at all.
    """
    found = page_signals(
        tree, url, declared=declared, headline=headline, published=published, byline=byline, paragraphs=paragraphs
    )
    evidence = [(item.signal, item.detail, item.points) for item in found if item.points or item.key == "shortcut"]
    if any(item.key == "shortcut" for item in found):
        return _judgement(evidence, ARTICLE, None)
    if BIAS + sum(points for _signal, _detail, points in evidence) >= THRESHOLD:
        return _judgement(evidence, ARTICLE, None)
    segments = [segment for segment in urlsplit(url).path.split("/") if segment]
    prices = next((int(item.detail.split()[0]) for item in found if item.key == "prices"), 0)
    return _judgement(evidence, INDEX, _index_kind(segments, prices))


def page_signals(
    tree: HtmlElement,
    url: str,
    *,
    declared: frozenset[str],
    headline: str | None,
    published: bool,
    byline: bool,
    paragraphs: Sequence[str],
    measure: bool = False,
) -> list[Signal]:
    """Every signal with its amount (``judge_page`` turns them into points). ``measure``:
    measure the structure even of a page that plainly is an article (for fitting POINTS)."""
    found: list[Signal] = []
    article_types = sorted(declared & DECLARED_ARTICLE_TYPES)
    collection_types = sorted(declared & COLLECTION_TYPES)
    if article_types:
        found.append(Signal("json-ld", f"declares an article ({', '.join(article_types)})", "declared_article"))
    elif collection_types:
        found.append(
            Signal("json-ld", f"declares a list of pages ({', '.join(collection_types)})", "declared_collection")
        )
    og_type = _og_type(tree)
    if og_type == "article":
        found.append(Signal("og:type", "og:type article", "og_article"))
    elif og_type and og_type.startswith("product"):
        found.append(Signal("og:type", f"og:type {og_type}", "og_product"))

    parts = urlsplit(url)
    web_address = parts.scheme in ("http", "https")  # a local file's path says nothing
    path = parts.path if web_address else ""
    segments = [segment for segment in path.split("/") if segment]
    index_segment = next((s for s in segments if _INDEX_SEGMENT.match(s)), None)
    if not segments and web_address:
        found.append(Signal("url", "the site's front page", "site_root"))
    if index_segment:
        found.append(Signal("url", f"/{index_segment}/ in the URL", "index_segment"))
    slug_words = len(_SLUG_WORD.findall(_PAGE_EXTENSION.sub("", segments[-1]))) if segments else 0
    if web_address:
        found.append(Signal("url", f"a {slug_words}-word slug", "slug", min(slug_words, 6) / 6))
    dated = _DATED_PATH.search(path) is not None
    if dated:
        found.append(Signal("url", "a date in the path", "dated_path"))

    headline_weight = text_weight(headline or "")
    found.append(
        Signal("headline", f"headline of {headline_weight} characters", "headline", min(headline_weight, 80) / 80)
    )
    if published:
        found.append(Signal("published", "a publication date", "published"))
    if byline:
        found.append(Signal("byline", "a byline", "byline"))
    extracted = sum(w for w in (text_weight(p) for p in paragraphs) if w >= PROSE_PARAGRAPH)
    found.append(
        Signal(
            "text",
            f"{extracted} characters of long extracted paragraphs",
            "long_paragraphs",
            math.log1p(extracted) / 10,
        )
    )

    declares_article = bool(article_types) or og_type == "article"
    if (
        declares_article
        and (slug_words >= 4 or dated)
        and not index_segment
        and headline_weight >= 30
        and extracted >= 1000
    ):
        found.append(Signal("shortcut", "declared an article, with an article's URL, headline and text", "shortcut"))
        if not measure:
            return found

    shape = read_shape(tree, url)
    found.append(
        Signal("prose", f"{shape.prose} characters of prose paragraphs", "prose", math.log1p(shape.prose) / 10)
    )
    link_share = shape.link_text / shape.text if shape.text else 0.0
    found.append(Signal("links", f"{link_share:.0%} of the text is links", "link_share", link_share))
    teasers = shape.headline_links
    found.append(Signal("teasers", f"{teasers} headline-like links", "headline_links", math.log1p(teasers) / 5))
    repeated = shape.repeated / (shape.repeated + shape.prose) if shape.repeated else 0.0
    found.append(
        Signal("repeated blocks", f"{repeated:.0%} of the text in repeated linked blocks", "repeated_share", repeated)
    )
    found.append(Signal("subheads", f"{shape.subheads} subheadings", "subheads", math.log1p(shape.subheads) / 3))
    found.append(Signal("prices", f"{shape.prices} prices", "prices", math.log1p(shape.prices) / 5))
    return found


def _judgement(evidence: list[tuple[str, str, float]], page_type: str, kind: str | None) -> PageJudgement:
    return PageJudgement(
        page_type=page_type,
        kind=kind,
        score=round(BIAS + sum(points for _signal, _detail, points in evidence), 2),
        evidence=tuple(
            {"signal": signal, "detail": detail, "points": f"{points:+.2f}"} for signal, detail, points in evidence
        ),
    )


def read_shape(tree: HtmlElement, url: str) -> PageShape:
    """Measure the page's own content. Removes the page's furniture (navigation, headers,
    footers, sidebars, boxes of other articles) from ``tree`` first: use it only once nothing
    else needs the tree."""
    body = tree.find(".//body")
    root = body if body is not None else tree
    furniture = list(root.iter(*_FURNITURE_TAGS))
    furniture += [e for e in _NAMED(root) if _furniture_name(f"{e.get('class')} {e.get('id')} {e.get('role')}")]
    for element in furniture:
        if element.getparent() is not None:
            element.drop_tree()
    text = text_weight(root.text_content())
    host = urlsplit(url).hostname
    link_text = 0
    headline_paths: set[str] = set()
    for anchor in root.iter("a"):
        weight = text_weight(anchor.text_content())
        link_text += weight
        if HEADLINE_LINK[0] <= weight <= HEADLINE_LINK[1] and (path := _same_site_path(url, host, anchor)):
            headline_paths.add(path)
    prose = 0
    for paragraph in root.iter("p"):
        weight = text_weight(paragraph.text_content())
        if weight >= PROSE_PARAGRAPH and _link_weight(paragraph) < 0.3 * weight:
            prose += weight
    subheads = 0
    for heading in root.iter("h2", "h3", "h4"):
        weight = text_weight(heading.text_content())
        if weight and _link_weight(heading) < 0.5 * weight:
            subheads += 1
    return PageShape(
        text=text,
        link_text=min(link_text, text),
        prose=prose,
        headline_links=len(headline_paths),
        repeated=max((_repeated_run(parent) for parent in _PARENTS_OF_MANY(root)), default=0),
        prices=_count_prices(root.text_content()),
        subheads=subheads,
    )


def declared_types(tree: HtmlElement) -> frozenset[str]:
    """Every JSON-LD ``@type`` on the page, lower case (read before cleanup removes scripts)."""
    declared: set[str] = set()
    for obj in iter_jsonld(tree):
        declared |= jsonld_types(obj)
    return frozenset(declared)


def _og_type(tree: HtmlElement) -> str | None:
    for meta in tree.iterfind(".//meta"):
        if (meta.get("property") or meta.get("name") or "").strip().lower() == "og:type":
            return (meta.get("content") or "").strip().lower() or None
    return None


def _count_prices(text: str) -> int:
    after = len(_PRICE_AFTER.findall(text)) if "€" in text else 0  # the slower pattern, only where it can match
    return len(_PRICE_BEFORE.findall(text)) + after


def _index_kind(segments: list[str], prices: int) -> str:
    if not segments:
        return "front"
    for segment in segments:
        if _INDEX_SEGMENT.match(segment):
            name = segment.lower().rstrip("s")
            for kind, names in (
                ("tag", ("tag", "topic")),
                ("author", ("author", "by")),
                ("search", ("search",)),
                ("product", ("shop", "product", "store", "catalog", "collection", "cat")),
                ("section", ("section", "category", "categorie", "rubrik", "ressort", "rubrique", "seccion", "hub")),
            ):
                if name in names:
                    return kind
    return "product" if prices >= 10 else "listing"


@lru_cache(maxsize=4096)
def _furniture_name(names: str) -> bool:
    return _FURNITURE_NAME.search(names) is not None


def _link_weight(element: HtmlElement) -> int:
    return sum(text_weight(anchor.text_content()) for anchor in element.iter("a"))


def _same_site_path(page_url: str, host: str | None, anchor: HtmlElement) -> str | None:
    href = anchor.get("href")
    if not href:
        return None
    parent = anchor.getparent()
    if parent is not None and parent.tag == "p" and text_weight(parent.text_content()) > 2 * HEADLINE_LINK[0]:
        return None  # a link inside a sentence, not a teaser
    try:
        target = urlsplit(urljoin(page_url, href))
    except ValueError:
        return None
    return target.path if target.hostname == host and target.path not in ("", "/") else None


def _repeated_run(element: HtmlElement) -> int:
    """Text weight of the largest run of this element's children of one kind (tag and first
    class) that each hold a link: the teaser list of a section page, a product grid's tiles."""
    groups: dict[tuple[str, str], list[HtmlElement]] = {}
    for child in element:
        if isinstance(child.tag, str):
            classes = (child.get("class") or "").split()
            groups.setdefault((child.tag, classes[0] if classes else ""), []).append(child)
    best_links, best_text = 0, 0
    for members in groups.values():
        if len(members) < REPEATED_BLOCKS:
            continue
        linked = [m for m in members if m.tag == "a" or m.find(".//a") is not None]
        if len(linked) < REPEATED_BLOCKS:
            continue
        links = sum(text_weight(a.text_content()) for m in linked for a in ([m] if m.tag == "a" else m.iter("a")))
        if links > best_links:
            best_links, best_text = links, sum(text_weight(m.text_content()) for m in linked)
    return best_text
