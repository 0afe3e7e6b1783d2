"""Scrapy settings for palimpsest: polite by default, every own setting documented here.

Own settings carry the ``PALIMPSEST_`` prefix and can also be set in the environment; the
command line (``--db``, ``--archive``, ``-s NAME=VALUE``) overrides both. Every value is
checked at start (``crawler/configuration.py``): a new setting declared here is checked by its
default's type with no extra code; bounds and choices go in ``configuration.RULES``.
"""

from __future__ import annotations

import os

from palimpsest import __version__
from palimpsest.crawler.configuration import from_environment

BOT_NAME = "palimpsest"
SPIDER_MODULES = ["palimpsest.crawler.spiders"]
NEWSPIDER_MODULE = "palimpsest.crawler.spiders"

# --- Politeness: an anonymous client that says who it is and obeys the site ----------------
USER_AGENT = f"palimpsest/{__version__} (news archiver; +https://github.com/palimpsest-archive/palimpsest)"
ROBOTSTXT_OBEY = True
# No cookies: a metered paywall counts articles per cookie; we are always a first visit and
# never accumulate a reader identity.
COOKIES_ENABLED = False
CONCURRENT_REQUESTS = 16
CONCURRENT_REQUESTS_PER_DOMAIN = 2
DOWNLOAD_DELAY = 0.5
AUTOTHROTTLE_ENABLED = True
AUTOTHROTTLE_START_DELAY = 1.0
AUTOTHROTTLE_MAX_DELAY = 60.0
AUTOTHROTTLE_TARGET_CONCURRENCY = 1.0
RETRY_ENABLED = True
RETRY_TIMES = 2
RETRY_HTTP_CODES = [500, 502, 503, 504, 522, 524, 408, 429]
DOWNLOAD_TIMEOUT = 30
# A news page is well under a few MB; anything bigger is not an article and is not loaded.
DOWNLOAD_MAXSIZE = 10 * 1024 * 1024
DOWNLOAD_WARNSIZE = 5 * 1024 * 1024
REDIRECT_MAX_TIMES = 10
TELNETCONSOLE_ENABLED = False
LOG_LEVEL = "INFO"
# Items processed in parallel per response. A page yields one item; Scrapy's default (100)
# starts 100 asyncio tasks for every response, a fifth of the crawling process's CPU on a
# re-crawl. Parallelism comes from the requests in flight instead.
CONCURRENT_ITEMS = 4

ITEM_PIPELINES = {
    # Extraction first: its worker also builds the WARC records the archive appends.
    "palimpsest.crawler.pipelines.ExtractPipeline": 300,
    "palimpsest.crawler.pipelines.ArchivePipeline": 350,
    "palimpsest.crawler.pipelines.StorePipeline": 800,
    "palimpsest.crawler.pipelines.DiscoveryPipeline": 900,
}
DOWNLOADER_MIDDLEWARES = {
    # With many workers: renew this request's claim, or drop it if another worker has the
    # check now (crawler.claim_check; off unless PALIMPSEST_CLAIMS).
    "palimpsest.crawler.claim_check.ClaimCheckMiddleware": 40,
    # First of all (before robots.txt, 100): nothing is sent to a private address.
    "palimpsest.crawler.addresses.AddressGuardMiddleware": 50,
    "palimpsest.crawler.middlewares.ConditionalRequestMiddleware": 560,
    # Sees responses before RetryMiddleware (550), so a Retry-After is honoured, not raced.
    "palimpsest.crawler.middlewares.RetryAfterMiddleware": 555,
    # Scrapy's meta-refresh handling decodes every page to look for a tag few pages have; this
    # one looks for the bytes first.
    "scrapy.downloadermiddlewares.redirect.MetaRefreshMiddleware": None,
    "palimpsest.crawler.middlewares.MetaRefreshMiddleware": 580,
}
EXTENSIONS = {
    "palimpsest.crawler.runner.SettingsCheck": 0,
    "palimpsest.crawler.report.CrawlReport": 500,
}

