"""palimpsest's Python API, for analysis jobs that prefer code over export files.

::

    from palimpsest import Archive

    with Archive.open() as archive:          # --db / PALIMPSEST_DATABASE_URL / sqlite:///palimpsest.db
        batch = archive.versions(since=saved_cursor)
        for row in batch:                    # dicts, schema "palimpsest.export/1" (docs/export.md)
            ...
        saved_cursor = batch.cursor          # only once the batch was read to the end
        archive.history("https://example.com/news/a")
        archive.diff("https://example.com/news/a")   # schema "palimpsest.diff/1"
"""

from palimpsest.archive import Archive, ExportBatch
from storage.db import DatabaseURLError
from storage.export import FIELDS, SCHEMA, CursorError, StoryNotFound
from storage.history import ArticleNotFound, VersionNotFound

__all__ = [
    "FIELDS",
    "SCHEMA",
    "Archive",
    "ArticleNotFound",
    "CursorError",
    "DatabaseURLError",
    "ExportBatch",
    "StoryNotFound",
    "VersionNotFound",
]
