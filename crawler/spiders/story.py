"""One pass of ``palimpsest run``: poll due sources, fetch candidates, re-check due articles.

The pass's work is computed from the database before the crawl (``crawler.plans.pass_work``);
the spider routes: feeds and sitemaps become ``SourcePolled`` items, article pages become
``FetchedPage`` items. A story member's page carries the ids of its stories
(``links_for``), so the discovery pipeline turns its in-text links (found by extraction) into
candidates: one hop, never from a candidate's own page.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterable, Iterator
from datetime import UTC, datetime
from typing import Any

from scrapy import Request
from scrapy.http import Response
from twisted.python.failure import Failure

from palimpsest.crawler.claim_check import ClaimLost
from palimpsest.crawler.discovery.feeds import NotAFeed, parse_feed
from palimpsest.crawler.discovery.sitemaps import NotASitemap, parse_sitemap
from palimpsest.crawler.items import SourcePolled
from palimpsest.crawler.plans import PassWork
from palimpsest.crawler.spiders.article import (
    HANDLED_STATUSES,
    ArticleSpider,
    describe_failure,
    headers_as_dict,
    headers_as_list,
)

MAX_SITEMAP_DEPTH = 2


def claimed(request: Request, work: Any) -> Request:
    """A request for claimed work carries its claim (checked before it is sent, see
    crawler.frontier) and goes through the shared duplicate filter, keyed by the claim."""
    if work.claim is None:
        return request
    request.meta["palimpsest_claim"] = work.claim
    return request.replace(dont_filter=False)


class StorySpider(ArticleSpider):
    name = "story"

    def __init__(self, work: PassWork | None = None, story: str | None = None, **kwargs: Any) -> None:
        super().__init__(story=story, **kwargs)
        self.work = work

    async def start(self) -> AsyncIterator[Request]:
        if self.work is None:  # `scrapy crawl story [-a story=SLUG]`: compute the pass here
            from palimpsest.crawler.plans import load_pass_work

            self.work = load_pass_work(self.settings, story_slug=self.story)
        requests = self.work_requests(self.work)
        if self.settings.getbool("PALIMPSEST_CLAIMS"):
            # Many workers: into the shared queue at once, for any worker to take (yielded,
            # they would be pulled only as fast as this worker's downloader frees a slot).
            for request in requests:
                self.crawler.engine.crawl(request)
            return
        for request in requests:
            yield request

    def work_requests(self, work: PassWork) -> Iterator[Request]:
        for source in work.sources:
            yield claimed(self.source_request(source.url, source.id, source.story_id, source.kind, source.plan), source)
        for seed in work.seeds:
            request = self.request_for(
                seed.url, {"story": seed.story_slug, "how": "seed"}, palimpsest_links_for=list(seed.story_ids)
            )
            yield claimed(request, seed)
        for article in work.articles:
            yield claimed(self.recheck_request(article.url, article.plan, article.story_ids), article)
        for candidate in work.candidates:
            yield claimed(self.candidate_request(candidate.url, candidate.story_slug, candidate.how), candidate)

    # --- requests -------------------------------------------------------------------------
    def source_request(
        self, url: str, source_id: int, story_id: int, kind: str, plan: dict[str, Any] | None = None, depth: int = 0
    ) -> Request:
        return Request(
            url,
            callback=self.parse_source,
            errback=self.source_failed,
            dont_filter=True,
            meta={
                "handle_httpstatus_list": HANDLED_STATUSES,
                "palimpsest_source": (source_id, story_id, kind, depth),
                "palimpsest_plan": dict(plan or {}),
            },
        )

    def recheck_request(self, url: str, plan: dict[str, Any], story_ids: Iterable[int]) -> Request:
        return self.request_for(url, {**plan, "story": None}, palimpsest_links_for=list(story_ids))

    def candidate_request(self, url: str, story_slug: str, how: str, candidate_url: str | None = None) -> Request:
        """Fetch ``url`` as the source wrote it; ``candidate_url`` is its normalised identity."""
        return self.request_for(url, {"story": story_slug, "how": how}, palimpsest_candidate_url=candidate_url or url)

    # --- sources ----------------------------------------------------------------------------
    def parse_source(self, response: Response) -> Iterable[Any]:
        source_id, story_id, kind, depth = response.meta["palimpsest_source"]
        headers = headers_as_dict(headers_as_list(response.headers))
        polled = SourcePolled(
            source_id=source_id,
            story_id=story_id,
            url=response.url,
            fetched_at=datetime.now(UTC),
            status=response.status,
            etag=headers.get("etag"),
            last_modified=headers.get("last-modified"),
            record_poll=depth == 0,
        )
        if response.status == 304:
            yield polled
            return
        if response.status != 200:
            polled.error = f"HTTP {response.status}"
            yield polled
            return
        try:
            if kind == "feed":
                polled.found = parse_feed(response.body, response.url)
            else:
                sitemap = parse_sitemap(response.body, response.url)
                polled.found = sitemap.candidates
                if depth < MAX_SITEMAP_DEPTH:
                    for child in sitemap.sitemaps:
                        yield self.source_request(child, source_id, story_id, kind, None, depth + 1)
        except (NotAFeed, NotASitemap) as exc:
            polled.error = f"not a {kind}: {exc}"
        yield polled

    def source_failed(self, failure: Failure) -> Iterable[SourcePolled]:
        if failure.check(ClaimLost):
            return  # another worker does this poll now
        request = failure.request  # type: ignore[attr-defined]
        source_id, story_id, _kind, depth = request.meta["palimpsest_source"]
        _outcome, reason = describe_failure(failure, request.meta.get("download_timeout"))
        yield SourcePolled(
            source_id=source_id,
            story_id=story_id,
            url=request.url,
            fetched_at=datetime.now(UTC),
            error=reason,
            record_poll=depth == 0,
        )
