"""palimpsest's crawler: the Scrapy project, extraction and the command line."""

__version__ = "0.1.0"
