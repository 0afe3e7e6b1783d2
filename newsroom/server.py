"""The newsroom's HTTP server: each outlet on a loopback address of its own, one shared port.

Run it in a thread (``with Newsroom() as newsroom: ...``) or as a process
(``python -m newsroom``). While it runs, ``publish()`` reveals an article's next scripted
revision and ``revise()`` makes any edit; both are also reachable over HTTP
(``POST /_newsroom/publish?article=KEY``) for a newsroom running in another process, and so is
a template change that hides an outlet's article bodies (``POST /_newsroom/break-template`` on
that outlet's address; ``/_newsroom/fix-template`` undoes it).
"""

from __future__ import annotations

import contextlib
import email.utils
import hashlib
import json
import threading
from collections import deque
from dataclasses import replace
from http import HTTPStatus
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlsplit

from palimpsest.newsroom.content import (
    LEDGER_PATH,
    OUTLETS,
    STORY_SLUG,
    STORY_TITLE,
    Article,
    Outlet,
    Revision,
    build_articles,
)
from palimpsest.newsroom.faults import FAULTS
from palimpsest.newsroom.feeds import (
    ARCHIVE_SITEMAP_PATH,
    FEED_PATHS,
    NEWS_SITEMAP_PATH,
    REDIRECTS,
    SECTIONS_SITEMAP_PATH,
    SITEMAP_INDEX_PATH,
    archive_sitemap,
    feed,
    news_sitemap,
    sections_sitemap,
    sitemap_index,
)
from palimpsest.newsroom.generator import generated_article
from palimpsest.newsroom.render import render_amp, render_article, render_front, robots_txt
from palimpsest.newsroom.seeds import load_seeds, render_seed


class _Server(ThreadingHTTPServer):
    daemon_threads = True
    allow_reuse_address = False
    request_queue_size = 128

    def __init__(self, address: tuple[str, int], newsroom: Newsroom, outlet: Outlet) -> None:
        self.newsroom = newsroom
        self.outlet = outlet
        super().__init__(address, _Handler)


class _Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    server: _Server
    server_version = "Newsroom/1.0"

    def log_message(self, format: str, *args: Any) -> None:  # noqa: A002 - stdlib signature
        return

    def handle(self) -> None:
        # A client that hung up (the crawler cancelling a huge download) is not an error.
        with contextlib.suppress(OSError):
            super().handle()

    def do_HEAD(self) -> None:
        self._serve(head=True)

    def do_GET(self) -> None:
        self._serve(head=False)

    def do_POST(self) -> None:
        parts = urlsplit(self.path)
        query = {k: v[0] for k, v in parse_qs(parts.query).items()}
        if parts.path == "/_newsroom/publish":
            revision = self.server.newsroom.publish(query.get("article"))
            self._send(200, "application/json", json.dumps({"headline": revision.headline}).encode())
        elif parts.path in ("/_newsroom/break-template", "/_newsroom/fix-template"):
            # This outlet's template hides (or shows again) the article body.
            newsroom, key = self.server.newsroom, self.server.outlet.key
            with newsroom.lock:
                if parts.path.endswith("break-template"):
                    newsroom.broken_outlets.add(key)
                else:
                    newsroom.broken_outlets.discard(key)
            self._send(200, "application/json", json.dumps({"broken": sorted(newsroom.broken_outlets)}).encode())
        else:
            self._send(404, "text/plain", b"not found")

    def _serve(self, head: bool) -> None:
        newsroom, outlet = self.server.newsroom, self.server.outlet
        path = urlsplit(self.path).path
        newsroom.request_log.append((outlet.key, path, {k.lower(): v for k, v in self.headers.items()}))
        if path == "/robots.txt":
            sitemap = newsroom.url(outlet.key, SITEMAP_INDEX_PATH) if outlet.key == "ledger" else None
            return self._send(200, "text/plain; charset=utf-8", robots_txt(outlet, sitemap).encode(), head=head)
        if path.startswith("/faults/") and (fault := FAULTS.get(path[len("/faults/") :])) is not None:
            return fault(self, head)
        if (target := REDIRECTS.get((outlet.key, path))) is not None:
            return self._send(
                301, "text/plain", b"moved", head=head, extra={"Location": newsroom.url(outlet.key, target)}
            )
        if path == FEED_PATHS.get(outlet.key):
            content_type, body = feed(outlet.key, newsroom.listed(outlet.key), newsroom.url)
            return self._send(200, content_type, body.encode("utf-8"), head=head)
        if outlet.key == "ledger" and path in (SITEMAP_INDEX_PATH, NEWS_SITEMAP_PATH, ARCHIVE_SITEMAP_PATH):
            listed = newsroom.listed(outlet.key)
            body = {
                SITEMAP_INDEX_PATH: lambda: sitemap_index(outlet.key, newsroom.url),
                NEWS_SITEMAP_PATH: lambda: news_sitemap(outlet.key, listed, newsroom.url),
                ARCHIVE_SITEMAP_PATH: lambda: archive_sitemap(outlet.key, listed, newsroom.url),
            }[path]()
            return self._send(200, "application/xml; charset=utf-8", body.encode("utf-8"), head=head)
        if path.startswith("/amp/") and (amp_of := newsroom.find(outlet.key, path[4:])) is not None and amp_of.amp:
            html = render_amp(amp_of, outlet, newsroom.url)
            return self._send(200, "text/html; charset=utf-8", html.encode("utf-8"), head=head)
        if outlet.key == "ledger" and path == SECTIONS_SITEMAP_PATH:
            body = sections_sitemap(outlet.key, newsroom.url)
            return self._send(200, "application/xml; charset=utf-8", body.encode("utf-8"), head=head)
        if (index_page := newsroom.index_page(outlet.key, path)) is not None:
            title, articles = index_page
            html = render_front(outlet, articles[:50], newsroom.url, title)
            return self._send(200, "text/html; charset=utf-8", html.encode(), head=head)
        if path.startswith("/seeds/") and path.endswith(".html") and path[7:-5] in newsroom.seeds:
            html = render_seed(newsroom.seeds[path[7:-5]])
            return self._send(200, "text/html; charset=utf-8", html.encode("utf-8"), head=head)
        article = newsroom.find(outlet.key, path)
        if article is None:
            return self._send(
                404, "text/html; charset=utf-8", b"<html><body><h1>Page not found</h1></body></html>", head=head
            )
        if article.ab_headlines:
            article = newsroom.next_ab_variant(article)
        broken = outlet.key in newsroom.broken_outlets
        body = render_article(article, outlet, newsroom.url, broken=broken).encode("utf-8")
        etag = '"' + hashlib.sha1(body).hexdigest()[:20] + '"'
        last_modified = email.utils.format_datetime(article.current.modified, usegmt=True)
        if newsroom.lying_validators:
            # A broken CMS: the same validators whatever the content, and 304 to any condition.
            etag, last_modified = '"static"', "Mon, 02 Nov 2026 00:00:00 GMT"
            if self.headers.get("If-None-Match") or self.headers.get("If-Modified-Since"):
                return self._send(304, None, b"", head=True, extra={"ETag": etag, "Last-Modified": last_modified})
        if self.headers.get("If-None-Match") == etag:
            return self._send(304, None, b"", head=True, extra={"ETag": etag, "Last-Modified": last_modified})
        self._send(
            200, "text/html; charset=utf-8", body, head=head, extra={"ETag": etag, "Last-Modified": last_modified}
        )

    def _send(
        self,
        status: int,
        content_type: str | None,
        body: bytes,
        *,
        head: bool = False,
        extra: dict[str, str] | None = None,
    ) -> None:
        self.send_response(status, HTTPStatus(status).phrase)
        if content_type:
            self.send_header("Content-Type", content_type)
        for key, value in (extra or {}).items():
            self.send_header(key, value)
        if status != 304:
            self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        if not head and status != 304:
            self.wfile.write(body)


