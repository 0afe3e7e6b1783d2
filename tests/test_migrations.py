"""Migrations: one head, a round trip with data present, and models that match the database."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
from alembic.script import ScriptDirectory
from sqlalchemy import inspect, select, text

from palimpsest.storage import migrate
from palimpsest.storage.db import make_engine, make_session_factory
from palimpsest.storage.models import Article, Outlet, Version


def test_single_head():
    heads = ScriptDirectory.from_config(migrate.alembic_config()).get_heads()
    assert len(heads) == 1


def _round_trip(url: str) -> None:
    """Data written at head survives every downgrade step that keeps its tables, and the
    upgrade back; the schema then matches the models again."""
    engine = make_engine(url)
    migrate.upgrade(engine)
    now = datetime(2026, 1, 2, 3, 4, tzinfo=UTC)
    with make_session_factory(engine)() as session, session.begin():
        outlet = Outlet(domain="example.com", name="Example", validators_trusted=False, created_at=now)
        session.add(outlet)
        session.flush()
        article = Article(canonical_url="https://example.com/a", outlet_id=outlet.id, first_seen_at=now)
        session.add(article)
        session.flush()
        session.add(
            Version(
                article_id=article.id,
                seq=1,
                first_seen_at=now,
                last_seen_at=now,
                text="t",
                content_hash="h",
                word_count=1,
                extractor="x",
            )
        )

    revisions = [r.revision for r in ScriptDirectory.from_config(migrate.alembic_config()).walk_revisions()]
    first = revisions[-1]
    for revision in revisions[:-1]:  # newest first, down to the initial schema
        down = ScriptDirectory.from_config(migrate.alembic_config()).get_revision(revision).down_revision
        migrate.downgrade(engine, down)
        with engine.connect() as connection:
            assert connection.execute(text("SELECT count(*) FROM versions")).scalar() == 1
    with engine.connect() as connection:  # 0001 kept the trust flag per article
        assert connection.execute(text("SELECT validators_trusted FROM articles")).scalar() in (False, 0)
    assert migrate.current_revision(engine) == first

    migrate.upgrade(engine)
    assert migrate.check(engine).ok, migrate.check(engine).differences
    with make_session_factory(engine)() as session:
        stored = session.scalars(select(Version)).one()
        assert stored.first_seen_at == now and stored.first_seen_at.tzinfo is not None
        assert session.scalars(select(Outlet)).one().validators_trusted is False

    migrate.downgrade(engine, "base")
    assert "articles" not in inspect(engine).get_table_names()
    engine.dispose()


def test_round_trip_sqlite(sqlite_url):
    _round_trip(sqlite_url)


@pytest.mark.postgres
def test_round_trip_postgres(postgres_url):
    _round_trip(postgres_url)


def test_models_and_migrations_agree(database_url):
    engine = make_engine(database_url)
    migrate.upgrade(engine)
    result = migrate.check(engine)
    assert result.ok, result.differences
    engine.dispose()


def test_sqlite_connections_use_wal_foreign_keys_and_busy_timeout(sqlite_url):
    engine = make_engine(sqlite_url)
    with engine.connect() as connection:
        assert connection.execute(text("PRAGMA journal_mode")).scalar() == "wal"
        assert connection.execute(text("PRAGMA foreign_keys")).scalar() == 1
        assert connection.execute(text("PRAGMA busy_timeout")).scalar() == 30000
    engine.dispose()


def test_naive_datetimes_are_refused(sessions):
    with pytest.raises(Exception, match="naive datetime"), sessions() as session, session.begin():
        session.add(Outlet(domain="x.com", created_at=datetime(2026, 1, 1)))
        session.flush()
