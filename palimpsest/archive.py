"""``Archive``: versions since a cursor, an article's history, a diff, as plain Python data.

The same code paths as the command line (``storage.export``, ``storage.history``), so a row
from ``Archive.versions`` equals a line of ``palimpsest export`` and cursors work in both.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from types import TracebackType
from typing import Any

from sqlalchemy import Engine

from palimpsest.storage.db import make_session_factory, redact, resolve_database_url
from palimpsest.storage.export import BATCH_SIZE, Cursor, Export, decode_cursor, snapshot_session, start_export
from palimpsest.storage.newsedits import start_newsedits_export
from palimpsest.storage.opening import open_for_reading, open_for_writing


class ExportBatch:
    """The versions after a cursor, as row dicts, read lazily in one database snapshot.

    Iterate it once. Then ``cursor`` is the cursor for the next batch; it is refused before
    the batch was read to the end, since passing it on would skip the rows not yet read.
    """

    def __init__(
        self,
        engine: Engine,
        since: Cursor | None,
        story: str | None,
        batch_size: int,
        start: Callable[..., Export] = start_export,
    ) -> None:
        self._engine = engine
        self._start = start  # start_export (versions) or start_newsedits_export (sentence actions)
        self._since = since
        self._story = story
        self._batch_size = batch_size
        self._started = False
        self._cursor: str | None = None
        self.count = 0

    def __iter__(self) -> Iterator[dict[str, Any]]:
        if self._started:
            raise RuntimeError("an ExportBatch is read once; ask archive.versions(since=batch.cursor) for the next")
        self._started = True
        return self._rows()

    def _rows(self) -> Iterator[dict[str, Any]]:
        with snapshot_session(self._engine) as session:
            export = self._start(session, self._since, self._story, batch_size=self._batch_size)
            try:
                for row in export.rows:
                    self.count += 1
                    yield row
            finally:
                export.rows.close()  # stopped early: release the database cursor first
        self._cursor = export.next_cursor

    @property
    def cursor(self) -> str:
        if self._cursor is None:
            raise RuntimeError("the cursor is known once the batch was read to the end")
        return self._cursor


class Archive:
    """An open archive database, read-only. ``Archive.open()`` resolves the URL like the command
    line; close it (or use ``with``) to release connections."""

    def __init__(self, engine: Engine) -> None:
        self.engine = engine
        self._readers = make_session_factory(engine, writes=False)

    @classmethod
    def open(cls, database_url: str | None = None, *, create: bool = False) -> Archive:
        """``database_url``, else ``PALIMPSEST_DATABASE_URL``, else ``sqlite:///palimpsest.db``.

        An archive that is not there raises ``ArchiveNotFound`` (a typo never makes a new
        one) unless ``create``, which makes and migrates it. An existing archive is opened
        read-only, and read-only media are fine; it must be at the current schema
        (``palimpsest db upgrade``), else ``NotAnArchive``."""
        url = resolve_database_url(database_url)
        if create:
            open_for_writing(url, create=True).engine.dispose()
        return cls(open_for_reading(url))

    @property
    def url(self) -> str:
        """The database URL, password hidden."""
        return redact(self.engine.url.render_as_string(hide_password=False))

    def versions(
        self, since: str | None = None, story: str | None = None, *, batch_size: int = BATCH_SIZE
    ) -> ExportBatch:
        """Versions after ``since`` (a cursor from an earlier batch or ``palimpsest export``; None:
        all), optionally of one story's articles. A malformed cursor raises CursorError now; a
        cursor of the other backend or an unknown story (StoryNotFound) when iteration starts."""
        return ExportBatch(self.engine, decode_cursor(since) if since is not None else None, story, batch_size)

    def sentence_actions(
        self, since: str | None = None, story: str | None = None, *, batch_size: int = BATCH_SIZE
    ) -> ExportBatch:
        """The sentence actions of the versions after ``since`` (the same cursors as
        ``versions``): rows of schema "palimpsest.newsedits/1", as ``export --format newsedits``."""
        since_cursor = decode_cursor(since) if since is not None else None
        return ExportBatch(self.engine, since_cursor, story, batch_size, start=start_newsedits_export)

    def _article(self, session: Any, url: str) -> Any:
        from palimpsest.crawler.extract.urls import normalise_url
        from palimpsest.storage.history import find_article

        return find_article(session, [normalise_url(url), url])

    def history(self, url: str) -> dict[str, Any]:
        """An article's versions and capture summary (``palimpsest history --json``); any URL
        variant finds it. Raises ArticleNotFound."""
        from palimpsest.storage.history import history_of

        with self._readers() as session:
            return history_of(session, self._article(session, url)).as_dict()

    def diff(self, url: str, from_seq: int | None = None, to_seq: int | None = None) -> dict[str, Any]:
        """What changed between two versions (default: the last two), schema "palimpsest.diff/1"
        with "url", "from" and "to" beside it. Raises ArticleNotFound or VersionNotFound."""
        from palimpsest.storage.history import compare_versions, diff_payload

        with self._readers() as session:
            return diff_payload(compare_versions(session, self._article(session, url), from_seq, to_seq))

    def close(self) -> None:
        self.engine.dispose()

    def __enter__(self) -> Archive:
        return self

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, traceback: TracebackType | None
    ) -> None:
        self.close()

    def __repr__(self) -> str:
        return f"<palimpsest.Archive {self.url}>"