class Newsroom:
    """A local news site. Not for the open internet: it binds loopback addresses only."""

    def __init__(self, port: int = 0, seeds_dir: Path | None = None, generated: int = 0) -> None:
        self.requested_port = port
        # Captured seed texts, served at /seeds/<stem>.html on every outlet (tests only).
        self.seeds: dict[str, str] = load_seeds(seeds_dir) if seeds_dir else {}
        self.port: int | None = None
        self.articles: dict[str, Article] = build_articles()
        # The coverage one pass finds; articles further away (hops > 1) take more passes.
        self.story_keys = [key for key, article in self.articles.items() if article.in_story and article.hops == 1]
        self.second_hop_keys = [key for key, article in self.articles.items() if article.in_story and article.hops == 2]
        # Generated articles for scale, at /gen/<n>.html (see newsroom.generator).
        self.generated_keys: list[str] = []
        for number in range(generated):
            article = generated_article(number)
            self.articles[article.key] = article
            self.generated_keys.append(article.key)
        self.lock = threading.Lock()
        # Every request received: (outlet key, path, lower-cased headers). Bounded.
        self.request_log: deque[tuple[str, str, dict[str, str]]] = deque(maxlen=10_000)
        # When set, the server's ETag/Last-Modified never change and it answers 304 to any
        # conditional request: the kind of host whose validators must stop being trusted.
        self.lying_validators = False
        # Per fault case, how many times it was requested (some cases answer differently).
        self.fault_hits: dict[str, int] = {}
        # Outlets whose template change hides the article body (a consent wall, a script blob).
        self.broken_outlets: set[str] = set()
        # Per A/B-tested article, how many times it was served.
        self.ab_hits: dict[str, int] = {}
        # Test hooks by fault name: run by that fault's handler before it answers (faults.py).
        self.hooks: dict[str, Any] = {}
        self._servers: list[_Server] = []
        self._threads: list[threading.Thread] = []

    # --- lifecycle -----------------------------------------------------------------------
    def start(self) -> Newsroom:
        for _attempt in range(20):
            try:
                self._bind_all(self.requested_port)
                break
            except OSError:
                self._close_servers()
                if self.requested_port:
                    raise
        else:  # pragma: no cover - 20 collisions in a row
            raise OSError("could not find a port free on every newsroom address")
        for server in self._servers:
            thread = threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.1}, daemon=True)
            thread.start()
            self._threads.append(thread)
        return self

    def _bind_all(self, port: int) -> None:
        for outlet in OUTLETS.values():
            server = _Server((outlet.host, port), self, outlet)
            self._servers.append(server)
            port = server.server_address[1]
        self.port = port

    def _close_servers(self) -> None:
        for server in self._servers:
            server.server_close()
        self._servers = []

    def stop(self) -> None:
        for server in self._servers:
            server.shutdown()
        self._close_servers()
        for thread in self._threads:
            thread.join(timeout=5)
        self._threads = []

    def __enter__(self) -> Newsroom:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()

    # --- addresses -------------------------------------------------------------------------
    def url(self, outlet_key: str, path: str = "/") -> str:
        return f"http://{OUTLETS[outlet_key].host}:{self.port}{path}"

    def article_url(self, key: str) -> str:
        article = self.articles[key]
        return self.url(article.outlet, article.path)

    @property
    def story_slug(self) -> str:
        return STORY_SLUG

    @property
    def story_title(self) -> str:
        return STORY_TITLE

    def story_urls(self) -> list[str]:
        """The story's coverage: every related article of every outlet (canonical URLs)."""
        return [self.article_url(key) for key in self.story_keys]

    def second_hop_urls(self) -> list[str]:
        """Coverage linked only from an article a feed lists: it joins a pass after that one."""
        return [self.article_url(key) for key in self.second_hop_keys]

    def unrelated_urls(self) -> list[str]:
        return [self.article_url(k) for k, a in self.articles.items() if a.listed and not a.in_story]

    def seed_url(self) -> str:
        """The Ledger's water-sale article: where the story starts."""
        return self.url("ledger", LEDGER_PATH)

    def feed_url(self, outlet_key: str) -> str:
        return self.url(outlet_key, FEED_PATHS[outlet_key])

    def sitemap_url(self) -> str:
        return self.url("ledger", SITEMAP_INDEX_PATH)

    def listed(self, outlet_key: str) -> list[Article]:
        """The articles an outlet's feed and sitemaps list."""
        return [a for a in self.articles_of(outlet_key) if a.listed]

    def generated_urls(self) -> list[str]:
        return [self.article_url(key) for key in self.generated_keys]

    # --- content -----------------------------------------------------------------------------
    def articles_of(self, outlet_key: str) -> list[Article]:
        with self.lock:
            return [a for a in self.articles.values() if a.outlet == outlet_key]

    def index_page(self, outlet_key: str, path: str) -> tuple[str | None, list[Article]] | None:
        """(title, articles) of an outlet's index page at ``path``: its front page, a section
        (/metro/), a topic (/topics/water-utility/) or an author (/by/mara-ellison); None if
        there is none there."""
        articles = [a for a in self.articles_of(outlet_key) if a.listed or a.in_story]
        if path == "/":
            return None, articles
        if path == "/topics/water-utility/":
            return "Water utility", [a for a in articles if a.in_story]
        if path.startswith("/by/"):
            named = [a for a in articles if path[4:] in {n.lower().replace(" ", "-") for n in a.current.authors}]
            return (named[0].current.authors[0], named) if named else None
        sections = {f"/{a.section.lower()}/": a.section for a in articles}
        if path in sections:
            return sections[path], [a for a in articles if f"/{a.section.lower()}/" == path]
        return None

    def find(self, outlet_key: str, path: str) -> Article | None:
        with self.lock:
            return self.articles.get(f"{outlet_key}:{path}")

    def key_for(self, url: str) -> str:
        for key in self.articles:
            if self.article_url(key) == url:
                return key
        raise KeyError(url)

    def publish(self, key: str | None = None) -> Revision:
        """Reveal the next scripted revision (by default, the first article that has one)."""
        with self.lock:
            if key is None:
                key = next(k for k, a in self.articles.items() if a.scripted)
            article = self.articles[key]
            if not article.scripted:
                raise ValueError(f"{key} has no scripted revision left")
            revision = article.scripted.pop(0)
            article.revisions.append(revision)
            return revision

    def next_ab_variant(self, article: Article) -> Article:
        """The article as this request sees it: the next of its A/B-tested headlines."""
        with self.lock:
            hits = self.ab_hits.get(article.key, 0)
            self.ab_hits[article.key] = hits + 1
        headline = article.ab_headlines[hits % len(article.ab_headlines)]
        return replace(article, revisions=[replace(article.current, headline=headline)])

    def revise(self, key: str, **changes: Any) -> Revision:
        """Publish an edit of the current revision (headline=..., paragraphs=..., ...)."""
        with self.lock:
            article = self.articles[key]
            revision = replace(article.current, **changes)
            article.revisions.append(revision)
            return revision
