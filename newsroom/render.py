"""HTML for the newsroom's pages, one template per outlet, as publishers really mark them up.

The Ledger looks like a big metered paper: JSON-LD with ``isAccessibleForFree: false`` and a
``hasPart.cssSelector`` naming the gated body, a Piano-style meter prompt between paragraphs,
"Advertisement" slots, a photo caption, a byline block and a section label at the end. The
Courier looks like a small free site on a blogging engine.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterable
from html import escape

from palimpsest.newsroom.content import Article, Outlet, Revision

UrlFor = Callable[[str, str], str]  # (outlet key, path) -> absolute URL


def _byline_html(authors: Iterable[str]) -> str:
    links = [f'<a href="/by/{escape(a.lower().replace(" ", "-"))}">{escape(a)}</a>' for a in authors]
    if len(links) > 1:
        return "By " + ", ".join(links[:-1]) + " and " + links[-1]
    return "By " + links[0]


def _jsonld(article: Article, outlet: Outlet, revision: Revision, url: str, based_on: str | None = None) -> str:
    access = revision.access or article.access
    data = {
        "@context": "https://schema.org",
        "@type": "NewsArticle",
        "mainEntityOfPage": url,
        "url": url,
        "headline": revision.headline,
        "description": revision.dek,
        "datePublished": article.published.isoformat(),
        "dateModified": revision.modified.isoformat(),
        "inLanguage": "en-US",
        "author": [{"@type": "Person", "name": name} for name in revision.authors],
        "publisher": {"@type": "NewsMediaOrganization", "name": outlet.name},
        "isAccessibleForFree": access == "free",
        "wordCount": sum(len(p.split()) for p in revision.paragraphs),
    }
    if based_on:
        data["isBasedOn"] = based_on
    if access != "free":
        data["hasPart"] = {
            "@type": "WebPageElement",
            "isAccessibleForFree": False,
            "cssSelector": ".article-body--gated",
        }
    # "</" must not close the script element early.
    return json.dumps(data, ensure_ascii=False).replace("</", "<\\/")


def _content_tier(access: str) -> str:
    tier = {"metered": "metered", "hard": "locked", "registration": "locked"}.get(access)
    return f'<meta property="article:content_tier" content="{tier}">' if tier else ""


# What a hard or registration wall shows instead of the rest of the article.
WALL_PROMPTS = {
    "hard": (
        "<h3>Subscribe to continue reading</h3>"
        "<p>This article is for subscribers only.</p>"
        '<p><a href="/subscribe">Subscribe now</a></p>'
        '<p>Already a subscriber? <a href="/login">Log in</a></p>'
    ),
    "registration": (
        "<h3>Register for free to continue reading</h3>"
        '<p><a href="/register">Create a free account</a> to read this article and get our morning newsletter.</p>'
        '<p>Already have an account? <a href="/login">Log in</a></p>'
    ),
}


def _head(article: Article, outlet: Outlet, revision: Revision, url: str, url_for: UrlFor | None = None) -> str:
    title = escape(revision.headline)
    # A syndicated copy names the original as its canonical (on another domain).
    canonical = url_for(*article.based_on) if article.based_on and url_for else url
    amp = (
        f'<link rel="amphtml" href="{escape(url_for(article.outlet, "/amp" + article.path))}">'
        if article.amp and url_for
        else ""
    )
    return f"""<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>{title} - {escape(outlet.name)}</title>
