"""What Scrapy runs: settings, spiders, pipelines, middlewares, extensions, and what they need
(extraction, discovery, the WARC writer, the extraction worker pool, the address guard)."""
