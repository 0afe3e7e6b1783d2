"""The Python API (``palimpsest.Archive``): versions since a cursor, history, diff."""

from __future__ import annotations

from datetime import timedelta

import pytest

from palimpsest import SCHEMA, Archive, ArticleNotFound, CursorError, StoryNotFound, VersionNotFound
from tests.test_export import T0, commit_version


def test_versions_history_and_diff(sessions, database_url):
    a1 = commit_version(sessions, "https://example.com/a", "The council met on Monday.", story="council")
    a2 = commit_version(
        sessions, "https://example.com/a", "The council met on Tuesday.", at=T0 + timedelta(hours=1), story="council"
    )
    b1 = commit_version(sessions, "https://example.com/b", "Another outlet's take.")

    with Archive.open(database_url) as archive:
        batch = archive.versions()
        with pytest.raises(RuntimeError, match="read to the end"):
            _ = batch.cursor  # not before every row was read
        rows = list(batch)
        assert [row["version_id"] for row in rows] == [a1, a2, b1]
        assert all(row["schema"] == SCHEMA for row in rows) and batch.count == 3
        cursor = batch.cursor
        with pytest.raises(RuntimeError, match="read once"):
            list(batch)

        assert list(archive.versions(since=cursor)) == []
        c1 = commit_version(sessions, "https://example.com/c", "Late news.", story="council")
        newer = archive.versions(since=cursor)
        assert [row["version_id"] for row in newer] == [c1]
        assert [row["version_id"] for row in archive.versions(since=cursor, story="council")] == [c1]
        assert [row["version_id"] for row in archive.versions(story="council")] == [a1, a2, c1]

        history = archive.history("https://example.com/a?utm_source=feed")  # any URL variant
        assert history["url"] == "https://example.com/a"
        assert [v["seq"] for v in history["versions"]] == [1, 2]
        assert history["versions"][1]["change_kinds"] == ["lede"]

        diff = archive.diff("https://example.com/a")
        assert diff["schema"] == "palimpsest.diff/1" and diff["kinds"] == ["lede"]
        assert (diff["from"]["seq"], diff["to"]["seq"]) == (1, 2)
        assert diff["fields"]["body"]["new"] == "The council met on Tuesday."
        assert archive.diff("https://example.com/a", from_seq=2, to_seq=1)["kinds"] == ["lede"]

        with pytest.raises(ArticleNotFound):
            archive.history("https://example.com/never-seen")
        with pytest.raises(VersionNotFound):
            archive.diff("https://example.com/b")
        with pytest.raises(CursorError):
            archive.versions(since="not-a-cursor")
        with pytest.raises(StoryNotFound):
            list(archive.versions(story="no-such-story"))
        foreign = "v1.id.1" if database_url.startswith("postgresql") else "v1.pg.5.5"
        with pytest.raises(CursorError, match="comes from a"):
            list(archive.versions(since=foreign))


def test_cursors_are_shared_with_the_command_line(sessions, database_url, cli):
    commit_version(sessions, "https://example.com/a", "One.")
    exported = cli("export", check=True)
    cursor = exported.stderr.strip().splitlines()[-1].removeprefix("next cursor: ")
    new = commit_version(sessions, "https://example.com/b", "Two.")
    with Archive.open(database_url) as archive:
        batch = archive.versions(since=cursor)
        assert [row["version_id"] for row in batch] == [new]
    assert cli("export", "--since", batch.cursor, check=True).stdout == ""


def test_open_resolves_the_url_like_the_command_line(sessions, database_url, monkeypatch):
    version_id = commit_version(sessions, "https://example.com/a", "One.")
    monkeypatch.setenv("PALIMPSEST_DATABASE_URL", database_url)
    archive = Archive.open()
    try:
        assert [row["version_id"] for row in archive.versions()] == [version_id]
        assert "palimpsest.Archive" in repr(archive)
    finally:
        archive.close()


def test_open_never_creates_an_archive_unless_asked(tmp_path):
    from palimpsest import ArchiveNotFound

    typo = tmp_path / "typo.db"
    with pytest.raises(ArchiveNotFound, match="no archive at"):
        Archive.open(f"sqlite:///{typo}")
    assert not typo.exists()
    with pytest.raises(ArchiveNotFound):
        Archive.open(f"sqlite:///{tmp_path / 'no-such-folder' / 'a.db'}")
    assert not (tmp_path / "no-such-folder").exists()

    with Archive.open(f"sqlite:///{tmp_path / 'new.db'}", create=True) as archive:
        batch = archive.versions()
        assert list(batch) == [] and batch.cursor == "v1.id.0"
    with Archive.open(f"sqlite:///{tmp_path / 'new.db'}") as archive:  # there now
        assert list(archive.versions()) == []


def test_a_batch_left_early_gives_no_cursor(sessions, database_url):
    for n in range(3):
        commit_version(sessions, f"https://example.com/{n}", f"Article {n}.")
    with Archive.open(database_url) as archive:
        batch = archive.versions(batch_size=2)
        rows = iter(batch)
        assert next(rows)["seq"] == 1
        rows.close()  # the job stopped reading: its database cursor is released
        with pytest.raises(RuntimeError):
            _ = batch.cursor
        assert len(list(archive.versions())) == 3
