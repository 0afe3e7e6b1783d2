"""Property-based tests on random and mutated input: no exception escapes but the documented
ones, and every result is deterministic (the same input, the same answer)."""

from __future__ import annotations

from functools import cache

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from palimpsest.crawler.discovery.feeds import NotAFeed, parse_feed
from palimpsest.crawler.discovery.sitemaps import NotASitemap, parse_sitemap
from palimpsest.crawler.extract import ExtractionError, extract_article, paywall_verdict
from palimpsest.crawler.extract.urls import BadURLError, canonical_url, loose_variants, normalise_url
from palimpsest.newsroom.content import OUTLETS, build_articles
from palimpsest.newsroom.render import render_article
from palimpsest.storage.diffing import VersionFields, classify_changes, diff_versions

FUZZ = settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])


@cache
def sample_pages() -> tuple[bytes, ...]:
    articles = list(build_articles().values())[:3]
    return tuple(
        render_article(a, OUTLETS[a.outlet], lambda o, p: f"http://{OUTLETS[o].host}{p}").encode() for a in articles
    )


@st.composite
def mutated_html(draw: st.DrawFn) -> bytes:
    """A real newsroom page, cut, spliced, duplicated and sprinkled with random bytes."""
    page = bytearray(draw(st.sampled_from(sample_pages())))
    for _ in range(draw(st.integers(1, 6))):
        action = draw(st.sampled_from(["cut", "insert", "duplicate", "truncate"]))
        at = draw(st.integers(0, len(page)))
        if action == "cut":
            del page[at : at + draw(st.integers(1, 400))]
        elif action == "insert":
            page[at:at] = draw(
                st.sampled_from([b"<", b">", b"<p>", b"</div>", b"<script>", b"\x00", b"&#", b"\xff\xfe", b"<![CDATA["])
            ) + draw(st.binary(max_size=40))
        elif action == "duplicate":
            page[at:at] = page[at : at + draw(st.integers(1, 300))]
        else:
            del page[at:]
    return bytes(page)


inputs = st.one_of(mutated_html(), st.binary(max_size=2000), st.text(max_size=2000).map(str.encode))


@FUZZ
@given(inputs)
def test_extraction_returns_an_article_or_says_why_not(body):
    def run():
        try:
            return extract_article("http://127.0.0.1/a.html", body).as_dict()
        except ExtractionError as exc:
            return f"error: {exc}"

    assert run() == run()


@FUZZ
@given(inputs)
def test_paywall_verdict_is_total_and_deterministic(body):
    first = paywall_verdict("http://127.0.0.1/a.html", body)
    assert first == paywall_verdict("http://127.0.0.1/a.html", body)
    assert first.access in ("free", "metered", "registration", "hard", "unknown")


@FUZZ
@given(
    st.text(max_size=300) | st.from_regex(r"https?://[a-zA-Z0-9.:\[\]@%-]{0,40}(/[^\s#]{0,60})?(#.*)?", fullmatch=True)
)
def test_url_identity_is_idempotent_and_only_raises_bad_url(text):
    try:
        normal = normalise_url(text)
    except BadURLError:
        return
    assert normalise_url(normal) == normal
    assert canonical_url(normal, text, None) == canonical_url(normal, text, None)
    assert normal not in loose_variants(normal)


@FUZZ
@given(st.one_of(st.binary(max_size=1500), mutated_html()))
def test_feed_and_sitemap_parsers_accept_anything(body):
    for parse, refusal in ((parse_feed, NotAFeed), (parse_sitemap, NotASitemap)):
        try:
            result = parse(body, "http://127.0.0.1/feed.xml")
        except refusal:
            continue
        assert result == parse(body, "http://127.0.0.1/feed.xml")


words = st.text(alphabet=st.characters(categories=("L", "N", "P", "Zs")), max_size=60)
bodies = st.lists(words, max_size=8).map(lambda ps: "\n\n".join(p for p in ps if p.strip()))
fields = st.builds(
    lambda h, d, b, t, a, c: VersionFields(headline=h, dek=d, byline=b, text=t, access=a, complete=c),
    st.none() | words,
    st.none() | words,
    st.none() | words,
    bodies,
    st.sampled_from(["free", "metered", "registration", "hard", "unknown"]),
    st.booleans(),
)


@FUZZ
@given(fields, fields)
def test_diffing_is_total_deterministic_and_rebuilds_both_texts(old, new):
    diff = diff_versions(old, new)
    assert diff == diff_versions(old, new)
    assert classify_changes(old, new) == (diff.kinds, diff.similarity)
    assert 0.0 <= diff.similarity <= 1.0
    for field in diff.fields:
        assert "".join(op.old for op in field.ops) == (field.old or "")
        assert "".join(op.new for op in field.ops) == (field.new or "")
