"""The export cursor never skips and never repeats, even when PostgreSQL transactions commit out
of id order (the case a naive ``id > last_id`` cursor gets wrong)."""

from __future__ import annotations

import random
import threading
import time
from datetime import timedelta

import pytest
from sqlalchemy import select, text, update

from palimpsest.storage.db import make_engine, make_session_factory
from palimpsest.storage.export import snapshot_session, start_export
from palimpsest.storage.migrate import ensure_schema
from palimpsest.storage.models import Version
from tests.test_export import T0, add_version, commit_version

pytestmark = pytest.mark.postgres


@pytest.fixture
def pg(postgres_url):
    """(engine, writer sessions) on a migrated PostgreSQL database of its own."""
    engine = make_engine(postgres_url, pool_size=12)
    ensure_schema(engine)
    yield engine, make_session_factory(engine)
    engine.dispose()


def export_ids(engine, since: str | None = None) -> tuple[list[int], str]:
    with snapshot_session(engine) as session:
        export = start_export(session, since)
        ids = [row["version_id"] for row in export.rows]
    return ids, export.next_cursor


def test_txid_is_the_top_level_transaction_even_inside_a_savepoint(pg):
    engine, sessions = pg
    commit_version(sessions, "https://example.com/seed", "Seed.")  # the outlet exists
    with sessions() as session, session.begin():
        assert session.scalar(text("SELECT pg_current_xact_id_if_assigned()")) is None
        with session.begin_nested():  # the first write of the transaction happens in a savepoint
            version_id = add_version(session, "https://example.com/a", "Written in a savepoint.")
        top = session.scalar(text("SELECT pg_current_xact_id()::text::bigint"))
        txid, row_xmin = session.execute(
            text("SELECT txid, xmin::text::bigint FROM versions WHERE id = :id"), {"id": version_id}
        ).one()
    assert txid == top
    # The row's xmin is the subtransaction's xid, which snapshots do not list: storing it
    # instead would make a version look visible while its transaction is still open.
    assert row_xmin != top


def test_out_of_order_commit_is_delivered_once_where_a_naive_cursor_loses_it(pg):
    engine, sessions = pg
    seed = commit_version(sessions, "https://example.com/seed", "Seed.")  # the outlet exists
    _, cursor = export_ids(engine)

    with sessions() as slow:
        slow.begin()
        a = add_version(slow, "https://example.com/a", "Transaction A: lower id, commits last.")
        b = commit_version(sessions, "https://example.com/b", "Transaction B: higher id, commits first.")
        assert a < b

        first, cursor = export_ids(engine, cursor)
        assert first == [b]  # A is not committed: not visible, not delivered
        naive_last_id = max(first)

        slow.commit()
    second, cursor = export_ids(engine, cursor)
    assert second == [a]  # delivered now, exactly once
    assert export_ids(engine, cursor)[0] == []

    # A naive cursor would have moved past A before A committed, and never looked back.
    with sessions() as session:
        naive_next = session.scalars(select(Version.id).where(Version.id > naive_last_id)).all()
    assert a not in naive_next and naive_next == []
    assert sorted([seed, *first, *second]) == [seed, a, b]


def test_rows_without_txid_predate_cursors(pg):
    """NULL txid (rows written before migration 0003) counts as visible to every snapshot."""
    engine, sessions = pg
    old = commit_version(sessions, "https://example.com/old", "Archived before the migration.")
    with sessions() as session, session.begin():
        session.execute(update(Version).where(Version.id == old).values(txid=None))
    everything, cursor = export_ids(engine)
    assert everything == [old]
    new = commit_version(sessions, "https://example.com/new", "Archived after.")
    assert export_ids(engine, cursor)[0] == [new]


def test_concurrent_writers_and_a_polling_exporter(pg):
    """Writers hold their transactions open for random times, so commits land out of id order,
    while an exporter polls with the running cursor. Every version arrives exactly once."""
    engine, sessions = pg
    seed = commit_version(sessions, "https://example.com/seed", "Seed.")
    writers, per_writer = 6, 10
    written: list[int] = []
    commit_order: list[int] = []
    lock = threading.Lock()
    errors: list[BaseException] = []
    done = threading.Event()

    def writer(number: int) -> None:
        rng = random.Random(1000 + number)
        try:
            for n in range(per_writer):
                with sessions() as session, session.begin():
                    version_id = add_version(
                        session,
                        f"https://example.com/w{number}/{n}",
                        f"Writer {number}, article {n}.",
                        at=T0 + timedelta(seconds=n),
                    )
                    time.sleep(rng.uniform(0, 0.03))  # hold the id uncommitted for a while
                with lock:
                    written.append(version_id)
                    commit_order.append(version_id)
        except BaseException as exc:  # reported by the main thread
            errors.append(exc)

    batches: list[list[int]] = []
    _, start_cursor = export_ids(engine)  # the seed is delivered before the race starts

    def exporter() -> None:
        cursor = start_cursor
        try:
            deadline = time.monotonic() + 30
            while not done.is_set() and time.monotonic() < deadline:
                ids, cursor = export_ids(engine, cursor)
                batches.append(ids)
                time.sleep(0.003)
            ids, cursor = export_ids(engine, cursor)  # the final poll, after every writer ended
            batches.append(ids)
        except BaseException as exc:
            errors.append(exc)

    threads = [threading.Thread(target=writer, args=(number,)) for number in range(writers)]
    polling = threading.Thread(target=exporter)
    polling.start()
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    done.set()
    polling.join(timeout=60)
    assert not errors, errors
    assert not polling.is_alive() and not any(thread.is_alive() for thread in threads)

    delivered = [version_id for batch in batches for version_id in batch]
    with sessions() as session:
        all_ids = set(session.scalars(select(Version.id)).all())
    assert len(delivered) == len(set(delivered)), "a version was delivered twice"
    assert set(delivered) | {seed} == all_ids, "a version was never delivered"
    assert len(written) == writers * per_writer
    # The race really happened: commits out of id order...
    assert commit_order != sorted(commit_order)
    # ... and (usually) a batch brought ids below an id delivered earlier: the rows an
    # "id > last id" cursor would have lost for good.
    seen_max, late = 0, 0
    for batch in batches:
        late += sum(1 for version_id in batch if version_id < seen_max)
        seen_max = max([seen_max, *batch])
    print(f"{len(batches)} polls; {late} version(s) a naive id cursor would have lost")