<link rel="canonical" href="{escape(canonical)}">
{amp}
<meta name="description" content="{escape(revision.dek)}">
<meta property="og:type" content="article">
<meta property="og:title" content="{title}">
<meta property="og:url" content="{escape(url)}">
<meta property="og:site_name" content="{escape(outlet.name)}">
<meta property="article:published_time" content="{article.published.isoformat()}">
<meta property="article:modified_time" content="{revision.modified.isoformat()}">
<meta property="article:section" content="{escape(article.section)}">
{_content_tier(article.current_access)}
<script type="application/ld+json">{_jsonld(article, outlet, revision, url, canonical if article.based_on else None)}</script>
<script src="/static/app.js?v={revision.template_nonce}" defer></script>
</head>"""


def _paragraphs(paragraphs: Iterable[str], links: Iterable[tuple[str, str]] = ()) -> str:
    """Paragraphs with in-text links: (anchor words, URL) linked at their first occurrence."""
    pending = [(escape(anchor), url) for anchor, url in links]
    out = []
    for text in paragraphs:
        body = escape(text)
        for item in list(pending):
            anchor, url = item
            if anchor in body:
                body = body.replace(anchor, f'<a href="{escape(url)}">{anchor}</a>', 1)
                pending.remove(item)
        out.append(f"<p>{body}</p>")
    return "\n".join(out)


def _links(article: Article, url_for: UrlFor) -> list[tuple[str, str]]:
    return [(anchor, url_for(outlet, path) + article.link_query) for outlet, path, anchor in article.links]


def _ledger_body(
    revision: Revision,
    access: str,
    free_part: tuple[str, ...],
    gated_part: tuple[str, ...],
    links: list[tuple[str, str]],
) -> str:
    if access in WALL_PROMPTS:
        # A wall: two paragraphs of teaser, the prompt, and none of the gated part.
        return f"""  <section class="article-body" itemprop="articleBody">
    <div class="story-body-part">
{_paragraphs(free_part[:2], links)}
    </div>
    <div class="paywall-prompt" data-paywall="{access}">{WALL_PROMPTS[access]}</div>
  </section>"""
    return f"""  <section class="article-body" itemprop="articleBody">
    <div class="story-body-part">
{_paragraphs(free_part, links)}
    </div>
    <div class="ad ad--inline" data-slot="inline-{revision.template_nonce}"><span class="ad-label">Advertisement</span></div>
    <div class="meter-prompt tp-container" data-paywall="meter">
      <p><strong>You have 3 free articles remaining.</strong></p>
      <p><a href="/subscribe?campaign=meter">Subscribe to The Harbor Ledger</a></p>
    </div>
    <div class="story-body-part article-body--gated">
{_paragraphs(gated_part, links)}
    </div>
  </section>"""


def render_ledger(article: Article, outlet: Outlet, url_for: UrlFor) -> str:
    revision = article.current
    url = url_for(article.outlet, article.path)
    split = min(5, len(revision.paragraphs))
    free_part, gated_part = revision.paragraphs[:split], revision.paragraphs[split:]
    date_label = article.published.strftime("%b. %-d, %Y")
    caption = (
        f'<figure class="lede-photo"><img src="/static/northgate.jpg" alt="">'
        f"<figcaption>{escape(revision.caption)}</figcaption></figure>"
        if revision.caption
        else ""
    )
    correction = f'<div class="correction"><p>{escape(revision.correction)}</p></div>' if revision.correction else ""
    return f"""<!DOCTYPE html>
<html lang="en">
{_head(article, outlet, revision, url, url_for)}
<body>
<header class="masthead">
  <a class="logo" href="/">{escape(outlet.name)}</a>
  <nav><a href="/section/metro">Metro</a> <a href="/section/politics">Politics</a> <a href="/section/business">Business</a> <a href="/section/opinion">Opinion</a></nav>
  <a class="subscribe-cta" href="/subscribe">Subscribe for $1 a week</a>
</header>
<main>
<article class="story" id="story">
  <div class="kicker"><a href="/section/{escape(article.section.lower())}">{escape(article.section)}</a></div>
  <h1 class="headline" itemprop="headline">{escape(revision.headline)}</h1>
  <p class="summary">{escape(revision.dek)}</p>
  {caption}
  <div class="meta">
    <p class="byline">{_byline_html(revision.authors)}</p>
    <time datetime="{article.published.isoformat()}">{date_label}</time>
  </div>
{_ledger_body(revision, article.current_access, free_part, gated_part, _links(article, url_for))}
  {correction}
  <div class="section-label">{escape(article.section)}</div>
</article>
</main>
<aside class="newsletter"><h2>The Morning Tide</h2><p>Sign up for our newsletter to get the day's top stories every morning.</p><form><input type="email"><button>Sign up</button></form></aside>
<footer><p>&copy; 2026 {escape(outlet.name)}</p><a href="/terms">Terms of Service</a> <a href="/privacy">Privacy</a></footer>
</body>
</html>
"""


def render_courier(article: Article, outlet: Outlet, url_for: UrlFor) -> str:
    revision = article.current
    url = url_for(article.outlet, article.path)
    date_label = article.published.strftime("%B %-d, %Y")
    correction = f"<p><em>{escape(revision.correction)}</em></p>" if revision.correction else ""
    return f"""<!DOCTYPE html>
<html lang="en-US">
{_head(article, outlet, revision, url, url_for)}
<body class="single-post">
<div id="page">
<header id="masthead"><p class="site-title"><a href="/">{escape(outlet.name)}</a></p>
<ul class="menu"><li><a href="/news/">News</a></li><li><a href="/sports/">Sports</a></li><li><a href="/community/">Community</a></li></ul></header>
<div id="content">
<article class="post type-post">
<header class="entry-header">
<h1 class="entry-title">{escape(revision.headline)}</h1>
<div class="entry-meta"><span class="byline author vcard">{_byline_html(revision.authors)}</span> &middot; <span class="posted-on">{date_label}</span></div>
</header>
<div class="entry-content">
{_paragraphs(revision.paragraphs, _links(article, url_for))}
{correction}
</div>
<footer class="entry-footer"><span class="cat-links">Posted in <a href="/news/">News</a></span></footer>
</article>
<aside id="secondary"><section class="widget"><h2>Most read</h2><ul><li><a href="/news/ferry-schedule-changes">Ferry schedule changes this winter</a></li><li><a href="/sports/bayside-high-wins-regional">Bayside High wins regional title</a></li></ul></section></aside>
</div>
<footer id="colophon"><p>{escape(outlet.name)} is free to read, thanks to readers like you.</p></footer>
</div>
</body>
</html>
"""


RENDERERS = {"ledger": render_ledger, "courier": render_courier}

# What a consent wall shows instead of the article: enough words to look like a page.
CONSENT_TEXT = (
    "We care about your privacy. We and our partners use cookies and similar technologies to store "
    "and access information on your device, to measure audiences and to show you relevant content. "
    "Select Accept all to continue reading, or manage your choices at any time in the settings."
)


def render_broken_template(article: Article, outlet: Outlet, url_for: UrlFor) -> str:
    """A template change that hides the body: the text moves into a script blob that a
    client-side app would render, and a consent wall is all the HTML shows (tests only)."""
    revision = article.current
    url = url_for(article.outlet, article.path)
    blob = json.dumps({"headline": revision.headline, "body": list(revision.paragraphs)}, ensure_ascii=False)
    blob = blob.replace("</", "<\\/")  # "</" must not close the script element early
    return f"""<!DOCTYPE html>
