"""palimpsest's Python API, for analysis jobs that prefer code over export files.

::

    from palimpsest import Archive

    with Archive.open() as archive:          # PALIMPSEST_DATABASE_URL / sqlite:///palimpsest.db, read-only
        batch = archive.versions(since=saved_cursor)
        for row in batch:                    # dicts, schema "palimpsest.export/2" (docs/export.md)
            ...
        saved_cursor = batch.cursor          # only once the batch was read to the end
        archive.history("https://example.com/news/a")
        archive.diff("https://example.com/news/a")   # schema "palimpsest.diff/1"
"""

from __future__ import annotations

from importlib import import_module
from typing import Any

__version__ = "0.1.0"

# Names of the API and the module that defines each. Imported on first use, so that
# ``import palimpsest.crawler.settings`` (Scrapy) or ``palimpsest --version`` do not load the
# database layer.
_EXPORTS = {
    "Archive": "palimpsest.archive",
    "ExportBatch": "palimpsest.archive",
    "DatabaseURLError": "palimpsest.storage.db",
    "FIELDS": "palimpsest.storage.export",
    "SCHEMA": "palimpsest.storage.export",
    "CursorError": "palimpsest.storage.export",
    "StoryNotFound": "palimpsest.storage.export",
    "ArticleNotFound": "palimpsest.storage.history",
    "ArchiveNotFound": "palimpsest.storage.opening",
    "NotAnArchive": "palimpsest.storage.opening",
    "VersionNotFound": "palimpsest.storage.history",
}

__all__ = [
    "FIELDS",
    "SCHEMA",
    "Archive",
    "ArchiveNotFound",
    "ArticleNotFound",
    "CursorError",
    "DatabaseURLError",
    "ExportBatch",
    "NotAnArchive",
    "StoryNotFound",
    "VersionNotFound",
]


def __getattr__(name: str) -> Any:
    if name in _EXPORTS:
        return getattr(import_module(_EXPORTS[name]), name)
    raise AttributeError(f"module 'palimpsest' has no attribute {name!r}")