# --- palimpsest's own settings ---------------------------------------------------------------
# Where the archive's rows go. SQLite (embedded, one machine) or PostgreSQL (shared).
PALIMPSEST_DATABASE_URL = "sqlite:///palimpsest.db"
# Where the raw captures (WARC files) go.
PALIMPSEST_ARCHIVE_DIR = "archive"
# WARC files: a new file once the current one passes this size; names start with the prefix.
PALIMPSEST_WARC_MAX_SIZE = 100 * 1024 * 1024
PALIMPSEST_WARC_PREFIX = "palimpsest"
# Addresses the crawler may reach although they are not public: "true" for all, or networks
# ("127.0.0.0/8,10.1.0.0/16"). Default: none (see crawler/addresses.py).
PALIMPSEST_ALLOW_PRIVATE_ADDRESSES = ""
# What the WARC archive gets for an unchanged re-check (the same payload again, or a 304):
# "revisit" (a revisit record, as WARC tools expect; ~450 bytes) or "none" (the capture row
# alone records the check; the payload is archived already, and `capture --raw` finds it).
PALIMPSEST_WARC_UNCHANGED = "revisit"
# Re-checks send If-None-Match / If-Modified-Since (never to outlets whose validators lied).
PALIMPSEST_CONDITIONAL_REQUESTS = True
# Every Nth unchanged re-check is sent unconditionally, to catch servers whose 304s lie.
PALIMPSEST_VERIFY_EVERY = 8
# Retry-After up to this many seconds is waited for within the crawl; longer ones move the
# article's next check instead.
PALIMPSEST_RETRY_AFTER_MAX = 60
# When the database goes away (a restart), storing is retried with back-off for this long;
# then the crawl stops with a message, and pages not stored are fetched again by the next run.
PALIMPSEST_DATABASE_RETRY_SECONDS = 30
# A story source yields at most this many new candidates per poll.
PALIMPSEST_MAX_CANDIDATES_PER_SOURCE = 200
# Re-check schedule (storage/schedule.py), e.g. PALIMPSEST_SCHEDULE_TIERS="3h=15m,1d=1h,7d=3h,30d=1d,90d=7d",
# PALIMPSEST_SCHEDULE_RETIRE_AFTER="90d", PALIMPSEST_SCHEDULE_MIN_INTERVAL="5m" (unset: the defaults).
# --- What a changed text means (storage/revisions.py) ------------------------------------------
# An article reverting to earlier versions at least AB_MIN_REVERTS times within AB_WINDOW_HOURS
# is marked as an A/B test (its variants listed; one feed entry).
PALIMPSEST_AB_WINDOW_HOURS = 24.0
PALIMPSEST_AB_MIN_REVERTS = 2
# A capture is "suspect" (no version until a second check sees the same text) when its text has
# fewer words than this share of the current version's and the page shows no paywall ...
PALIMPSEST_SUSPECT_TEXT_RATIO = 0.5
# ... or when, under the same headline, less than this share of the body's words remain.
PALIMPSEST_SUSPECT_BODY_OVERLAP = 0.2
# Current texts shorter than this (briefs, stubs) are never judged suspect.
PALIMPSEST_SUSPECT_MIN_WORDS = 40
# --- Outlet health alerts (storage/outlet_health.py; `palimpsest health`, /health) -------------
# "length": median words per new version this week below this share of the weeks before.
PALIMPSEST_HEALTH_LENGTH_RATIO = 0.5
# "failures": this many of the outlet's latest captures failed in a row.
PALIMPSEST_HEALTH_FAILURES_IN_A_ROW = 3
# "paywall": a free outlet (at most PAYWALL_BEFORE share paywalled before) turns paywalled
# (at least PAYWALL_NOW share this week).
PALIMPSEST_HEALTH_PAYWALL_BEFORE = 0.1
PALIMPSEST_HEALTH_PAYWALL_NOW = 0.5
# Share-based alerts need at least this many captures this week.
PALIMPSEST_HEALTH_MIN_CAPTURES = 3
# Extraction worker processes (at least 1: pages are never extracted in the crawling process).
PALIMPSEST_EXTRACT_WORKERS = os.cpu_count() or 1
# Each page's extraction budget: a worker past this many seconds is killed and replaced, and
# the page is an `error` capture ("extraction took longer than 20 s"); likewise past this many
# MB of memory on top of what the worker holds before the page (crawler/workers.py).
PALIMPSEST_EXTRACT_TIME_LIMIT = 20.0
PALIMPSEST_EXTRACT_MEMORY_MB = 512
# Captures stored per database transaction (group commit); a smaller batch commits sooner.
PALIMPSEST_STORE_BATCH = 200
# A line per fetched page on stderr while a crawl runs.
PALIMPSEST_PROGRESS = True
# `palimpsest backfill`: the Wayback CDX server asked by default (--cdx overrides it), and the
# pause between two requests to it, in seconds (--delay overrides it; a Retry-After is obeyed too).
PALIMPSEST_BACKFILL_CDX = "https://web.archive.org/cdx/search/cdx"
PALIMPSEST_BACKFILL_DELAY = 1.0
# --- Many workers (`palimpsest run --redis`, crawler.frontier) --------------------------------
# Set by `run --redis`: due work is claimed in the database before it is queued.
PALIMPSEST_CLAIMS = False
# How long a claim holds: a dead worker's checks are taken over after this. Keep it well
# above DOWNLOAD_TIMEOUT plus the time a page waits to be stored.
PALIMPSEST_CLAIM_LEASE_SECONDS = 300
# How many checks of each kind (articles, sources, candidates) a worker claims per pass.
PALIMPSEST_CLAIM_BATCH = 200

# --- The environment ---------------------------------------------------------------------------
# PALIMPSEST_* variables override the defaults above, so `scrapy crawl` and `palimpsest` see the
# same settings. A bad value is left out here and reported at start, in one line naming it
# (`palimpsest` checks before it runs anything; `scrapy crawl` in crawler.runner.SettingsCheck).
globals().update(from_environment(dict(globals()), os.environ, lenient=True))