<html lang="en-US">
{_head(article, outlet, revision, url, url_for)}
<body class="app-shell">
<header id="masthead"><p class="site-title"><a href="/">{escape(outlet.name)}</a></p></header>
<main id="app">
<h1 class="entry-title">{escape(revision.headline)}</h1>
<div class="consent-wall"><p>{escape(CONSENT_TEXT)}</p></div>
</main>
<script type="application/json" id="__ARTICLE__">{blob}</script>
</body>
</html>
"""


def render_article(article: Article, outlet: Outlet, url_for: UrlFor, *, broken: bool = False) -> str:
    """``broken``: the outlet's template change that hides the body (Newsroom.broken_outlets)."""
    if broken:
        return render_broken_template(article, outlet, url_for)
    return RENDERERS[outlet.style](article, outlet, url_for)


def render_amp(article: Article, outlet: Outlet, url_for: UrlFor) -> str:
    """The AMP rendering: the same article, a different URL, a canonical link back."""
    revision = article.current
    url = url_for(article.outlet, article.path)
    return f"""<!DOCTYPE html>
<html amp lang="en">
<head>
<meta charset="utf-8">
<title>{escape(revision.headline)}</title>
<link rel="canonical" href="{escape(url)}">
<meta name="viewport" content="width=device-width">
<script async src="https://cdn.ampproject.org/v0.js"></script>
<script type="application/ld+json">{_jsonld(article, outlet, revision, url)}</script>
</head>
<body>
<header><a href="/">{escape(outlet.name)}</a></header>
<article>
<h1>{escape(revision.headline)}</h1>
<p class="byline">{_byline_html(revision.authors)}</p>
{_paragraphs(revision.paragraphs, _links(article, url_for))}
</article>
</body>
</html>
"""


def render_front(outlet: Outlet, articles: Iterable[Article], url_for: UrlFor, title: str | None = None) -> str:
    """An index page as news sites make them: the masthead and its menu, then a teaser per
    article (linked headline, standfirst, date), newest first. The front page, a section
    ("/metro/"), a topic ("/topics/water-utility/") and an author page all look like this."""
    teasers = "\n".join(
        f"""<article class="teaser">
  <h2 class="teaser__headline"><a href="{escape(url_for(a.outlet, a.path))}">{escape(a.current.headline)}</a></h2>
  <p class="teaser__dek">{escape(a.current.dek)}</p>
  <p class="teaser__meta"><time datetime="{a.published.isoformat()}">{a.published.strftime("%b. %-d, %Y")}</time> &middot; {escape(a.section)}</p>
</article>"""
        for a in sorted(articles, key=lambda a: a.published, reverse=True)
    )
    heading = escape(title or outlet.name)
    return f"""<!DOCTYPE html>
<html lang="en"><head><meta charset="utf-8"><title>{heading} | {escape(outlet.name)}</title>
<meta property="og:type" content="website"><meta property="og:site_name" content="{escape(outlet.name)}"></head>
<body>
<header class="masthead"><p class="site-title"><a href="/">{escape(outlet.name)}</a></p>
<nav><ul class="menu"><li><a href="/metro/">Metro</a></li><li><a href="/news/">News</a></li><li><a href="/regional/">Regional</a></li><li><a href="/topics/water-utility/">Water utility</a></li></ul></nav></header>
<main>
<h1>{heading}</h1>
<section class="teasers">
{teasers}
</section>
</main>
<footer><p>&copy; {escape(outlet.name)}</p></footer>
</body>
</html>
"""


def robots_txt(outlet: Outlet, sitemap_url: str | None = None) -> str:
    lines = ["User-agent: *", "Disallow: /private/", "Disallow: /subscribe"]
    if sitemap_url:
        lines.append(f"Sitemap: {sitemap_url}")
    return "\n".join(lines) + "\n"
