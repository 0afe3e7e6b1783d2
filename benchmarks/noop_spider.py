"""The baseline crawler: a Scrapy spider that fetches the URLs and does nothing with them.

python -m benchmarks.noop_spider URLS_FILE [-s NAME=VALUE]...   # prints {"pages": n, "seconds": s}
"""

from __future__ import annotations

import json
import sys
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

from scrapy import Request, Spider
from scrapy.crawler import AsyncCrawlerProcess


class NoopSpider(Spider):
    name = "noop"

    def __init__(self, urls: list[str], **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.urls = urls

    async def start(self) -> AsyncIterator[Request]:
        for url in self.urls:
            yield Request(url, callback=self.parse, dont_filter=True)

    def parse(self, response: Any) -> None:
        return None


def main() -> None:
    urls = Path(sys.argv[1]).read_text().split()
    # Stock Scrapy, but for the log and, as palimpsest does, asking robots.txt first.
    settings: dict[str, Any] = {"LOG_ENABLED": False, "TELNETCONSOLE_ENABLED": False, "ROBOTSTXT_OBEY": True}
    for pair in sys.argv[3::2]:  # after each -s
        key, _, raw = pair.partition("=")
        settings[key] = raw
    process = AsyncCrawlerProcess(settings)
    crawler = process.create_crawler(NoopSpider)
    process.crawl(crawler, urls=urls)
    process.start()
    stats = crawler.stats.get_stats()
    pages = stats.get("response_received_count", 0) - 1  # robots.txt is not a page
    print(json.dumps({"pages": pages, "seconds": stats["elapsed_time_seconds"]}))


if __name__ == "__main__":
    main()
